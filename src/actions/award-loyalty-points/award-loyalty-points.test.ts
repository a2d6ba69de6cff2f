import { describe, expect, it } from 'vitest'
import { actionContext, actionEnv } from '../../../test/helpers/action-context.ts'
import { useApiEnv, type ApiEnv } from '../../../test/helpers/api-env.ts'
import { DIALECTS } from '../../../test/helpers/dialects.ts'
import { installWorkflow } from '../../../test/helpers/workflows.ts'
import { parseEvent } from '../../contracts/events.ts'
import { createKey, createStore } from '../../store/stores.repo.ts'
import { awardLoyaltyPoints } from './award-loyalty-points.action.ts'

/** award_loyalty_points through the front door: workflows on orders, balances read from GET /api/v1/customers/:id. */

async function send(api: ApiEnv, type: string, id: string, data: Record<string, unknown>, store = 'default') {
  const parsed = parseEvent({ id, type, store, occurred_at: api.env.clock.now().toISOString(), data }, { store, now: api.env.clock.now() })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  const [result] = await api.env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
  await api.env.app.engine.settle()
  await api.env.app.engine.drain()
  return result!
}

const order = (id: string, customer: string, total: string) => ({
  id,
  number: id,
  currency: 'USD',
  total_price: total,
  financial_status: 'paid',
  line_items: [],
  customer: { id: customer, email: `${customer}@example.com` },
})

