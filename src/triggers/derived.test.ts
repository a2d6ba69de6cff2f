import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { Scheduler } from '../engine/scheduler.ts'
import { silentLogger } from '../lib/logger.ts'
import { defineTrigger, type DerivedTriggerDefinition } from '../plugin-api/define-trigger.ts'
import { createTriggerRegistry } from './index.ts'

/**
 * The contract a derived trigger folder fulfils, shown with two test-only triggers: one reacting
 * to events, one to a schedule. Real ones (cart.abandoned, customer.inactive, …) are the same
 * shape in src/triggers/<name>/.
 */
const lowStockForTest = defineTrigger({
  kind: 'derived',
  type: 'inventory.low',
  title: 'Low stock (test)',
  description: 'An inventory level below 5.',
  reactsTo: { events: ['inventory.updated'] },
  async derive({ cause }) {
    if (cause.kind !== 'event') return []
    const { sku, available } = cause.event.data as { sku: string; available: number }
    return available < 5 ? [{ id: `inventory.low:${sku}:${cause.event.id}`, occurred_at: cause.event.occurred_at, data: { sku, available } }] : []
  },
})

const morningSweepForTest = defineTrigger({
  kind: 'derived',
  type: 'inventory.out_of_stock',
  title: 'Morning sweep (test)',
  description: "One event each morning at 08:00 in the store's zone.",
  reactsTo: { schedule: { cron: '0 8 * * *' } },
  async derive({ cause, store }) {
    return cause.kind === 'schedule'
      ? [{ id: `inventory.out_of_stock:${cause.at.toISOString()}`, data: { sku: 'ANY', available: 0, swept_at: cause.at.toISOString(), store: store.id } }]
      : []
  },
})

const brokenForTest = defineTrigger({
  kind: 'derived',
  type: 'inventory.back_in_stock',
  title: 'Broken (test)',
  description: 'Throws, as a trigger with a bug would.',
  reactsTo: { events: ['newsletter.subscribed'] },
  async derive() {
    throw new Error('bug in a trigger')
  },
})

describe('derived trigger declarations', () => {
  const base = { kind: 'derived', title: 't', description: 'd', derive: async () => [] } as const
  it.each<[string, DerivedTriggerDefinition, RegExp]>([
    ['an unknown event type', { ...base, type: 'cart.forgotten', reactsTo: { events: ['cart.updated'] } }, /not an event type/],
    ['one that wakes on nothing', { ...base, type: 'inventory.low', reactsTo: {} }, /reacts to nothing/],
    ['one that reacts to its own events', { ...base, type: 'inventory.low', reactsTo: { events: ['inventory.low'] } }, /its own events/],
    ['a bad schedule', { ...base, type: 'inventory.low', reactsTo: { schedule: { cron: '0 25 * * *' } } }, /reactsTo\.schedule/],
  ])('refuses %s', (_name, trigger, message) => expect(() => createTriggerRegistry([trigger])).toThrow(message))

  it('refuses a type emitted twice', () => expect(() => createTriggerRegistry([lowStockForTest, lowStockForTest])).toThrow(/declared twice/))
})

describe.each(DIALECTS)('derived triggers on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect, { extraTriggers: [lowStockForTest, morningSweepForTest, brokenForTest] })
  })
  afterEach(async () => {
    await env.cleanup()
  })

  const send = async (raw: ReturnType<typeof event>) => {
    const parsed = parseEvent(raw, { store: 'default', now: env.clock.now() })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    return (await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' }))[0]!
  }
  const eventsOf = (type: string) => env.app.handle.db.selectFrom('events').select(['id', 'source', 'data']).where('type', '=', type).orderBy('seq').execute()
  const runsOf = (workflowId: string) =>
    env.app.handle.db.selectFrom('runs').select(['status', 'trigger_event_id']).where('workflow_id', '=', workflowId).execute()

  it('derives events from an event, in its transaction, once however often the event is sent', async () => {
    await installWorkflow(
      env.app,
      `
id: restock
name: Restock
trigger: { event: inventory.low }
steps:
  - action: log
    with: { message: 'low: {{ trigger.data.sku }}' }
`,
    )
    expect((await send(event('inventory.updated', 'inv-1', { sku: 'SHOE-1', available: 12 }))).duplicate).toBe(false)
    await send(event('inventory.updated', 'inv-2', { sku: 'SHOE-1', available: 3 }))
    expect((await send(event('inventory.updated', 'inv-2', { sku: 'SHOE-1', available: 3 }))).duplicate).toBe(true)
    await env.app.engine.drain()

    expect(await eventsOf('inventory.low')).toEqual([
      { id: 'inventory.low:SHOE-1:inv-2', source: 'derived', data: JSON.stringify({ sku: 'SHOE-1', available: 3 }) },
    ])
    expect(await runsOf('restock')).toEqual([{ status: 'completed', trigger_event_id: 'inventory.low:SHOE-1:inv-2' }])
  })

  it('a trigger that throws leaves its events out, not the event that woke it', async () => {
    const result = await send(event('newsletter.subscribed', 'sub-1', { customer: { id: 'c1', email: 'a@example.com' } }))
    expect(result.duplicate).toBe(false)
    expect(await eventsOf('newsletter.subscribed')).toHaveLength(1)
    expect(await eventsOf('inventory.back_in_stock')).toEqual([])
  })

  it("derives events on its schedule, in the store's zone", async () => {
    await env.app.handle.db.updateTable('stores').set({ timezone: 'Europe/Berlin' }).where('id', '=', 'default').execute()
    await installWorkflow(
      env.app,
      `
id: dunning
name: Dunning
trigger: { event: inventory.out_of_stock }
steps:
  - action: log
    with: { message: swept }
`,
    )
    const scheduler = new Scheduler(env.app.engine, silentLogger, { everyMs: 0 })
    // the built-in sweeps (cart.abandoned, …) tick on their own schedules beside this one
    env.clock.set('2026-03-02T06:00:00Z')
    await scheduler.pass()
    expect(await eventsOf('inventory.out_of_stock')).toEqual([])
    env.clock.set('2026-03-02T07:00:00Z') // 08:00 in Berlin
    await scheduler.pass()
    await scheduler.pass()
    await env.app.engine.drain()

    expect((await eventsOf('inventory.out_of_stock')).map((e) => e.id)).toEqual(['inventory.out_of_stock:2026-03-02T07:00:00.000Z'])
    expect(await runsOf('dunning')).toHaveLength(1)
  })
})
