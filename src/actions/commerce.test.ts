import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useApiEnv } from '../../test/helpers/api-env.ts'
import { createTestEnv, DIALECTS, type TestEnv } from '../../test/helpers/dialects.ts'
import { parseEvent } from '../contracts/events.ts'
import { createConnector } from '../store/connectors.repo.ts'
import { createStore } from '../store/stores.repo.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'

const HOUR = 3_600_000

/** Commerce I through the front door: events in by the API, workflows run by the engine, answers read from the API. */
describe.each(DIALECTS)('commerce I on %s', (dialect) => {
  const api = useApiEnv(dialect)
  let seq = 0

  beforeEach(() => {
    seq = 0
  })

  const send = async (type: string, data: Record<string, unknown>, at?: string) => {
    const res = await api.server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: api.headers,
      payload: event(type, `ev-${type}-${++seq}`, data, at ?? api.env.clock.now().toISOString()),
    })
    expect(res.statusCode, res.body).toBe(202)
    await api.env.app.engine.settle()
    await api.env.app.engine.drain()
  }
  const get = async (url: string) => {
    const res = await api.server.inject({ method: 'GET', url, headers: api.headers })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }
  const runsOf = async (workflow: string) => (await get(`/api/v1/runs?workflow=${workflow}&limit=100`)).items as Array<Record<string, any>>
  const runOf = async (workflow: string, customer: string) => {
    const runs = await runsOf(workflow)
    const run = runs.find((r) => r.customer_id === customer)
    return run ? get(`/api/v1/runs/${run.id}`) : null
  }
  const stock = async (sku: string) => {
    const db = api.env.app.handle.db
    const variant = await db.selectFrom('variants').select('inventory_quantity').where('store_id', '=', 'default').where('sku', '=', sku).executeTakeFirst()
    const level = await db.selectFrom('inventory_levels').select('available').where('store_id', '=', 'default').where('sku', '=', sku).executeTakeFirst()
    return { variant: variant?.inventory_quantity, level: level?.available }
  }

  const order = (id: string, customer: string, extra: Record<string, unknown> = {}) => ({
    id,
    number: id,
    currency: 'EUR',
    total_price: '80.00',
    financial_status: 'paid',
    customer: { id: customer, email: `${customer}@example.com` },
    email: `${customer}@example.com`,
    line_items: [{ sku: 'MUG', product_id: 'p1', variant_id: 'v1', title: 'Mug', quantity: 2, price: '40.00' }],
    billing_address: { country_code: 'DE' },
    shipping_address: { country_code: 'DE' },
    created_at: api.env.clock.now().toISOString(),
    ...extra,
  })

  it('holds a risky order (country mismatch, disposable email) with its reasons on the timeline, not a safe one; tag_order shows in order.tags', async () => {
    await installWorkflow(
      api.env.app,
      `
id: fraud-review
name: Suspicious order hold
trigger: { event: order.created }
steps:
  - if: 'order.risk.level == "high"'
    then:
      - action: hold_order
        id: hold
      - action: tag_order
        id: tag
        with: { tags: [fraud-review] }
`,
    )
    await installWorkflow(
      api.env.app,
      `
id: after-payment
name: Sees the order's hold and tags
trigger: { event: order.paid }
when: 'order.held && "fraud-review" in order.tags && order.risk.score >= 60'
steps:
  - action: tag_customer
    with: { tags: [held-order] }
`,
    )
    const risky = order('o-risky', 'c-risky', {
      email: 'buyer@mailinator.com',
      customer: { id: 'c-risky', email: 'buyer@mailinator.com' },
      billing_address: { country_code: 'US' },
      shipping_address: { country_code: 'DE' },
    })
    await send('order.created', risky)
    await send('order.created', order('o-safe', 'c-safe'))

    const held = await runOf('fraud-review', 'c-risky')
    expect(held.status).toBe('completed')
    const hold = held.steps.find((s: any) => s.id === 'hold')
    expect(hold.status).toBe('completed')
    expect(hold.output).toMatchObject({
      held: true,
      level: 'high',
      score: 65,
      reasons: ['billing country US differs from shipping country DE', 'disposable email domain mailinator.com'],
    })
    expect(held.steps.find((s: any) => s.id === 'tag').output).toEqual({ added: ['fraud-review'], shop: 'not_connected' })

    const safe = await runOf('fraud-review', 'c-safe')
    expect(safe.status).toBe('completed')
    expect(safe.steps.map((s: any) => s.type)).not.toContain('hold_order')

    // the view the next run sees: held, tagged, scored
    await send('order.paid', risky)
    await send('order.paid', order('o-safe', 'c-safe'))
    expect((await get('/api/v1/customers/c-risky')).tags).toEqual(['held-order'])
    expect((await get('/api/v1/customers/c-safe')).tags).toEqual([])
  })

  it('takes stock once per order however often its events arrive, and gives it back once on cancellation', async () => {
    await send('product.updated', { id: 'p1', title: 'Mug', status: 'active', variants: [{ id: 'v1', sku: 'MUG', price: '40.00', inventory_quantity: 10 }] })
    await send('inventory.updated', { sku: 'MUG', variant_id: 'v1', location_id: 'default', available: 10 })
    expect(await stock('MUG')).toEqual({ variant: 10, level: 10 })

    const o = order('o-stock', 'c-stock')
    await send('order.created', o)
    expect(await stock('MUG')).toEqual({ variant: 8, level: 8 })
    // the same order again (a redelivery with a new id), then its payment: no more taken
    await send('order.created', o)
    await send('order.paid', o)
    expect(await stock('MUG')).toEqual({ variant: 8, level: 8 })

    await send('order.cancelled', o)
    expect(await stock('MUG')).toEqual({ variant: 10, level: 10 })
    await send('order.cancelled', o)
    await send('order.refunded', o)
    expect(await stock('MUG')).toEqual({ variant: 10, level: 10 })

    // an order whose first event is its cancellation never takes stock
    await send('order.cancelled', order('o-late', 'c-stock'))
    await send('order.created', order('o-late', 'c-stock'))
    expect(await stock('MUG')).toEqual({ variant: 10, level: 10 })

    // imported history: the shop's counts already include those orders
    const old = order('o-old', 'c-stock', { created_at: '2025-01-01T10:00:00.000Z' })
    const history = await api.server.inject({
      method: 'POST',
      url: '/api/v1/events?history=true',
      headers: api.headers,
      payload: event('order.created', 'ev-old', old, '2025-01-01T10:00:00.000Z'),
    })
    expect(history.statusCode, history.body).toBe(202)
    await api.env.app.engine.settle()
    await send('order.cancelled', old)
    expect(await stock('MUG')).toEqual({ variant: 10, level: 10 })
  })

  it("cancel_runs ends this customer's runs of other workflows, not its own run and not another customer's", async () => {
    await installWorkflow(
      api.env.app,
      `
id: nurture
name: Nurture
trigger: { event: customer.created }
steps:
  - wait: 7d
  - action: tag_customer
    with: { tags: [nurtured] }
`,
    )
    await installWorkflow(
      api.env.app,
      `
id: cancellation
name: Cancellation ends the customer's other flows
trigger: { event: order.cancelled }
steps:
  - action: cancel_runs
    id: cancel
`,
    )
    await send('customer.created', { id: 'c1', email: 'c1@example.com' })
    await send('customer.created', { id: 'c2', email: 'c2@example.com' })
    expect((await runOf('nurture', 'c1')).status).toBe('waiting')

    await send('order.cancelled', order('o-c1', 'c1'))
    const cancelling = await runOf('cancellation', 'c1')
    expect(cancelling.status).toBe('completed')
    expect(cancelling.steps.find((s: any) => s.id === 'cancel').output).toEqual({ cancelled: 1 })
    expect((await runOf('nurture', 'c1')).status).toBe('cancelled')
    expect((await runOf('nurture', 'c2')).status).toBe('waiting')
  })

  it('counts marketing mail since the last order and the last open, for conditions', async () => {
    const put = await api.server.inject({ method: 'PUT', url: '/api/v1/settings', headers: api.headers, payload: { frequency_cap: null } })
    expect(put.statusCode, put.body).toBe(200)
    await installWorkflow(
      api.env.app,
      `
id: promo
name: Promo
trigger: { event: cart.updated }
reentry: { per_customer: always }
steps:
  - action: send_email
    with: { subject: 'Hello', html: '<p>News</p>' }
`,
    )
    await installWorkflow(
      api.env.app,
      `
id: offer
name: Offer after 3 mails without a purchase
trigger: { event: checkout.started }
when: 'customer.marketing_sent_since_last_order >= 3 && customer.last_opened_at == null'
steps:
  - action: tag_customer
    with: { tags: [offer] }
`,
    )
    await send('customer.created', { id: 'c5', email: 'c5@example.com', accepts_marketing: true })
    for (let i = 0; i < 3; i++) {
      await send('cart.updated', { id: `cart-${i}`, customer: { id: 'c5' }, currency: 'EUR', total_price: '10.00', line_items: [] })
      api.env.clock.advance(HOUR)
    }
    const profile = await get('/api/v1/customers/c5')
    expect(profile.marketing_sent_since_last_order).toBe(3)
    expect(profile.last_opened_at).toBeNull()

    await send('checkout.started', { id: 'chk-1', customer: { id: 'c5' }, currency: 'EUR', total_price: '10.00', line_items: [] })
    expect((await get('/api/v1/customers/c5')).tags).toEqual(['offer'])

    const openedAt = api.env.clock.now().toISOString()
    await send('message.opened', { message_id: 'msg_x', customer_id: 'c5', customer: { id: 'c5' } }, openedAt)
    api.env.clock.advance(HOUR)
    await send('order.created', order('o-c5', 'c5'))
    const after = await get('/api/v1/customers/c5')
    expect(after.marketing_sent_since_last_order).toBe(0)
    expect(after.last_opened_at).toBe(openedAt)
    expect(after.last_clicked_at).toBeNull()
  })
})

