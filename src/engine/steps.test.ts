import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

describe.each(DIALECTS)('step kinds and run rules on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  const send = async (raw: ReturnType<typeof event>) => {
    const parsed = parseEvent(raw, { store: 'default', now: env.clock.now() })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    const [result] = await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
    return result!
  }
  const runs = (workflow: string) => env.app.handle.db.selectFrom('runs').selectAll().where('workflow_id', '=', workflow).orderBy('started_at').execute()
  const steps = (runId: string) => env.app.handle.db.selectFrom('run_steps').selectAll().where('run_id', '=', runId).orderBy('seq').execute()
  const tags = async (externalId: string) =>
    JSON.parse(
      (await env.app.handle.db.selectFrom('customers').select('tags').where('external_id', '=', externalId).executeTakeFirstOrThrow()).tags,
    ) as string[]
  const paid = (n: number, customer: string, total = 50, items: Array<Record<string, unknown>> = []) =>
    event('order.paid', `paid-${n}`, {
      id: `o${n}`,
      number: `#${n}`,
      currency: 'USD',
      total_price: total,
      line_items: items,
      customer: { id: customer, email: `${customer}@example.com` },
    })

  it('for_each runs its steps once per item with the item in scope, each step keyed by iteration', async () => {
    await installWorkflow(
      env.app,
      `
id: per-item
name: Per item
trigger: { event: order.paid }
steps:
  - for_each: order.line_items
    as: line
    steps:
      - if: 'line.sku.startsWith("SHOE")'
        then:
          - action: tag_customer
            with: { tags: ['shoes-{{ line.sku }}'] }
`,
    )
    await send(
      paid(1, 'c1', 90, [
        { sku: 'SHOE-1', quantity: 1, price: 40 },
        { sku: 'HAT-1', quantity: 1, price: 10 },
        { sku: 'SHOE-2', quantity: 2, price: 20 },
      ]),
    )
    const [run] = await runs('per-item')
    expect(run!.status).toBe('completed')
    expect(await tags('c1')).toEqual(['shoes-SHOE-1', 'shoes-SHOE-2'])
    const keys = (await steps(run!.id)).map((s) => s.step_key)
    expect(keys).toEqual(['s1', 's1_1#0', 's1_1_then_1#0', 's1_1#1', 's1_1#2', 's1_1_then_1#2'])
  })

  it('split sends each run down one variant, the same one on every look, roughly by weight', async () => {
    await installWorkflow(
      env.app,
      `
id: ab
name: AB
trigger: { event: order.paid }
reentry: { concurrent: true }
steps:
  - split:
      variants:
        - { id: a, weight: 80, steps: [ { action: tag_customer, with: { tags: [a] } } ] }
        - { id: b, weight: 20, steps: [ { action: tag_customer, with: { tags: [b] } } ] }
  - action: log
    with: { message: 'variant {{ steps.s1.variant }}' }
`,
    )
    for (let i = 0; i < 60; i++) await send(paid(i, `c${i}`))
    const all = await runs('ab')
    expect(all.every((r) => r.status === 'completed')).toBe(true)
    let a = 0
    for (const run of all) {
      const s = await steps(run.id)
      const variant = JSON.parse(s[0]!.output!).variant as string
      if (variant === 'a') a++
      expect(JSON.parse(s[2]!.output!).message).toBe(`variant ${variant}`)
      expect(await tags(run.customer_id!)).toEqual([variant])
    }
    expect(a).toBeGreaterThan(35)
    expect(a).toBeLessThan(60)
  })

  it('reentry: one active run per customer by default; once; once_per a window', async () => {
    await installWorkflow(
      env.app,
      `
id: default-reentry
name: Default
trigger: { event: order.paid }
steps: [ { wait: 1d }, { action: log, with: { message: done } } ]
`,
    )
    await installWorkflow(
      env.app,
      `
id: only-once
name: Once
trigger: { event: order.paid }
reentry: { per_customer: once }
steps: [ { action: log, with: { message: once } } ]
`,
    )
    await installWorkflow(
      env.app,
      `
id: weekly
name: Weekly
trigger: { event: order.paid }
reentry: { per_customer: once_per, window: 7d }
steps: [ { action: log, with: { message: weekly } } ]
`,
    )
    await send(paid(1, 'c1'))
    await send(paid(2, 'c1'))
    expect(await runs('default-reentry')).toHaveLength(1) // the first is still waiting
    env.clock.advance(2 * DAY)
    await env.app.engine.drain()
    await send(paid(3, 'c1'))
    expect(await runs('default-reentry')).toHaveLength(2) // the first ended: a new one may start
    expect(await runs('only-once')).toHaveLength(1)
    expect(await runs('weekly')).toHaveLength(1)
    env.clock.advance(5 * DAY)
    await send(paid(4, 'c1'))
    expect(await runs('weekly')).toHaveLength(2)
    expect(await runs('only-once')).toHaveLength(1)
  })

  it('when and trigger filters see the store view; missing fields are null and comparisons with null are false', async () => {
    await installWorkflow(
      env.app,
      `
id: big
name: Big orders from known customers
trigger: { event: order.paid, filter: 'event.data.total_price > 100.0' }
when: 'customer.orders_count >= 2 && customer.no_such_field != "x" || customer.birthday > "2000-01-01"'
steps: [ { action: tag_customer, with: { tags: [big-repeat] } } ]
`,
    )
    await send(paid(1, 'c1', 500))
    expect(await runs('big')).toHaveLength(0) // first order; birthday is null, so that side is false
    await send(paid(2, 'c1', 50))
    expect(await runs('big')).toHaveLength(0) // filter: not over 100
    await send(paid(3, 'c1', 150))
    // orders_count is 3 now, and a missing field is null: `null != "x"` is true
    expect((await runs('big')).map((r) => r.customer_id)).toEqual(['c1'])
    await send(event('customer.created', 'cc-2', { id: 'c2', email: 'c2@example.com', birthday: '2001-05-05' }))
    await send(paid(4, 'c2', 99.99))
    expect(await runs('big')).toHaveLength(1) // money is a double in CEL: 99.99 is not over 100
    await send(paid(5, 'c2', '150.00' as unknown as number))
    // c2's first order, but the birthday side holds
    expect((await runs('big')).map((r) => r.customer_id)).toEqual(['c1', 'c2'])
  })

  it('wait until a wall-clock time in the customer time zone', async () => {
    await installWorkflow(
      env.app,
      `
id: morning
name: Morning
trigger: { event: customer.created }
steps:
  - wait: { until: '09:00', timezone: customer }
  - action: tag_customer
    with: { tags: [morning] }
`,
    )
    // 10:00 UTC is 05:00 in New York (EST, UTC-5 on 2 March)
    await send(event('customer.created', 'cc1', { id: 'ny', email: 'ny@example.com', timezone: 'America/New_York' }))
    const [run] = await runs('morning')
    expect(run!.due_at).toBe('2026-03-02T14:00:00.000Z')
    env.clock.set('2026-03-02T14:00:00Z')
    await env.app.engine.drain()
    expect(await tags('ny')).toEqual(['morning'])
  })

  it('exit ends the run as exited; holdout 100% records the run with no actions', async () => {
    await installWorkflow(
      env.app,
      `
id: bail
name: Bail
trigger: { event: order.paid }
steps:
  - if: 'order.total_price < 10.0'
    then: [ { exit: 'too small' } ]
  - action: tag_customer
    with: { tags: [big-enough] }
`,
    )
    await installWorkflow(
      env.app,
      `
id: control
name: Control
trigger: { event: order.paid }
holdout: 100%
steps: [ { action: tag_customer, with: { tags: [treated] } } ]
`,
    )
    await send(paid(1, 'c1', 5))
    const [run] = await runs('bail')
    expect(run!.status).toBe('exited')
    expect((await steps(run!.id)).map((s) => s.type)).toEqual(['if', 'exit'])
    const [held] = await runs('control')
    expect([held!.status, held!.holdout]).toEqual(['completed', 1])
    expect(await tags('c1')).toEqual([])
  })

  it('emit_event starts another workflow with the emitted data', async () => {
    await installWorkflow(
      env.app,
      `
id: emitter
name: Emitter
trigger: { event: order.paid }
steps:
  - action: emit_event
    with: { type: raw.loyalty.tier_changed, data: { tier: gold, customer: { id: '{{ customer.id }}' } } }
`,
    )
    await installWorkflow(
      env.app,
      `
id: listener
name: Listener
trigger: { event: raw.loyalty.tier_changed }
steps: [ { action: tag_customer, with: { tags: ['{{ event.data.tier }}'] } } ]
`,
    )
    await send(paid(1, 'c1'))
    expect(await runs('listener')).toHaveLength(1)
    expect(await tags('c1')).toEqual(['gold'])
  })
  it('a store-level event (a SKU back in stock) reaches every customer waiting for its type, by their match; a customer-less order reaches no one', async () => {
    await installWorkflow(
      env.app,
      `
id: notify-me
name: Notify me
trigger: { event: customer.created }
steps:
  - if: 'trigger.data.late == true'
    then: [ { wait: 1h } ]
  - wait_for: { event: inventory.back_in_stock, match: 'event.data.sku == trigger.data.wants', timeout: 30d }
    received: [ { action: tag_customer, with: { tags: ['told-{{ event.data.sku }}'] } } ]
`,
    )
    await installWorkflow(
      env.app,
      `
id: any-order
name: Any order
trigger: { event: customer.created }
steps:
  - wait_for: { event: order.paid, timeout: 30d }
    received: [ { action: tag_customer, with: { tags: [ordered] } } ]
`,
    )
    const customer = (id: string, wants: string, late = false) => event('customer.created', `cc-${id}`, { id, email: `${id}@example.com`, wants, late })
    // A is sold out (the first sighting records it), B in stock
    await send(event('inventory.updated', 'inv-a0', { sku: 'A', available: 0 }))
    await send(event('inventory.updated', 'inv-b0', { sku: 'B', available: 5 }))
    await send(customer('c1', 'A'))
    await send(customer('c2', 'A'))
    await send(customer('c3', 'B'))
    // c4 reaches its wait only after A is back: it looks back and finds the event
    await send(customer('c4', 'A', true))
    // an order that names no customer is nobody's
    await send(event('order.paid', 'guest-1', { id: 'g1', number: '#1', currency: 'USD', total_price: 5, line_items: [] }))

    await send(event('inventory.updated', 'inv-a5', { sku: 'A', available: 5 }))
    expect(await tags('c1')).toEqual(['told-A'])
    expect(await tags('c2')).toEqual(['told-A'])
    expect(await tags('c3')).toEqual([])
    env.clock.advance(2 * HOUR)
    await env.app.engine.drain()
    expect(await tags('c4')).toEqual(['told-A'])
    const waiting = await env.app.handle.db.selectFrom('runs').select(['workflow_id', 'status']).where('status', '=', 'waiting').execute()
    // c3 still waits for B; every customer still waits for an order of their own
    expect(waiting.filter((r) => r.workflow_id === 'notify-me')).toHaveLength(1)
    expect(waiting.filter((r) => r.workflow_id === 'any-order')).toHaveLength(4)
  })
})
