import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { loadConfig } from '../config.ts'
import { insertDelivery } from '../store/deliveries.repo.ts'
import { pruneEndedRuns } from '../store/retention.repo.ts'

/**
 * Configurable retention (STOREFLOW_RETENTION_*_DAYS), pruned by maintenance on the injected
 * clock: ended runs past their days go with their steps, runs under way and recent ones stay, and
 * so does each customer's latest run of a workflow (re-entry reads it); routed events past their
 * days go, but never one the router has not reached and never the trigger of a run that is kept.
 */

const DONE = `
id: done
name: Ends at once
trigger: { event: order.paid }
steps:
  - action: log
    with: { message: paid }
`
const WAITS = `
id: waits
name: Waits long
trigger: { event: order.paid }
steps:
  - wait: 100d
  - action: log
    with: { message: later }
`
const DAY = 86_400_000

const paid = (id: string, customer: string) =>
  event('order.paid', id, { id: `o-${id}`, currency: 'USD', total_price: '10.00', customer: { id: customer, email: `${customer}@example.com` } })
const created = (id: string, customer: string) => event('customer.created', id, { id: customer, email: `${customer}@example.com` })

describe.each(DIALECTS)('retention on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect, {
      env: { STOREFLOW_RETENTION_RUNS_DAYS: '30', STOREFLOW_RETENTION_EVENTS_DAYS: '30', STOREFLOW_RETENTION_DELIVERIES_DAYS: '60' },
    })
  })
  afterEach(async () => {
    await env.cleanup()
  })

  const db = () => env.app.handle.db
  const ingest = async (raw: ReturnType<typeof event>) => {
    const parsed = parseEvent({ ...raw, occurred_at: env.clock.now().toISOString() }, { store: 'default', now: env.clock.now() })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
  }
  /** routes and runs everything due; on PostgreSQL a transaction elsewhere may hold routing back a moment */
  const settle = async () => {
    for (let i = 0; i < 400; i++) {
      await env.app.engine.drain()
      if ((await env.app.services.health.counts()).eventsUnrouted === 0) return
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error('events never became routable')
  }
  const runs = async () =>
    (await db().selectFrom('runs').select(['trigger_event_id', 'workflow_id', 'status']).orderBy('trigger_event_id').orderBy('workflow_id').execute()).map(
      (r) => `${r.trigger_event_id}/${r.workflow_id}/${r.status}`,
    )
  const eventIds = async () => (await db().selectFrom('events').select('id').where('source', '=', 'test').orderBy('id').execute()).map((r) => r.id)
  const stepsOf = async (triggerId: string, workflowId: string) =>
    (
      await db()
        .selectFrom('run_steps')
        .innerJoin('runs', 'runs.id', 'run_steps.run_id')
        .select('run_steps.step_id')
        .where('runs.trigger_event_id', '=', triggerId)
        .where('runs.workflow_id', '=', workflowId)
        .execute()
    ).length

  it('old ended runs go with their steps; waiting, recent and latest-per-customer runs stay; events never go ahead of the router', async () => {
    await installWorkflow(env.app, DONE)
    await installWorkflow(env.app, WAITS)
    // day 0: two orders of c1 (a minute apart), one of c2, and an event no workflow starts on
    await ingest(paid('paid-1', 'c1'))
    await settle()
    env.clock.advance(60_000)
    await ingest(paid('paid-2', 'c1'))
    await ingest(paid('paid-3', 'c2'))
    await ingest(created('cust-old', 'c9'))
    await settle()
    expect(await stepsOf('paid-1', 'done')).toBeGreaterThan(0)
    // accepted and not routed: stays whatever its age until the router has been past it
    env.clock.advance(60_000)
    await ingest(created('late', 'c8'))

    env.clock.advance(40 * DAY)
    const pruned = await env.app.services.maintenance.prune()
    expect(pruned.runs).toBe(1)
    expect(await runs()).toEqual([
      // c1's first `done` run ended 40 days ago and a later one of c1 exists: gone
      'paid-1/waits/waiting',
      // c1's latest `done` run: kept (re-entry once / once_per reads it)
      'paid-2/done/completed',
      // (c1 was already waiting in `waits`: paid-2 started no second run of it)
      'paid-3/done/completed',
      'paid-3/waits/waiting',
    ])
    expect(await stepsOf('paid-1', 'done')).toBe(0)
    expect(await stepsOf('paid-2', 'done')).toBeGreaterThan(0)
    // cust-old was routed and started nothing: gone; the triggers of runs kept stay; late is ahead of the router
    expect(await eventIds()).toEqual(['late', 'paid-1', 'paid-2', 'paid-3'])
    expect(pruned.events).toBe(1)

    // today: a new order; routing reaches `late`, which can go now; what is recent stays
    await ingest(paid('paid-4', 'c4'))
    await settle()
    const again = await env.app.services.maintenance.prune()
    expect(again.events).toBe(1)
    expect(await eventIds()).toEqual(['paid-1', 'paid-2', 'paid-3', 'paid-4'])
    expect(await runs()).toContain('paid-4/done/completed')
    // nothing more to prune: a second pass deletes nothing
    expect(await env.app.services.maintenance.prune()).toEqual({ deliveries: 0, runs: 0, events: 0, workers: 0 })
  })

  it('prunes in batches until nothing old is left', async () => {
    await installWorkflow(env.app, DONE)
    // one at a time: a customer in a run under way starts no second one
    for (let i = 1; i <= 5; i++) {
      await ingest(paid(`batch-${i}`, 'c1'))
      await settle()
    }
    await ingest(paid('batch-last', 'c1'))
    await settle()
    env.clock.advance(40 * DAY)
    // batches of 2: 5 old runs of c1 go (the latest stays) in three statements
    expect(await pruneEndedRuns(db(), new Date(env.clock.now().getTime() - 30 * DAY), 2)).toBe(5)
    expect(await runs()).toEqual(['batch-last/done/completed'])
  })

  it('deliveries are kept STOREFLOW_RETENTION_DELIVERIES_DAYS; with runs and events at 0 (the default) nothing of them goes', async () => {
    const delivery = (id: string, ageDays: number) => ({
      id,
      connector_id: 'con_x',
      store_id: 'default',
      platform: 'shopify',
      topic: 'orders/create',
      headers: {},
      body: '{}',
      verified: true,
      verify_error: null,
      dedupe_key: id,
      delivery_id: id,
      unknown_topic: false,
      status: 'processed' as const,
      result: { events: [] },
      error: null,
      received_at: new Date(env.clock.now().getTime() - ageDays * DAY).toISOString(),
      processed_at: null,
    })
    await insertDelivery(db(), delivery('d-45', 45), { prune: false })
    await insertDelivery(db(), delivery('d-61', 61), { prune: false })
    expect((await env.app.services.maintenance.prune()).deliveries).toBe(1)
    expect((await db().selectFrom('webhook_deliveries').select('id').execute()).map((d) => d.id)).toEqual(['d-45'])

    const keep = await createTestEnv(dialect, { clock: env.clock })
    try {
      expect(keep.config).toMatchObject({ retentionRunsDays: 0, retentionEventsDays: 0, retentionDeliveriesDays: 30 })
      await installWorkflow(keep.app, DONE)
      const parsed = parseEvent({ ...paid('k-1', 'c1'), occurred_at: env.clock.now().toISOString() }, { store: 'default', now: env.clock.now() })
      if (!parsed.ok) throw new Error('bad event')
      await keep.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
      await keep.app.engine.drain()
      env.clock.advance(3650 * DAY)
      expect(await keep.app.services.maintenance.prune()).toEqual({ deliveries: 0, runs: 0, events: 0, workers: 0 })
    } finally {
      await keep.cleanup()
    }
  })
})

describe('retention settings', () => {
  it('are whole days; anything else is refused naming the variable', async () => {
    const dir = '/nonexistent-storeflow-test'
    const base = { STOREFLOW_SECRET_KEY: 'k', DATABASE_URL: 'postgres://x@127.0.0.1/none' }
    expect(await loadConfig({}, { ...base, STOREFLOW_RETENTION_EVENTS_DAYS: '90' }, dir)).toMatchObject({
      retentionEventsDays: 90,
      retentionRunsDays: 0,
      retentionDeliveriesDays: 30,
    })
    for (const [name, value] of [
      ['STOREFLOW_RETENTION_EVENTS_DAYS', '-1'],
      ['STOREFLOW_RETENTION_RUNS_DAYS', '1.5'],
      ['STOREFLOW_RETENTION_DELIVERIES_DAYS', '30d'],
    ] as const)
      await expect(loadConfig({}, { ...base, [name]: value }, dir)).rejects.toThrow(new RegExp(`^${name} must be a whole number of days`))
  })
})
