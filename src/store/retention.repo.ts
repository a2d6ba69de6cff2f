import { sql, type Kysely } from 'kysely'
import { ENDED_RUN_STATUSES } from '../engine/run-status.ts'
import { addToCounter, EVENTS_PRUNED } from './metrics.repo.ts'
import type { Database } from './tables.ts'

/** Rows deleted per statement: each batch is a short transaction, so pruning never holds up the engine for long. */
export const PRUNE_BATCH = 1000

/**
 * Deletes ended runs (completed, exited, failed, cancelled) that ended before `cutoff`, with their
 * steps and any correlation left behind, a batch per transaction. Kept whatever their age: every
 * run under way, and each customer's latest run of a workflow, which re-entry (`once`,
 * `once_per`) reads to decide whether the customer may start it again. Outbox messages, invoices,
 * discount codes and attributions a run made are the store's records and stay.
 */
export async function pruneEndedRuns(db: Kysely<Database>, cutoff: Date, batch = PRUNE_BATCH): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ id: string }>`
        select r.id from runs r
        where r.status in (${sql.join([...ENDED_RUN_STATUSES])}) and r.ended_at < ${cutoff.toISOString()}
          and (
            r.customer_key is null
            or exists (
              select 1 from runs n
              where n.store_id = r.store_id and n.customer_key = r.customer_key and n.workflow_id = r.workflow_id
                and (n.started_at > r.started_at or (n.started_at = r.started_at and n.id > r.id))
            )
          )
        order by r.ended_at
        limit ${batch}`.execute(trx)
      const ids = rows.map((r) => r.id)
      if (ids.length === 0) return 0
      await trx.deleteFrom('run_steps').where('run_id', 'in', ids).execute()
      await trx.deleteFrom('correlations').where('run_id', 'in', ids).execute()
      await trx.deleteFrom('runs').where('id', 'in', ids).execute()
      return ids.length
    })
    total += deleted
    if (deleted < batch) return total
  }
}

/**
 * Deletes events received before `cutoff` that the log no longer needs, a batch per statement:
 * only events behind their store's router (routed: what they cause has happened, the store's view
 * holds them), never the trigger or the awaited signal of a run that still exists (its steps read
 * them), and never a derived event (cart.abandoned, customer.inactive, …), whose stored id is
 * what keeps it from being derived a second time.
 *
 * "Behind the router" is (tx_id, seq) ≤ the router's position (store/event-log.repo.ts).
 */
export async function pruneRoutedEvents(db: Kysely<Database>, cutoff: Date, batch = PRUNE_BATCH): Promise<number> {
  let total = 0
  for (;;) {
    // with the count of what went, so the events ingested (store/metrics.repo.ts) stay a counter
    const deleted = await db.transaction().execute(async (trx) => {
      const result = await sql`
      delete from events where seq in (
        select e.seq from events e inner join event_routers r on r.store_id = e.store_id
        where e.received_at < ${cutoff.toISOString()}
          and (e.tx_id < r.position_tx or (e.tx_id = r.position_tx and e.seq <= r.position_seq))
          and e.source <> 'derived'
          and e.seq not in (select trigger_event_seq from runs)
          and e.seq not in (select signal_event_seq from runs where signal_event_seq is not null)
        order by e.seq
        limit ${batch}
      )`.execute(trx)
      const n = Number(result.numAffectedRows ?? 0)
      await addToCounter(trx, EVENTS_PRUNED, n)
      return n
    })
    total += deleted
    if (deleted < batch) return total
  }
}
