import { sql, type Kysely } from 'kysely'
import { routerBacklog } from './event-log.repo.ts'
import { listWorkers, type WorkerRow } from './workers.repo.ts'
import type { Database } from './tables.ts'

/** Email statuses an outbox row may have (plugin-api services.messages): each is reported, 0 when none. */
export const EMAIL_STATUSES = ['queued', 'sending', 'sent', 'deferred', 'skipped', 'failed', 'bounced'] as const

/** What GET /metrics reports from the database: the same from every process. */
export interface StoredCounts {
  runsByStatus: Array<{ status: string; count: number }>
  runsDue: number
  /** when the oldest run due now and leased by no worker fell due; null when none is */
  oldestDueAt: Date | null
  events: number
  /** every event ever appended to the log: the events stored and those retention deleted */
  eventsIngested: number
  /** accepted and not routed yet: the routers' lag, in events */
  eventsUnrouted: number
  /** when the oldest event not routed yet was received; null when all are routed */
  oldestUnroutedAt: Date | null
  /** outbox emails by status */
  emailsByStatus: Array<{ status: string; count: number }>
  workers: WorkerRow[]
}

export async function storedCounts(db: Kysely<Database>, now: Date): Promise<StoredCounts> {
  const nowIso = now.toISOString()
  const byStatus = await db
    .selectFrom('runs')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute()
  const due = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('due_at', '<=', nowIso)
    // as the gauge says: not yet taken (a run a worker holds is being advanced, not queued)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowIso)]))
    .executeTakeFirstOrThrow()
  // the claim's own condition, in runs_due_idx order: the first row found is the answer
  const oldestDue = await db
    .selectFrom('runs')
    .select('due_at')
    .where('due_at', '<=', nowIso)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowIso)]))
    .orderBy('due_at')
    .limit(1)
    .executeTakeFirst()
  const events = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  const pruned = await db.selectFrom('storeflow_counters').select('value').where('name', '=', EVENTS_PRUNED).executeTakeFirst()
  const emails = await db
    .selectFrom('messages')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('channel', '=', 'email')
    .groupBy('status')
    .execute()
  return {
    runsByStatus: byStatus.map((row) => ({ status: row.status, count: Number(row.n) })),
    runsDue: Number(due.n),
    oldestDueAt: oldestDue?.due_at ? new Date(oldestDue.due_at) : null,
    events: Number(events.n),
    eventsIngested: Number(events.n) + Number(pruned?.value ?? 0),
    eventsUnrouted: await routerBacklog(db),
    oldestUnroutedAt: await oldestUnrouted(db),
    emailsByStatus: emails.map((row) => ({ status: row.status, count: Number(row.n) })),
    workers: await listWorkers(db, now),
  }
}

/** The counter of events retention deleted (storeflow_counters). */
export const EVENTS_PRUNED = 'events_pruned'

/** Adds `n` to a counter of storeflow_counters, in the caller's transaction. */
export async function addToCounter(db: Kysely<Database>, name: string, n: number): Promise<void> {
  if (n === 0) return
  await db
    .insertInto('storeflow_counters')
    .values({ name, value: n })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql`storeflow_counters.value + ${n}` }))
    .execute()
}

/**
 * When the oldest event still ahead of its store's router was received. Said as routerBacklog
 * says "after the position": two index seeks per store, over the backlog only.
 */
async function oldestUnrouted(db: Kysely<Database>): Promise<Date | null> {
  const { rows } = await sql<{ at: string | null }>`
    select min(at) as at from (
      select (select min(e.received_at) from events e where e.store_id = r.store_id and e.tx_id = r.position_tx and e.seq > r.position_seq) as at
      from event_routers r
      union all
      select (select min(e.received_at) from events e where e.store_id = r.store_id and e.tx_id > r.position_tx) as at
      from event_routers r
    ) ahead`.execute(db)
  const at = rows[0]?.at
  return at ? new Date(at) : null
}
