import pg from 'pg'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, TEST_DATABASE_URL, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import { buildServer } from '../http/server.ts'
import { Engine } from './engine.ts'
import type { Storage, StorageTx } from './ports.ts'
import { createStore } from '../store/stores.repo.ts'

const TAG_BUYERS = `
id: buyers
name: Buyers
trigger: { event: order.paid }
steps:
  - action: tag_customer
    with: { tags: [buyer] }
`

const paid = (i: number, customer = `c${i}`) =>
  event('order.paid', `paid-${i}`, { id: `o${i}`, currency: 'USD', total_price: '10.00', customer: { id: customer, email: `${customer}@example.com` } })

function canonical(env: TestEnv, raw: ReturnType<typeof event>): CanonicalEvent {
  const parsed = parseEvent(raw, { store: 'default', now: env.clock.now() })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  return parsed.event
}

describe.each(DIALECTS)('the event log and its router on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  const db = () => env.app.handle.db
  // on PostgreSQL a transaction still running anywhere in the cluster (another test file's) holds
  // routing back (invariant 24): a test counting passes waits until its events are routable
  const routable = async () => {
    for (let i = 0; i < 2000; i++) {
      if ((await env.app.engine.storage.pendingRouterStores('probe', env.clock.now(), 10)).length > 0) return
      await new Promise((r) => setTimeout(r, 5))
    }
    throw new Error('events never became routable')
  }
  const runsPerEvent = async () =>
    (
      await db()
        .selectFrom('runs')
        .select(['trigger_event_id', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('trigger_event_id')
        .execute()
    ).map((r) => [r.trigger_event_id, Number(r.n)] as const)

  it('accepting only appends: nothing is in the view and no run exists until the router has routed the event', async () => {
    await installWorkflow(env.app, TAG_BUYERS)
    const [accepted] = await env.app.engine.ingest([canonical(env, paid(1))], { historical: false, source: 'test' })
    expect(accepted).toMatchObject({ id: 'paid-1', duplicate: false })
    expect(await db().selectFrom('runs').select('id').execute()).toEqual([])
    expect(await db().selectFrom('customers').select('key').execute()).toEqual([])

    await routable()
    expect((await env.app.engine.route('router')).routed).toBe(1)
    expect(await runsPerEvent()).toEqual([['paid-1', 1]])
    expect(await db().selectFrom('customers').select('external_id').execute()).toEqual([{ external_id: 'c1' }])
    // routed once: a second pass finds only the segment.entered (new) the order derived, a third
    // nothing. On PostgreSQL that event is routable once transactions older than it have ended,
    // other test files' too (the router reads below the oldest one open on the server)
    let derived = 0
    await expect.poll(async () => (derived += (await env.app.engine.route('router')).routed)).toBe(1)
    expect((await env.app.engine.route('router')).routed).toBe(0)
  })

  it('a batch that fails half-way commits nothing; the next router routes every event of it exactly once', async () => {
    await installWorkflow(env.app, TAG_BUYERS)
    await env.app.engine.ingest(
      Array.from({ length: 40 }, (_, i) => canonical(env, paid(i))),
      { historical: false, source: 'test' },
    )
    // a router that dies in the middle of its batch (at the 25th event): its connection is gone,
    // nothing more of it happens
    let routedEvents = 0
    const dying: Storage = {
      ...env.app.engine.storage,
      transaction: (fn) =>
        env.app.engine.storage.transaction((tx) =>
          fn(
            Object.assign(Object.create(tx) as StorageTx, {
              async setEventCustomer(seq: number, key: string | null) {
                if (++routedEvents >= 25) throw new Error('Connection terminated unexpectedly')
                return tx.setEventCustomer(seq, key)
              },
            }),
          ),
        ),
    }
    // one batch of all 40, however long it takes
    const doomed = new Engine({ storage: dying, clock: env.clock, log: env.app.log, actions: env.app.actions, routeBatch: 100, routeBudgetMs: 60_000 })
    await routable()
    await expect(doomed.router.pass('doomed')).rejects.toThrow('Connection terminated')
    expect(await db().selectFrom('runs').select('id').execute()).toEqual([])

    // the dead router's lease lapses; another takes the store and routes all 40, once each
    env.clock.advance(11_000)
    await env.app.engine.settle('successor')
    const routed = await runsPerEvent()
    expect(routed).toHaveLength(40)
    expect(routed.every(([, n]) => n === 1)).toBe(true)
  })

  it('an event that cannot be routed is tried again on later passes, and only then passed over; the events after it are routed', async () => {
    await installWorkflow(env.app, TAG_BUYERS)
    await env.app.engine.ingest(
      Array.from({ length: 5 }, (_, i) => canonical(env, paid(i))),
      { historical: false, source: 'test' },
    )
    // a bug meets the third event whenever it is routed
    const buggy: Storage = {
      ...env.app.engine.storage,
      transaction: (fn) =>
        env.app.engine.storage.transaction((tx) =>
          fn(
            Object.assign(Object.create(tx) as StorageTx, {
              async insertRuns(runs: Parameters<StorageTx['insertRuns']>[0]) {
                if (runs.some((r) => r.trigger_event_id === 'paid-2')) throw new TypeError('a bug')
                return tx.insertRuns(runs)
              },
            }),
          ),
        ),
    }
    // passes are counted: each pass takes the whole backlog, however long it takes
    const router = new Engine({ storage: buggy, clock: env.clock, log: env.app.log, actions: env.app.actions, routeBudgetMs: 60_000 })
    await routable()
    // counted by the runs each pass leaves, not by its routed count: on PostgreSQL the
    // segment.entered events a pass derives become routable only once every transaction older
    // than them has ended, anywhere in the cluster (another test file's included)
    const runIds = async () => (await runsPerEvent()).map(([id]) => id).sort()
    await router.route('r')
    expect(await runIds()).toEqual(['paid-0', 'paid-1'])
    // tried again, and nothing after it is routed past it
    await router.route('r')
    expect(await runIds()).toEqual(['paid-0', 'paid-1'])
    // the third pass gives up on it and goes on
    await router.route('r')
    expect(await runIds()).toEqual(['paid-0', 'paid-1', 'paid-3', 'paid-4'])
    expect(await db().selectFrom('events').select('id').where('id', '=', 'paid-2').execute()).toEqual([{ id: 'paid-2' }])
  })

  it('two routers at once: one per store at a time, and every event routed exactly once', async () => {
    await installWorkflow(env.app, TAG_BUYERS)
    const other = new Engine({ storage: env.app.engine.storage, clock: env.clock, log: env.app.log, actions: env.app.actions, routeBatch: 7 })
    for (let round = 0; round < 5; round++) {
      await env.app.engine.ingest(
        Array.from({ length: 30 }, (_, i) => canonical(env, paid(round * 30 + i))),
        { historical: false, source: 'test' },
      )
      await Promise.all([env.app.engine.route('one'), other.route('two'), env.app.engine.route('one'), other.route('two')])
    }
    // whoever holds the lease finishes; the other is refused while it is held
    await env.app.engine.settle('one')
    await other.settle('two')
    env.clock.advance(11_000)
    await other.settle('two')
    const routed = await runsPerEvent()
    expect(routed).toHaveLength(150)
    expect(routed.every(([, n]) => n === 1)).toBe(true)
  })

  it("one store's flood delays another store's events by a batch per pass; with more stores waiting than a pass takes, the passes go round", async () => {
    for (const id of ['x', 'y']) await createStore(db(), { id }, env.clock.now())
    const inStore = (store: string, i: number) => {
      const parsed = parseEvent({ ...paid(i), id: `${store}-paid-${i}`, store }, { store, now: env.clock.now() })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      return parsed.event
    }
    const ingest = (events: CanonicalEvent[]) => env.app.engine.ingest(events, { historical: false, source: 'test' })
    const flood = await ingest(Array.from({ length: 100 }, (_, i) => inStore('default', i)))
    const [x] = await ingest([inStore('x', 0)])
    const [y] = await ingest([inStore('y', 0)])
    await routable()
    // a pass takes one store (of three waiting) and ten of its events
    const router = new Engine({
      storage: env.app.engine.storage,
      clock: env.clock,
      log: env.app.log,
      actions: env.app.actions,
      routeBatch: 10,
      routeBudgetMs: 60_000,
      routeStoresPerPass: 1,
    })
    const routed = (store: string, seq: number) => env.app.engine.storage.isRouted(store, seq)
    const passes: number[] = []
    for (let i = 0; i < 3; i++) passes.push((await router.route('one')).routed)
    expect(passes).toEqual([10, 1, 1])
    expect(await routed('x', x!.seq)).toBe(true)
    expect(await routed('y', y!.seq)).toBe(true)
    expect(await routed('default', flood[10]!.seq)).toBe(false)
    // and round again to the flood
    expect((await router.route('one')).routed).toBe(10)
    await router.router.release('one')
  })

  it('per customer, events are routed in the order they were accepted: a goal accepted after its trigger ends the run', async () => {
    await installWorkflow(
      env.app,
      `
id: nudge
name: Nudge
trigger: { event: checkout.started }
exit_when:
  - event: order.created
steps:
  - wait: 1h
  - action: tag_customer
    with: { tags: [nudged] }
`,
    )
    const customer = { id: 'c1', email: 'c1@example.com' }
    // trigger and goal accepted back to back, routed together in one batch
    await env.app.engine.ingest([canonical(env, event('checkout.started', 'k1', { id: 'k1', currency: 'USD', total_price: '5', customer }))], {
      historical: false,
      source: 'test',
    })
    await env.app.engine.ingest([canonical(env, event('order.created', 'o1', { id: 'o1', currency: 'USD', total_price: '5', customer }))], {
      historical: false,
      source: 'test',
    })
    await env.app.engine.settle()
    const [run] = await db().selectFrom('runs').select('status').execute()
    expect(run?.status).toBe('exited')
  })

  it('/metrics shows the events accepted and not yet routed, and none once the router has caught up', async () => {
    const server = await buildServer(env.app)
    try {
      const unrouted = async () => {
        const text = (await server.inject({ method: 'GET', url: '/metrics' })).body
        return Number(/^storeflow_events_unrouted (\d+)$/m.exec(text)?.[1])
      }
      await env.app.engine.ingest(
        [paid(1), paid(2), paid(3)].map((raw) => canonical(env, raw)),
        { historical: false, source: 'test' },
      )
      expect(await unrouted()).toBe(3)
      await env.app.engine.settle()
      expect(await unrouted()).toBe(0)
    } finally {
      await server.close()
    }
  })

  it('erasing a customer right after their event was accepted, before it was routed, leaves nothing of them once it is', async () => {
    await installWorkflow(env.app, TAG_BUYERS)
    await env.app.engine.ingest([canonical(env, paid(7, 'ada'))], { historical: false, source: 'test' })
    // the erasure brings the store's router up to what was accepted before it goes to work
    const erased = await env.app.services.privacy.eraseCustomer('default', 'ada@example.com')
    expect(erased.customers).toBe(1)
    await env.app.engine.drain()
    const rows = [
      ...(await db().selectFrom('customers').selectAll().execute()),
      ...(await db().selectFrom('events').selectAll().execute()),
      ...(await db().selectFrom('orders').selectAll().execute()),
      ...(await db().selectFrom('runs').selectAll().execute()),
    ]
    expect(JSON.stringify(rows)).not.toContain('ada@example.com')
  })

  it('historical events update the view and start nothing', async () => {
    await installWorkflow(env.app, TAG_BUYERS)
    await env.app.engine.ingest([canonical(env, paid(1))], { historical: true, source: 'test' })
    await env.app.engine.settle()
    expect(await db().selectFrom('runs').select('id').execute()).toEqual([])
    expect((await db().selectFrom('customers').select('orders_count').executeTakeFirstOrThrow()).orders_count).toBe(1)
  })

  it.runIf(dialect === 'postgres')('an event whose lower sequence number commits after a higher one was accepted is still routed, once', async () => {
    await installWorkflow(env.app, TAG_BUYERS)
    const schema = (await sql<{ s: string }>`select current_schema() as s`.execute(db())).rows[0]!.s
    const slow = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await slow.connect()
    try {
      await slow.query(`set search_path to ${schema}`)
      // a slow API node takes sequence number n and has not committed yet
      await slow.query('begin')
      const low = await slow.query<{ seq: string }>(
        `insert into events (store_id, id, type, occurred_at, received_at, historical, source, data)
         values ('default', 'paid-low', 'order.paid', $1, $1, 0, 'test', $2) returning seq`,
        [env.clock.now().toISOString(), JSON.stringify(paid(1).data)],
      )
      // a fast one takes n+1 and commits; the router runs
      const [high] = await env.app.engine.ingest([canonical(env, paid(2))], { historical: false, source: 'test' })
      expect(high!.seq).toBeGreaterThan(Number(low.rows[0]!.seq))
      await env.app.engine.route('router')
      // the slow one commits its lower number after the higher one was accepted and looked at
      await slow.query('commit')
    } finally {
      await slow.end()
    }
    await env.app.engine.settle('router')
    expect((await runsPerEvent()).sort()).toEqual([
      ['paid-2', 1],
      ['paid-low', 1],
    ])
  })
})
