import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestEnv, DIALECTS, type TestEnv } from '../../../test/helpers/dialects.ts'
import { startShopifyStandIn, type ShopifyStandIn } from '../../../test/helpers/shopify-admin-stand-in.ts'
import { startWooStandIn, type WooStandIn } from '../../../test/helpers/woocommerce-stand-in.ts'
import { installWorkflow } from '../../../test/helpers/workflows.ts'
import { parseEvent } from '../../contracts/events.ts'
import { createOutboundClient } from '../../lib/guarded-request.ts'
import { createConnector } from '../../store/connectors.repo.ts'
import { pushToWooCommerce } from './woocommerce.ts'
import { createStore } from '../../store/stores.repo.ts'

/** update_product and sync_channels through the engine, against local Shopify GraphQL and WooCommerce REST stand-ins. */
describe.each(DIALECTS)('update_product and sync_channels on %s', (dialect) => {
  let env: TestEnv
  let shopA: ShopifyStandIn
  let shopB: ShopifyStandIn
  let wooA: WooStandIn
  let seq = 0

  beforeEach(async () => {
    seq = 0
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    shopA = await startShopifyStandIn('shpat_a')
    shopB = await startShopifyStandIn('shpat_b')
    wooA = await startWooStandIn('ck_a', 'cs_a', ['p1'])
  })
  afterEach(async () => {
    await shopA.close()
    await shopB.close()
    await wooA.close()
    await env.cleanup()
  })

  const connect = async (store: string, input: Record<string, unknown>) =>
    createConnector(env.app.handle.db, env.config.secretKey, store, { secrets: ['s'], ...input } as never, env.clock.now())
  const send = async (store: string, type: string, data: Record<string, unknown>, occurredAt?: string) => {
    const parsed = parseEvent(
      { id: `ev-${++seq}`, type, store, occurred_at: occurredAt ?? env.clock.now().toISOString(), data },
      { store, now: env.clock.now() },
    )
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.settle()
    await env.app.engine.drain()
  }
  const later = async (ms: number) => {
    env.clock.advance(ms)
    await env.app.engine.drain()
  }
  const steps = async (store: string, stepId: string) =>
    (
      await env.app.handle.db.selectFrom('run_steps').selectAll().where('store_id', '=', store).where('step_id', '=', stepId).orderBy('started_at').execute()
    ).map((r) => ({ status: r.status, error: r.error, output: r.output ? JSON.parse(r.output) : null }))
  const product = (extra: Record<string, unknown> = {}) => ({
    id: 'p1',
    title: 'Mug',
    status: 'active',
    description: 'A mug',
    variants: [{ id: 'v1', sku: 'MUG', price: '20.00' }],
    ...extra,
  })
  const catalogue = async (store: string) => {
    const p = await env.app.handle.db.selectFrom('products').selectAll().where('store_id', '=', store).where('id', '=', 'p1').executeTakeFirstOrThrow()
    const v = await env.app.handle.db.selectFrom('variants').selectAll().where('store_id', '=', store).where('id', '=', 'v1').executeTakeFirstOrThrow()
    return { status: p.status, description: JSON.parse(p.data).description, price: v.price, compare_at_price: v.compare_at_price }
  }

  const SALE = `
id: sale
name: Sale
trigger: { event: order.paid }
steps:
  - id: change
    action: update_product
    with: { product_id: p1, sku: MUG, price: '15.5', compare_at_price: '20.00', description: 'On sale <b>now</b>' }
  - id: push
    action: sync_channels
    with: { product_id: p1 }
`
  const WATCH = `
id: watch
name: Watch
trigger: { event: product.updated }
steps:
  - id: seen
    action: log
    with: { message: 'product changed' }
`
  const WATCH_SALE = `
id: watch-sale
name: Watch sale
trigger: { event: product.updated }
when: "product.variants[0].price == 15.5 && product.variants[0].compare_at_price == 20.0 && product.status == 'active'"
steps:
  - id: on_sale
    action: log
    with: { message: 'on sale' }
`
  const order = { id: 'o1', number: '1', currency: 'EUR', total_price: '10.00', financial_status: 'paid', line_items: [] }

  it('changes the catalogue, pushes both channels with the right fields, and an older product.updated does not undo it', async () => {
    await createStore(env.app.handle.db, { id: 'b' }, env.clock.now())
    await connect('default', { platform: 'shopify', shop_domain: 'a.example', api_url: shopA.apiUrl, access_token: 'shpat_a' })
    await connect('default', { platform: 'woocommerce', api_url: wooA.url, access_token: 'ck_a:cs_a' })
    await connect('b', { platform: 'shopify', shop_domain: 'b.example', api_url: shopB.apiUrl, access_token: 'shpat_b' })
    const before = new Date(env.clock.now().getTime() - 60_000).toISOString()
    await send('default', 'product.updated', product(), before)
    await send('b', 'product.updated', product(), before)
    await installWorkflow(env.app, SALE)
    await installWorkflow(env.app, WATCH_SALE)
    await send('default', 'order.paid', order)

    const [change] = await steps('default', 'change')
    expect(change?.status).toBe('completed')
    expect(change?.output).toEqual({
      product_id: 'p1',
      changes: [
        { field: 'price', variant_id: 'v1', from: '20.00', to: '15.50' },
        { field: 'compare_at_price', variant_id: 'v1', from: null, to: '20.00' },
        { field: 'description', from: 'A mug', to: 'On sale <b>now</b>' },
      ],
    })
    const [push] = await steps('default', 'push')
    expect(push?.output).toEqual({
      channels: [
        { channel: 'shopify', status: 'updated' },
        { channel: 'woocommerce', status: 'updated' },
      ],
    })
    expect(shopA.products.get('gid://shopify/Product/p1')).toEqual({
      status: 'ACTIVE',
      descriptionHtml: 'On sale <b>now</b>',
      variants: { 'gid://shopify/ProductVariant/v1': { price: '15.50', compareAtPrice: '20.00' } },
    })
    expect(shopA.requests.map((r) => r.token)).toEqual(['shpat_a'])
    expect(wooA.requests).toHaveLength(1)
    expect(wooA.requests[0]).toMatchObject({ method: 'PUT', path: '/wp-json/wc/v3/products/p1', auth: `Basic ${Buffer.from('ck_a:cs_a').toString('base64')}` })
    expect(wooA.requests[0]?.body).toEqual({ status: 'publish', description: 'On sale <b>now</b>', regular_price: '20.00', sale_price: '15.50' })
    // store B: untouched, its shop never called
    expect(shopB.requests).toHaveLength(0)
    expect(await catalogue('b')).toMatchObject({ price: '20.00', description: 'A mug' })

    // the shop's older product.updated (sent before the change) arrives late: it changes nothing
    await send('default', 'product.updated', product({ description: 'stale' }), new Date(env.clock.now().getTime() - 30_000).toISOString())
    expect(await catalogue('default')).toEqual({ status: 'active', description: 'On sale <b>now</b>', price: '15.50', compare_at_price: '20.00' })
    // conditions see the catalogue as update_product left it
    expect(await steps('default', 'on_sale')).toHaveLength(1)
    // a newer change made in the shop wins
    await later(60_000)
    await send('default', 'product.updated', product({ status: 'draft', variants: [{ id: 'v1', sku: 'MUG', price: '18.00' }] }))
    expect(await catalogue('default')).toMatchObject({ status: 'draft', price: '18.00' })
    expect(await steps('default', 'on_sale')).toHaveLength(1)
  })

  it('a negative price from a template (a discount larger than the price) fails update_product naming price: the catalogue and the channels keep the real one', async () => {
    await connect('default', { platform: 'woocommerce', api_url: wooA.url, access_token: 'ck_a:cs_a' })
    await send('default', 'product.updated', product(), new Date(env.clock.now().getTime() - 60_000).toISOString())
    await installWorkflow(
      env.app,
      `
id: markdown
name: Markdown
trigger: { event: order.paid }
steps:
  - id: change
    action: update_product
    with: { product_id: p1, price: '{{ 20 | minus: trigger.data.discount }}' }
  - id: push
    action: sync_channels
    with: { product_id: p1 }
`,
    )
    await send('default', 'order.paid', { ...order, discount: 25 })
    const [change] = await steps('default', 'change')
    expect(change?.status).toBe('failed')
    expect(change?.error).toContain('price')
    expect(await catalogue('default')).toMatchObject({ price: '20.00' })
    expect(wooA.requests).toHaveLength(0)
  })

  it('retries 429/5xx without re-sending to a channel already updated; a channel without keys is not_connected', async () => {
    await connect('default', { platform: 'shopify', shop_domain: 'a.example', api_url: shopA.apiUrl, access_token: 'shpat_a' })
    await connect('default', { platform: 'woocommerce', api_url: wooA.url, access_token: 'ck_a:cs_a' })
    await send('default', 'product.updated', product())
    await installWorkflow(env.app, SALE)
    wooA.failures.push('429', '500')
    await send('default', 'order.paid', order)
    expect(shopA.requests).toHaveLength(1)
    expect(wooA.requests).toHaveLength(1)
    for (let i = 0; i < 6 && (await steps('default', 'push'))[0]?.status !== 'completed'; i++) await later(60_000)
    const [push] = await steps('default', 'push')
    expect(push?.status).toBe('completed')
    expect(push?.output.channels).toEqual([
      { channel: 'shopify', status: 'updated' },
      { channel: 'woocommerce', status: 'updated' },
    ])
    // Shopify was sent once; WooCommerce answered 429, 500, then took it
    expect(shopA.requests).toHaveLength(1)
    expect(wooA.requests).toHaveLength(3)

    // Shopify THROTTLED while WooCommerce takes it: the retry sends to Shopify only
    shopA.failures.push('throttled')
    await send('default', 'order.paid', { ...order, id: 'o2' })
    for (let i = 0; i < 6 && (await steps('default', 'push'))[1]?.status !== 'completed'; i++) await later(60_000)
    expect((await steps('default', 'push'))[1]?.status).toBe('completed')
    expect(shopA.requests).toHaveLength(3)
    expect(wooA.requests).toHaveLength(4)

    // wrong Shopify token and WooCommerce keys (401) fail the step, naming each channel
    await createStore(env.app.handle.db, { id: 'c' }, env.clock.now())
    await connect('c', { platform: 'woocommerce', api_url: wooA.url, access_token: 'ck_x:cs_x' })
    await connect('c', { platform: 'shopify', shop_domain: 'c.example', api_url: shopA.apiUrl, access_token: 'shpat_wrong' })
    await send('c', 'product.updated', product())
    await installWorkflow(env.app, SALE, { store: 'c' })
    await send('c', 'order.paid', order)
    const [failed] = await steps('c', 'push')
    expect(failed?.status).toBe('failed')
    expect(failed?.error).toMatch(/shopify failed: .*401 Unauthorized/)
    expect(failed?.error).toMatch(/woocommerce failed: .*\(401\)/)
  })

  it("the shop's echo of a push starts no run; a real later change does", async () => {
    await connect('default', { platform: 'shopify', shop_domain: 'a.example', api_url: shopA.apiUrl, access_token: 'shpat_a' })
    await send('default', 'product.updated', product())
    await installWorkflow(env.app, SALE)
    await installWorkflow(env.app, WATCH)
    await send('default', 'order.paid', order)
    expect((await steps('default', 'push'))[0]?.output.channels).toEqual([
      { channel: 'shopify', status: 'updated' },
      { channel: 'woocommerce', status: 'not_connected' },
    ])
    await later(5_000)
    // Shopify's webhook for storeflow's own change
    await send(
      'default',
      'product.updated',
      product({ description: 'On sale <b>now</b>', variants: [{ id: 'v1', sku: 'MUG', price: '15.50', compare_at_price: '20.00' }] }),
    )
    expect(await steps('default', 'seen')).toHaveLength(0)
    // a merchant edits the price in the shop
    await later(60_000)
    await send(
      'default',
      'product.updated',
      product({ description: 'On sale <b>now</b>', variants: [{ id: 'v1', sku: 'MUG', price: '14.00', compare_at_price: '20.00' }] }),
    )
    expect(await steps('default', 'seen')).toHaveLength(1)
  })
})

describe('sync_channels to WooCommerce over plain http', () => {
  it('refuses to send the consumer key as Basic credentials to an http:// site', async () => {
    const woo = await startWooStandIn('ck_a', 'cs_a', ['p1'])
    try {
      const client = createOutboundClient({ allowPrivate: true })
      const account = { connectorId: 'con_1', siteUrl: woo.url, consumerKey: 'ck_a', consumerSecret: 'cs_a' }
      const product = { id: 'p1', title: 'Mug', status: 'active', description: null, updated_at: '', variants: [] }
      await expect(pushToWooCommerce(client, account, product, false)).rejects.toThrow(/must be https/)
      expect(woo.requests).toHaveLength(0)
    } finally {
      await woo.close()
    }
  })
})
