import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEvent } from '../../src/contracts/events.ts'
import { systemClock } from '../../src/lib/clock.ts'
import { updateSettings } from '../../src/store/stores.repo.ts'
import { DIALECTS, TEST_DATABASE_URL, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts'
import { processEnv, startStoreflow, waitFor, type StoreflowProcess } from '../helpers/processes.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * Real processes, real SIGKILL, effects counted outside the product: the routers are killed while
 * they route. A backlog of accepted events waits in the log; `storeflow worker` processes (two
 * on PostgreSQL, competing for the store's router lease) start routing it and are killed as soon
 * as the router's position has moved and before it reaches the end — in the middle of routing,
 * with 500-event batches in flight. New workers finish. Every accepted event must have started
 * exactly one run, and the HTTP receiver must have heard each order, repeats only where the
 * product itself recorded a second attempt of that step.
 */
const EVENTS = 1500

const workflow = (hookUrl: string) => `
id: routed
name: Routed
trigger: { event: order.paid }
steps:
  - action: http_request
    id: notify
    with: { url: '${hookUrl}/hook', body: { order: '{{ trigger.data.id }}' } }
`

describe.each(DIALECTS)('kill -9 of routers mid-batch on %s', { timeout: 240_000 }, (dialect) => {
  let env: TestEnv
  let hook: HttpReceiver
  let workers: StoreflowProcess[] = []

  beforeAll(async () => {
    hook = await startHttpReceiver()
    env = await createTestEnv(dialect, { clock: systemClock as never })
  })
  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    await hook.close()
    await env.cleanup()
  })

  it('every accepted event starts exactly one run, and each order reaches the receiver once (or again only on a recorded re-attempt)', async () => {
    const db = env.app.handle.db
    await installWorkflow(env.app, workflow(hook.url))
    await updateSettings(db, 'default', { quiet_hours: null })
    const now = new Date()
    const events = Array.from({ length: EVENTS }, (_, i) => {
      const parsed = parseEvent(
        {
          id: `paid-${i}`,
          type: 'order.paid',
          data: { id: `o${i}`, currency: 'USD', total_price: '10.00', customer: { id: `c${i}`, email: `c${i}@example.com` } },
        },
        { store: 'default', now },
      )
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      return parsed.event
    })
    // accepted: in the log, not routed (this process runs no router)
    await env.app.engine.ingest(events, { historical: false, source: 'test' })
    const position = async () =>
      Number((await sql<{ n: number | string }>`select position_seq as n from event_routers where store_id = 'default'`.execute(db)).rows[0]?.n ?? 0)
    const first = Number((await sql<{ n: number | string }>`select min(seq) as n from events`.execute(db)).rows[0]!.n)
    const last = Number((await sql<{ n: number | string }>`select max(seq) as n from events`.execute(db)).rows[0]!.n)

    const procEnv = await processEnv(db, env.config.dataDir, dialect, TEST_DATABASE_URL, { STOREFLOW_ALLOW_PRIVATE_HTTP: '1', STOREFLOW_LEASE_MS: '1500' })
    const spawn = () => (dialect === 'postgres' ? [0, 1] : [0]).map(() => startStoreflow(['worker'], procEnv))
    const output = () =>
      workers
        .map((w) => w.output())
        .join('\n')
        .slice(-4000)

    workers = spawn()
    const at = await waitFor(
      'the router to move',
      async () => {
        const p = await position()
        return p >= first ? p : null
      },
      90_000,
      2,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${output()}`)
    })
    for (const w of workers) await w.kill9()
    const atKill = await position()
    // killed in the middle of routing: some of the log routed, not all of it
    expect(at).toBeLessThan(last)
    expect(atKill).toBeLessThan(last)

    workers = spawn()
    await waitFor(
      'every run to complete',
      async () => {
        const byStatus = (await sql<{ status: string; n: number | string }>`select status, count(*) as n from runs group by status`.execute(db)).rows
        if (process.env.DEBUG_ROUTER_CRASH) console.log(JSON.stringify(byStatus), await position(), hook.requests.length)
        return Number(byStatus.find((r) => r.status === 'completed')?.n ?? 0) >= EVENTS
      },
      180_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${output()}`)
    })
    for (const w of workers) await w.stop()
    workers = []

    // every accepted event: exactly one run
    const perEvent = await db
      .selectFrom('runs')
      .select(['trigger_event_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('trigger_event_id')
      .execute()
    expect(perEvent).toHaveLength(EVENTS)
    expect(perEvent.filter((r) => Number(r.n) !== 1)).toEqual([])

    // every order heard by the receiver; a repeat only where the step shows a second attempt
    const heard = new Map<string, number>()
    for (const r of hook.requests) {
      const order = (JSON.parse(r.body) as { order: string }).order
      heard.set(order, (heard.get(order) ?? 0) + 1)
    }
    expect(heard.size).toBe(EVENTS)
    const repeated = [...heard].filter(([, n]) => n > 1).map(([order]) => order)
    const reattempted = (
      await db.selectFrom('run_steps').innerJoin('runs', 'runs.id', 'run_steps.run_id').select(['runs.trigger_event_id', 'run_steps.attempts']).execute()
    )
      .filter((s) => s.attempts > 1)
      .map((s) => s.trigger_event_id.replace('paid-', 'o'))
    expect(repeated.filter((order) => !reattempted.includes(order))).toEqual([])
  })
})
