import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'

const DAY = 86_400_000

async function send(env: TestEnv, raw: ReturnType<typeof event>) {
  const parsed = parseEvent(raw, { store: 'default', now: env.clock.now() })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  return (await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' }))[0]!
}

async function runOf(env: TestEnv, workflowId: string) {
  return env.app.handle.db.selectFrom('runs').selectAll().where('workflow_id', '=', workflowId).execute()
}

async function stepsOf(env: TestEnv, runId: string) {
  return env.app.handle.db.selectFrom('run_steps').selectAll().where('run_id', '=', runId).orderBy('seq').execute()
}

describe.each(DIALECTS)('engine on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  it('waits 7 days of the injected clock, not less', async () => {
    await installWorkflow(env.app, `
id: seven-days
name: Seven days later
trigger: { event: order.paid }
steps:
  - wait: 7d
  - action: tag_customer
    with: { tags: [week-later] }
`)
    await send(env, event('order.paid', 'e1', { id: 'o1', currency: 'USD', total_price: '10.00', customer: { id: 'c1', email: 'a@example.com' } }))
    await env.app.engine.drain()
    let [run] = await runOf(env, 'seven-days')
    expect(run!.status).toBe('waiting')
    expect(run!.due_at).toBe(new Date(Date.parse('2026-03-02T10:00:00Z') + 7 * DAY).toISOString())

    env.clock.advance(7 * DAY - 1000)
    await env.app.engine.drain()
    ;[run] = await runOf(env, 'seven-days')
    expect(run!.status).toBe('waiting')

    env.clock.advance(1000)
    await env.app.engine.drain()
    ;[run] = await runOf(env, 'seven-days')
    expect(run!.status).toBe('completed')
    const customer = await env.app.handle.db.selectFrom('customers').select('tags').where('external_id', '=', 'c1').executeTakeFirstOrThrow()
    expect(JSON.parse(customer.tags)).toEqual(['week-later'])
    const steps = await stepsOf(env, run!.id)
    expect(steps.every((s) => s.store_id === 'default')).toBe(true)
    expect(steps.map((s) => [s.step_id, s.type, s.status])).toEqual([
      ['s1', 'wait', 'completed'],
      ['s2', 'tag_customer', 'completed'],
    ])
  })

  it('wait_for with exit_when: an order for the same checkout ends the run; otherwise the timeout branch runs', async () => {
    await installWorkflow(env.app, `
id: abandoned
name: Abandoned checkout
trigger: { event: checkout.started }
exit_when:
  - event: order.created
    match: 'event.data.checkout_id == trigger.data.id'
steps:
  - wait_for: { event: cart.updated, match: 'event.data.id == trigger.data.id', timeout: 4h }
    received:
      - action: log
        with: { message: 'cart changed' }
    timed_out:
      - action: tag_customer
        with: { tags: ['abandoned'] }
  - wait: 1d
  - action: tag_customer
    with: { tags: ['reminded'] }
`)
    const checkout = (id: string, cust: string) => event('checkout.started', `co-${id}`, { id, currency: 'USD', total_price: 50, customer: { id: cust, email: `${cust}@example.com` } })
    await send(env, checkout('k1', 'c1'))
    await send(env, checkout('k2', 'c2'))
    await env.app.engine.drain()
    // c1 buys: the goal ends c1's run, c2's run carries on
    env.clock.advance(3600_000)
    await send(env, event('order.created', 'order-1', { id: 'o1', checkout_id: 'k1', currency: 'USD', total_price: 50, customer: { id: 'c1' } }))
    env.clock.advance(4 * 3600_000)
    await env.app.engine.drain()
    env.clock.advance(DAY)
    await env.app.engine.drain()

    const runs = await runOf(env, 'abandoned')
    const byCustomer = Object.fromEntries(runs.map((r) => [r.customer_id, r]))
    expect(byCustomer.c1!.status).toBe('exited')
    expect(byCustomer.c2!.status).toBe('completed')
    const c2Steps = await stepsOf(env, byCustomer.c2!.id)
    expect(c2Steps.map((s) => s.step_id)).toEqual(['s1', 's1_timed_out_1', 's2', 's3'])
    const tags = await env.app.handle.db.selectFrom('customers').select(['external_id', 'tags']).execute()
    expect(Object.fromEntries(tags.map((t) => [t.external_id, JSON.parse(t.tags)]))).toEqual({ c1: [], c2: ['abandoned', 'reminded'] })
  })

  it('a wait_for sees an event that arrived between the start of the run and the wait', async () => {
    await installWorkflow(env.app, `
id: raced
name: Raced
trigger: { event: order.paid }
steps:
  - wait: 1h
  - wait_for: { event: order.fulfilled, match: 'event.data.order_id == trigger.data.id', timeout: 2d }
    received:
      - action: tag_customer
        with: { tags: ['shipped-fast'] }
`)
    await send(env, event('order.paid', 'p1', { id: 'o9', currency: 'USD', total_price: 5, customer: { id: 'c9' } }))
    await env.app.engine.drain()
    env.clock.advance(10 * 60_000)
    await send(env, event('order.fulfilled', 'f1', { order_id: 'o9', customer: { id: 'c9' }, tracking_number: 'TN1' }))
    env.clock.advance(3600_000)
    await env.app.engine.drain()
    const [run] = await runOf(env, 'raced')
    expect(run!.status).toBe('completed')
    const steps = await stepsOf(env, run!.id)
    expect(steps.map((s) => s.step_id)).toEqual(['s1', 's2', 's2_received_1'])
  })

  it('a goal event that arrives while a worker is moving the run still ends it', async () => {
    await installWorkflow(env.app, `
id: busy
name: Busy
trigger: { event: checkout.started }
exit_when:
  - event: order.created
    match: 'event.data.checkout_id == trigger.data.id'
steps:
  - for_each: 'trigger.data.line_items'
    as: item
    steps:
      - action: log
        with: { message: 'x' }
  - wait: 1h
  - action: tag_customer
    with: { tags: [reminded] }
`)
    const items = Array.from({ length: 400 }, (_, i) => ({ sku: `s${i}`, quantity: 1, price: '1' }))
    await send(env, event('checkout.started', 'k1', { id: 'chk1', currency: 'USD', total_price: '10', customer: { id: 'C', email: 'c@example.com' }, line_items: items }))
    // the worker is busy with the run (400 loop steps) when the goal arrives
    const draining = env.app.engine.drain()
    await new Promise((r) => setTimeout(r, 30))
    await send(env, event('order.created', 'o1', { id: 'o1', checkout_id: 'chk1', currency: 'USD', total_price: '10', customer: { id: 'C' } }))
    await draining
    env.clock.advance(2 * 3600_000)
    await env.app.engine.drain()
    const [run] = await runOf(env, 'busy')
    expect(run!.status).toBe('exited')
    const customer = await env.app.handle.db.selectFrom('customers').select('tags').where('external_id', '=', 'C').executeTakeFirstOrThrow()
    expect(JSON.parse(customer.tags)).toEqual([])
  })

  it('the same event id twice starts one run', async () => {
    await installWorkflow(env.app, `
id: once
name: Once
trigger: { event: customer.created }
steps:
  - action: log
    with: { message: 'hello {{ customer.email }}' }
`)
    const first = await send(env, event('customer.created', 'same', { id: 'c1', email: 'x@example.com' }))
    const second = await send(env, event('customer.created', 'same', { id: 'c1', email: 'x@example.com' }))
    expect(first.duplicate).toBe(false)
    expect(second.duplicate).toBe(true)
    await env.app.engine.drain()
    const runs = await runOf(env, 'once')
    expect(runs).toHaveLength(1)
    const steps = await stepsOf(env, runs[0]!.id)
    expect(JSON.parse(steps[0]!.output!)).toEqual({ message: 'hello x@example.com', level: 'info' })
  })
})
