import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestEnv, DIALECTS, type TestEnv } from '../../test/helpers/dialects.ts'
import { startShopifyStandIn, type ShopifyStandIn } from '../../test/helpers/shopify-admin-stand-in.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { createOutboundClient } from '../lib/guarded-request.ts'
import type { ActionServices, IssuedDiscountCode } from '../plugin-api/index.ts'
import { createConnector } from '../store/connectors.repo.ts'
import { createStore } from '../store/stores.repo.ts'
import { createInShop } from './create-discount-code/shop.ts'

/**
 * create_discount_code and hold_order acting in the store's Shopify shop, through the engine, against
 * a local stand-in of the GraphQL Admin API that answers as Shopify documents it.
 */
describe.each(DIALECTS)('Shopify discount codes and holds on %s', (dialect) => {
  let env: TestEnv
  let shopA: ShopifyStandIn
  let shopB: ShopifyStandIn
  let seq = 0

  beforeEach(async () => {
    seq = 0
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    shopA = await startShopifyStandIn('shpat_a')
    shopB = await startShopifyStandIn('shpat_b')
  })
  afterEach(async () => {
    await shopA.close()
    await shopB.close()
    await env.cleanup()
  })

  const connect = async (store: string, shop: ShopifyStandIn, token: string) => {
    const connector = await createConnector(
      env.app.handle.db,
      env.config.secretKey,
      store,
      { platform: 'shopify', secrets: ['s'], shop_domain: `${store}.example`, api_url: shop.apiUrl, access_token: token },
      env.clock.now(),
    )
    return connector.id
  }
  const send = async (store: string, type: string, data: Record<string, unknown>) => {
    const parsed = parseEvent({ id: `ev-${++seq}`, type, store, occurred_at: env.clock.now().toISOString(), data }, { store, now: env.clock.now() })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.settle()
    await env.app.engine.drain()
  }
  const later = async (ms: number) => {
    env.clock.advance(ms)
    await env.app.engine.drain()
  }
  const stepOf = async (store: string, stepId: string) => {
    const row = await env.app.handle.db
      .selectFrom('run_steps')
      .selectAll()
      .where('store_id', '=', store)
      .where('step_id', '=', stepId)
      .executeTakeFirstOrThrow()
    return { status: row.status, attempts: row.attempts, error: row.error, output: row.output ? JSON.parse(row.output) : null }
  }
  const runOf = async (store: string) => env.app.handle.db.selectFrom('runs').selectAll().where('store_id', '=', store).executeTakeFirstOrThrow()
  const codesOf = async (store: string) =>
    env.app.handle.db.selectFrom('discount_codes').select(['code', 'kind']).where('store_id', '=', store).orderBy('code').execute()
  const order = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    number: id,
    currency: 'EUR',
    total_price: '80.00',
    financial_status: 'paid',
    customer: { id: 'c1', email: 'c1@example.com' },
    email: 'c1@example.com',
    line_items: [{ sku: 'MUG', product_id: 'p1', variant_id: 'v1', title: 'Mug', quantity: 2, price: '40.00' }],
    billing_address: { country_code: 'DE' },
    shipping_address: { country_code: 'DE' },
    ...extra,
  })

  const CODES = `
id: codes
name: Codes
trigger: { event: order.paid }
steps:
  - id: pct
    action: create_discount_code
    with: { percent: 12.5, min_spend: 50, expires_in: 7d, usage_limit: 2, prefix: thanks- }
  - id: amt
    action: create_discount_code
    with: { amount: '15' }
  - id: ship
    action: create_discount_code
    with: { free_shipping: true }
`

  it("creates each issued code in its own store's shop, as issued; a store without a connector still issues its code", async () => {
    await createStore(env.app.handle.db, { id: 'b' }, env.clock.now())
    await createStore(env.app.handle.db, { id: 'c' }, env.clock.now())
    await connect('default', shopA, 'shpat_a')
    await connect('b', shopB, 'shpat_b')
    for (const store of ['default', 'b', 'c']) await installWorkflow(env.app, CODES, { store })
    const issuedAt = env.clock.now().toISOString()
    for (const store of ['default', 'b', 'c']) await send(store, 'order.paid', order('5001'))

    for (const [store, shop] of [
      ['default', shopA],
      ['b', shopB],
    ] as const) {
      const pct = await stepOf(store, 'pct')
      const amt = await stepOf(store, 'amt')
      const ship = await stepOf(store, 'ship')
      expect([pct.status, amt.status, ship.status]).toEqual(['completed', 'completed', 'completed'])
      // each store's shop holds exactly that store's three codes, sent with that store's token only
      expect(shop.discounts.map((d) => d.input.code).sort()).toEqual((await codesOf(store)).map((c) => c.code).sort())
      expect(new Set(shop.requests.map((r) => r.token))).toEqual(new Set([store === 'default' ? 'shpat_a' : 'shpat_b']))
      expect(shop.requests.every((r) => r.path === '/admin/api/2025-01/graphql.json')).toBe(true)

      const byCode = (code: string) => shop.discounts.find((d) => d.input.code === code)!
      const p = byCode(pct.output.code)
      expect(pct.output).toMatchObject({ kind: 'percent', value: 12.5, min_spend: 50, usage_limit: 2, shop: 'created', shop_discount_id: p.id })
      expect(p.type).toBe('basic')
      expect(p.input).toMatchObject({
        code: pct.output.code,
        startsAt: issuedAt,
        endsAt: pct.output.expires_at,
        usageLimit: 2,
        customerSelection: { all: true },
        minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: '50.00' } },
        customerGets: { value: { percentage: 0.125 }, items: { all: true } },
      })
      expect(pct.output.expires_at).toBe(new Date(Date.parse(issuedAt) + 7 * 86_400_000).toISOString())
      const a = byCode(amt.output.code)
      expect(amt.output).toMatchObject({ kind: 'amount', value: 15, shop: 'created', shop_discount_id: a.id })
      expect(a.input).toMatchObject({ usageLimit: 1, endsAt: null, customerGets: { value: { discountAmount: { amount: '15.00', appliesOnEachItem: false } } } })
      expect(a.input.minimumRequirement).toBeUndefined()
      const s = byCode(ship.output.code)
      expect(ship.output).toMatchObject({ kind: 'free_shipping', free_shipping: true, shop: 'created', shop_discount_id: s.id })
      expect(s).toMatchObject({ type: 'free_shipping', input: { destination: { all: true }, usageLimit: 1 } })
    }
    // no connector: the code is issued and the step says so
    expect(await codesOf('c')).toHaveLength(3)
    expect((await stepOf('c', 'pct')).output).toMatchObject({ shop: 'not_connected', shop_discount_id: null })
    expect((await runOf('c')).status).toBe('completed')
  })

  it('a step whose answer was lost is retried with the same code and creates no second discount in the shop', async () => {
    await connect('default', shopA, 'shpat_a')
    await installWorkflow(
      env.app,
      'id: one\nname: One\ntrigger: { event: order.paid }\nsteps:\n  - id: code\n    action: create_discount_code\n    with: { amount: 5 }\n',
    )
    // the shop creates the discount, then the answer is lost on the way back (502)
    shopA.failures = ['lost']
    await send('default', 'order.paid', order('5001'))
    let step = await stepOf('default', 'code')
    expect(step.status).toBe('retrying')
    expect(shopA.discounts).toHaveLength(1)

    await later(60_000)
    step = await stepOf('default', 'code')
    expect(step).toMatchObject({ status: 'completed', attempts: 2 })
    expect(step.output).toMatchObject({ shop: 'already_created', shop_discount_id: shopA.discounts[0]!.id, code: shopA.discounts[0]!.input.code })
    expect(shopA.discounts).toHaveLength(1)
    expect(await codesOf('default')).toEqual([{ code: shopA.discounts[0]!.input.code, kind: 'amount' }])
    expect(shopA.requests.map((r) => r.operation)).toEqual(['discountCodeBasicCreate', 'codeDiscountNodeByCode'])
  })

  it('throttled, rate-limited and failing answers retry after the wait Shopify asks, then the code is created', async () => {
    await connect('default', shopA, 'shpat_a')
    await installWorkflow(
      env.app,
      'id: one\nname: One\ntrigger: { event: order.paid }\nsteps:\n  - id: code\n    action: create_discount_code\n    with: { percent: 10 }\n',
    )
    shopA.failures = ['throttled', '429', '500']
    await send('default', 'order.paid', order('5001'))
    // THROTTLED: (requestedQueryCost 110 - currentlyAvailable 10) / restoreRate 100 = 1 s
    let run = await runOf('default')
    expect(run.due_at).toBe(new Date(env.clock.now().getTime() + 1000).toISOString())
    expect((await stepOf('default', 'code')).error).toMatch(/throttled/)
    await later(1000)
    // 429 with Retry-After: 2.0 (seconds)
    run = await runOf('default')
    expect(run.due_at).toBe(new Date(env.clock.now().getTime() + 2000).toISOString())
    await later(2000)
    expect((await stepOf('default', 'code')).error).toMatch(/answered 500/)
    await later(60_000)
    const step = await stepOf('default', 'code')
    expect(step).toMatchObject({ status: 'completed', attempts: 4, output: { shop: 'created' } })
    expect(shopA.discounts).toHaveLength(1)
    expect(shopA.discounts[0]!.input.customerGets.value).toEqual({ percentage: 0.1 })
  })

  it('a refused token fails the step for good, naming the connector, and retries nothing', async () => {
    const connectorId = await connect('default', shopA, 'shpat_revoked')
    await installWorkflow(
      env.app,
      'id: one\nname: One\ntrigger: { event: order.paid }\nsteps:\n  - id: code\n    action: create_discount_code\n    with: { percent: 10 }\n',
    )
    await installWorkflow(env.app, 'id: two\nname: Two\ntrigger: { event: order.paid }\nsteps:\n  - id: hold\n    action: hold_order\n')
    shopA.orders.set('gid://shopify/Order/5001', [{ id: 'gid://shopify/FulfillmentOrder/1', status: 'OPEN', holds: [] }])
    await send('default', 'order.paid', order('5001'))
    for (const id of ['code', 'hold']) {
      const step = await stepOf('default', id)
      expect(step.status).toBe('failed')
      expect(step.attempts).toBe(1)
      expect(step.error).toContain(`connector ${connectorId}`)
      expect(step.error).toContain('401')
    }
    const runs = await env.app.handle.db.selectFrom('runs').select('status').execute()
    expect(runs.map((r) => r.status)).toEqual(['failed', 'failed'])
    await later(3_600_000)
    expect(shopA.requests).toHaveLength(2)
    expect(shopA.discounts).toHaveLength(0)
    expect(shopA.orders.get('gid://shopify/Order/5001')![0]!.holds).toEqual([])
  })

  it("holds a risky order's open fulfillment orders in the shop with the reasons, once however often the step is tried", async () => {
    await createStore(env.app.handle.db, { id: 'b' }, env.clock.now())
    await connect('default', shopA, 'shpat_a')
    await connect('b', shopB, 'shpat_b')
    const yaml = `
id: fraud
name: Hold risky orders
trigger: { event: order.created }
steps:
  - if: 'order.risk.level == "high"'
    then:
      - id: hold
        action: hold_order
`
    await installWorkflow(env.app, yaml)
    await installWorkflow(env.app, yaml, { store: 'b' })
    shopA.orders.set('gid://shopify/Order/5001', [
      { id: 'gid://shopify/FulfillmentOrder/1', status: 'OPEN', holds: [] },
      { id: 'gid://shopify/FulfillmentOrder/2', status: 'CLOSED', holds: [] },
      { id: 'gid://shopify/FulfillmentOrder/3', status: 'IN_PROGRESS', holds: [] },
    ])
    shopB.orders.set('gid://shopify/Order/5001', [{ id: 'gid://shopify/FulfillmentOrder/9', status: 'CLOSED', holds: [] }])
    const risky = {
      email: 'buyer@mailinator.com',
      customer: { id: 'c1', email: 'buyer@mailinator.com' },
      billing_address: { country_code: 'US' },
      shipping_address: { country_code: 'DE' },
    }
    // the first hold is placed, then its answer is lost: the retry holds only the one left
    shopA.failures = [null, null, 'lost']
    await send('default', 'order.created', order('5001', risky))
    await send('b', 'order.created', order('5001', risky))
    expect((await stepOf('default', 'hold')).status).toBe('retrying')
    await later(60_000)

    const hold = await stepOf('default', 'hold')
    const reasons = ['billing country US differs from shipping country DE', 'disposable email domain mailinator.com']
    expect(hold).toMatchObject({ status: 'completed', output: { held: true, level: 'high', reasons, shop: 'held' } })
    const fos = shopA.orders.get('gid://shopify/Order/5001')!
    expect(fos.map((fo) => [fo.status, fo.holds.length])).toEqual([
      ['ON_HOLD', 1],
      ['CLOSED', 0],
      ['ON_HOLD', 1],
    ])
    expect(fos[0]!.holds[0]).toMatchObject({ reason: 'HIGH_RISK_OF_FRAUD', reasonNotes: reasons.join('; ') })
    expect(shopA.requests.every((r) => r.token === 'shpat_a')).toBe(true)
    // store b's order has nothing left to hold; its shop saw only its own token
    expect((await stepOf('b', 'hold')).output).toMatchObject({ held: true, shop: 'nothing_to_hold' })
    expect(shopB.requests.map((r) => [r.operation, r.token])).toEqual([['orderFulfillmentOrders', 'shpat_b']])
  })
})

