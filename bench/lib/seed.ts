import { sql } from 'kysely'
import { parseEvent } from '../../src/contracts/events.ts'
import type { App } from '../../src/main.ts'
import { orderPaid } from './events.ts'

/** Ingests `count` order.paid events through engine.ingest, `batch` per call (not over HTTP). */
export async function ingestOrders(app: App, count: number, options: { tag: string; customers?: number; batch?: number }): Promise<{ ms: number }> {
  const batch = options.batch ?? 500
  const customers = options.customers ?? count
  const t0 = performance.now()
  for (let from = 0; from < count; from += batch) {
    const events = []
    for (let i = from; i < Math.min(count, from + batch); i++) {
      const raw = orderPaid({
        eventId: `evt-${options.tag}-${i}`,
        orderId: `ord-${options.tag}-${i}`,
        customerId: `cus-${options.tag}-${i % customers}`,
        variant: i,
      })
      const parsed = parseEvent({ ...raw, store: 'default' }, { store: 'default', now: app.clock.now() })
      if (!parsed.ok) throw new Error(`bench event invalid: ${JSON.stringify(parsed.issues)}`)
      events.push(parsed.event)
    }
    // what ingest answers is not looked at: the runs it causes are counted in the database
    await app.engine.ingest(events, { historical: false, source: 'bench' })
  }
  // accepted events start their runs when routed
  await app.engine.settle('bench-seed')
  return { ms: performance.now() - t0 }
}

const RUN_COLUMNS = [
  'store_id',
  'workflow_id',
  'workflow_version',
  'status',
  'trigger_event_seq',
  'trigger_event_id',
  'customer_key',
  'customer_id',
  'customer_email',
  'holdout',
  'state',
  'due_at',
  'signal_event_seq',
  'lease_owner',
  'lease_until',
  'version',
  'started_at',
  'ended_at',
  'updated_at',
]
const STEP_COLUMNS = ['step_key', 'seq', 'step_id', 'type', 'status', 'attempts', 'input', 'output', 'error', 'started_at', 'ended_at', 'wake_at']

/**
 * Copies one engine-created run (and its step rows) `copies` times in bulk SQL, so the copies
 * are exactly what the engine would have written: a million waiting runs in seconds.
 */
export async function cloneRun(app: App, templateId: string, copies: number, prefix: string): Promise<number> {
  const db = app.handle.db
  const chunk = 200_000
  const t0 = performance.now()
  const runCols = sql.raw(RUN_COLUMNS.map((c) => `"${c}"`).join(', '))
  const stepCols = sql.raw(STEP_COLUMNS.map((c) => `"${c}"`).join(', '))
  for (let from = 1; from <= copies; from += chunk) {
    const to = Math.min(copies, from + chunk - 1)
    await db.transaction().execute(async (trx) => {
      if (app.handle.dialect === 'sqlite') {
        await sql`with recursive n(i) as (select ${from} union all select i + 1 from n where i < ${to})
          insert into runs ("id", ${runCols}) select ${prefix} || i, ${runCols} from n, runs where runs.id = ${templateId}`.execute(trx)
        await sql`with recursive n(i) as (select ${from} union all select i + 1 from n where i < ${to})
          insert into run_steps ("run_id", ${stepCols}) select ${prefix} || i, ${stepCols} from n, run_steps where run_steps.run_id = ${templateId}`.execute(
          trx,
        )
      } else {
        await sql`insert into runs ("id", ${runCols}) select ${prefix} || i::text, ${runCols} from generate_series(${from}::int, ${to}::int) as i, runs where runs.id = ${templateId}`.execute(
          trx,
        )
        await sql`insert into run_steps ("run_id", ${stepCols}) select ${prefix} || i::text, ${stepCols} from generate_series(${from}::int, ${to}::int) as i, run_steps where run_steps.run_id = ${templateId}`.execute(
          trx,
        )
      }
    })
  }
  if (app.handle.dialect === 'postgres') await sql`analyze runs`.execute(db)
  return performance.now() - t0
}

export async function countRuns(app: App, status: string): Promise<number> {
  const row = await app.handle.db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('store_id', '=', 'default')
    .where('status', '=', status)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