/** A Shopify Admin API stand-in on 127.0.0.1: keeps every request with its headers, answers tagsAdd. */
async function startShopifyStandIn() {
  const requests: Array<{ path: string; token: string | undefined; body: any }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests.push({
        path: req.url ?? '',
        token: req.headers['x-shopify-access-token'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      })
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { tagsAdd: { userErrors: [] } } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

describe.each(DIALECTS)('tag_order in the shop on %s', (dialect) => {
  let env: TestEnv
  let shop: Awaited<ReturnType<typeof startShopifyStandIn>>
  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    shop = await startShopifyStandIn()
  })
  afterEach(async () => {
    await shop.close()
    await env.cleanup()
  })

  it("tags the order in Shopify through the connector's Admin API credentials, and in the view; a store without them only in the view", async () => {
    const db = env.app.handle.db
    await createStore(db, { id: 'b' }, env.clock.now())
    await createConnector(
      db,
      env.config.secretKey,
      'default',
      { platform: 'shopify', secrets: ['s'], shop_domain: 'shop-a.example', api_url: `${shop.url}/admin/api/2025-01`, access_token: 'shpat_a' },
      env.clock.now(),
    )
    const yaml = `
id: tagger
name: Tag orders
trigger: { event: order.created }
steps:
  - action: tag_order
    id: tag
    with: { tags: [first, gift] }
`
    await installWorkflow(env.app, yaml)
    await installWorkflow(env.app, yaml, { store: 'b' })
    for (const store of ['default', 'b']) {
      const parsed = parseEvent(
        {
          id: `o-${store}`,
          type: 'order.created',
          store,
          data: { id: '5001', currency: 'EUR', total_price: '10.00', customer: { id: 'c1', email: 'c1@example.com' } },
        },
        { store, now: env.clock.now() },
      )
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    }
    await env.app.engine.settle()
    await env.app.engine.drain()

    expect(shop.requests).toHaveLength(1)
    expect(shop.requests[0]).toMatchObject({
      path: '/admin/api/2025-01/graphql.json',
      token: 'shpat_a',
      body: { variables: { id: 'gid://shopify/Order/5001', tags: ['first', 'gift'] } },
    })
    expect(shop.requests[0]!.body.query).toContain('tagsAdd')
    const outputs = await db.selectFrom('run_steps').select(['store_id', 'output']).where('step_id', '=', 'tag').orderBy('store_id').execute()
    expect(outputs.map((o) => [o.store_id, JSON.parse(o.output!)])).toEqual([
      ['b', { added: ['first', 'gift'], shop: 'not_connected' }],
      ['default', { added: ['first', 'gift'], shop: 'tagged' }],
    ])
  })
})