describe('create_discount_code against a shop that already has the code', () => {
  it('a "must be unique" answer for the same code is looked up and counts as already created', async () => {
    const shop = await startShopifyStandIn('shpat_a')
    try {
      const services = {
        orders: { shopifyAdmin: async () => ({ connectorId: 'con_1', graphqlUrl: `${shop.apiUrl}/graphql.json`, accessToken: 'shpat_a' }) },
        http: createOutboundClient({ allowPrivate: true }),
      } as unknown as ActionServices
      const code: IssuedDiscountCode = {
        code: 'WELCOME-ABC',
        kind: 'percent',
        value: '10',
        freeShipping: false,
        minSpend: null,
        expiresAt: null,
        usageLimit: 1,
        issuedValue: '0.00',
        created: true,
      }
      const context = { workflowId: 'wf', idempotencyKey: 'run_1:code', startsAt: '2026-03-02T10:00:00.000Z' }
      const first = await createInShop(services, code, context)
      expect(first).toMatchObject({ shop: 'created' })
      const again = await createInShop(services, code, context)
      expect(again).toEqual({ shop: 'already_created', id: first.id })
      expect(shop.discounts).toHaveLength(1)
      expect(shop.requests.map((r) => r.operation)).toEqual(['discountCodeBasicCreate', 'discountCodeBasicCreate', 'codeDiscountNodeByCode'])
    } finally {
      await shop.close()
    }
  })
})