async function points(api: ApiEnv, customer: string, key = api.admin): Promise<number> {
  const res = await api.server.inject({ method: 'GET', url: `/api/v1/customers/${customer}`, headers: { authorization: `Bearer ${key}` } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json().loyalty_points as number
}

async function tagsOf(api: ApiEnv, customer: string): Promise<string[]> {
  return (await api.server.inject({ method: 'GET', url: `/api/v1/customers/${customer}`, headers: api.headers })).json().tags
}

const EARN = `
id: earn
name: Points per purchase
trigger: { event: order.paid }
steps:
  - id: points
    action: award_loyalty_points
    with: { points: 10, per_currency_unit: 1, reason: purchase }
`

describe.each(DIALECTS)('award_loyalty_points on %s', (dialect) => {
  const api = useApiEnv(dialect)

  it('awards points per order, shows the balance on the profile and to conditions, and takes an order back once on refund and cancel', async () => {
    await installWorkflow(api.env.app, EARN)
    await installWorkflow(
      api.env.app,
      `
id: loyal
name: Loyal customers
trigger: { event: order.fulfilled }
when: 'customer.loyalty_points >= 80'
steps:
  - action: tag_customer
    with: { tags: [loyal] }
`,
    )
    // 10 + 45 (45.99 rounded down), then 10 + 20
    await send(api, 'order.paid', 'p1', order('o1', 'c1', '45.99'))
    expect(await points(api, 'c1')).toBe(55)
    await send(api, 'order.paid', 'p2', order('o2', 'c1', '20.00'))
    expect(await points(api, 'c1')).toBe(85)
    const run = (await api.server.inject({ method: 'GET', url: '/api/v1/runs?workflow=earn', headers: api.headers })).json().items[0]
    const detail = (await api.server.inject({ method: 'GET', url: `/api/v1/runs/${run.id}`, headers: api.headers })).json()
    expect(detail.steps[0]).toMatchObject({ type: 'award_loyalty_points', status: 'completed', output: { points: 30, balance: 85, order_id: 'o2' } })
    // conditions read customer.loyalty_points
    await send(api, 'order.fulfilled', 'f2', { order_id: 'o2', customer: { id: 'c1' } })
    expect(await tagsOf(api, 'c1')).toEqual(['loyal'])

    // o1 refunded twice (two refunds, two events), then cancelled: its 55 points go back once
    await send(api, 'order.refunded', 'r1', { ...order('o1', 'c1', '45.99'), refund_amount: '10.00' })
    expect(await points(api, 'c1')).toBe(30)
    await send(api, 'order.refunded', 'r2', { ...order('o1', 'c1', '45.99'), refund_amount: '5.00' })
    await send(api, 'order.cancelled', 'x1', order('o1', 'c1', '45.99'))
    expect(await send(api, 'order.cancelled', 'x1', order('o1', 'c1', '45.99'))).toMatchObject({ duplicate: true })
    expect(await points(api, 'c1')).toBe(30)
    // a late order.paid of the cancelled order earns nothing
    await send(api, 'order.paid', 'p1-late', order('o1', 'c1', '45.99'))
    expect(await points(api, 'c1')).toBe(30)
    const runs = (await api.server.inject({ method: 'GET', url: '/api/v1/runs?workflow=earn', headers: api.headers })).json().items as Array<{ id: string }>
    const late = (await api.server.inject({ method: 'GET', url: `/api/v1/runs/${runs[0]!.id}`, headers: api.headers })).json()
    expect(late.steps[0]).toMatchObject({ status: 'skipped', output: { reason: 'order_cancelled_or_refunded', order_id: 'o1' } })
  })

  it('an order cancelled while the run waits earns nothing', async () => {
    await installWorkflow(
      api.env.app,
      `
id: later
name: Points after a day
trigger: { event: order.paid }
steps:
  - wait: 1d
  - action: award_loyalty_points
    with: { per_currency_unit: 2 }
`,
    )
    await send(api, 'order.paid', 'p1', order('o1', 'c1', '30.00'))
    await send(api, 'order.paid', 'p2', order('o2', 'c2', '30.00'))
    await send(api, 'order.cancelled', 'x1', order('o1', 'c1', '30.00'))
    api.env.clock.advance(86_400_000)
    await api.env.app.engine.drain()
    expect(await points(api, 'c1')).toBe(0)
    expect(await points(api, 'c2')).toBe(60)
  })

  it('points earned as a guest (email only) stay with the customer once the shop names them', async () => {
    await installWorkflow(api.env.app, EARN)
    await send(api, 'order.paid', 'p1', { ...order('o1', 'c1', '30.00'), customer: { email: 'guest@example.com' } })
    expect(await points(api, 'guest@example.com')).toBe(40)
    // the shop's id arrives with the email: the guest profile joins c1's
    await send(api, 'customer.created', 'cc1', { id: 'c1', email: 'other@example.com' })
    await send(api, 'customer.updated', 'cu1', { id: 'c1', email: 'guest@example.com' })
    expect(await points(api, 'c1')).toBe(40)
    // and the guest order's cancellation still takes them back
    await send(api, 'order.cancelled', 'x1', { ...order('o1', 'c1', '30.00'), customer: { email: 'guest@example.com' } })
    expect(await points(api, 'c1')).toBe(0)
  })

  it("a second store sees none of the first store's points", async () => {
    await installWorkflow(api.env.app, EARN)
    const db = api.env.app.handle.db
    await createStore(db, { id: 'second' }, api.env.clock.now())
    const secondKey = (await createKey(db, 'second', 'admin', api.env.clock.now())).key
    await send(api, 'order.paid', 'p1', order('o1', 'c1', '40.00'))
    // the same customer and order ids in the second store, which has no workflow
    await send(api, 'order.paid', 'p1', order('o1', 'c1', '40.00'), 'second')
    expect(await points(api, 'c1')).toBe(50)
    expect(await points(api, 'c1', secondKey)).toBe(0)
    // the second store's cancellation of its own o1 does not take the first store's points
    await send(api, 'order.cancelled', 'x1', order('o1', 'c1', '40.00'), 'second')
    expect(await points(api, 'c1')).toBe(50)
  })
})

describe.each(DIALECTS)('award_loyalty_points against the store on %s', (dialect) => {
  it('the same step tried again awards once', async () => {
    const env = await actionEnv(dialect)
    try {
      const db = env.env.app.handle.db
      await db
        .insertInto('customers')
        .values({
          key: 'cus_1',
          store_id: 'default',
          external_id: '1001',
          email: 'ada@example.test',
          phone: null,
          first_name: null,
          last_name: null,
          accepts_marketing: 1,
          unsubscribed_at: null,
          birthday: null,
          timezone: null,
          tags: '[]',
          orders_count: 0,
          total_spent: '0.00',
          last_order_at: null,
          attributes: '{}',
          profile_at: null,
          consent_at: null,
          shop_accepts_marketing: null,
          shop_accepts_marketing_at: null,
          created_at: '2026-03-01T00:00:00.000Z',
          updated_at: '2026-03-01T00:00:00.000Z',
        })
        .execute()
      const input = awardLoyaltyPoints.input.parse({ points: 25 })
      const ctx = (stepKey: string) => actionContext(input, { services: env.services, clock: env.clock, stepKey, runId: 'run_1', scope: { order: null } })
      expect(await awardLoyaltyPoints.run(ctx('a'))).toEqual({ points: 25, balance: 25, order_id: null })
      expect(await awardLoyaltyPoints.run(ctx('a'))).toEqual({ points: 25, balance: 25, order_id: null })
      expect(await awardLoyaltyPoints.run(ctx('b'))).toEqual({ points: 25, balance: 50, order_id: null })
      const row = await db.selectFrom('customers').select('loyalty_points').where('key', '=', 'cus_1').executeTakeFirstOrThrow()
      expect(row.loyalty_points).toBe(50)
    } finally {
      await env.cleanup()
    }
  })
})
