import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ACCESS_TOKEN, CART_ID, STORE_HASH, startBigCommerceApi, type BigCommerceApiServer } from '../../../test/helpers/bigcommerce-api.ts'
import { fakeResolver } from '../../../test/helpers/outbound.ts'
import { OperationalError, UserError } from '../../lib/errors.ts'
import { createOutboundClient } from '../../lib/guarded-request.ts'
import { delivery, expectCanonical, fixture, localDeps, standardWebhookSignature } from '../testing.ts'
import type { ConnectorCredentials, WebhookDelivery } from '../types.ts'
import { ShopApiError } from './api.ts'
import { forgetStorefronts } from './storefront.ts'
import { bigCommerceConnector } from './index.ts'

const CLIENT_SECRET = 'bc-client-secret-example'
const NOW = new Date('2026-01-01T00:00:00Z')
let api: BigCommerceApiServer
let creds: ConnectorCredentials

beforeAll(async () => {
  api = await startBigCommerceApi()
})
afterAll(async () => {
  await api.close()
})
beforeEach(() => {
  api.reset()
  forgetStorefronts()
  creds = { secrets: [CLIENT_SECRET], apiUrl: api.apiUrl, accessToken: ACCESS_TOKEN }
})

function signed(body: Buffer, id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'): WebhookDelivery {
  const ts = Math.floor(NOW.getTime() / 1000)
  return delivery(
    { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': standardWebhookSignature(Buffer.from(CLIENT_SECRET), id, ts, body) },
    body,
  )
}

async function map(file: string) {
  const d = signed(fixture('bigcommerce', file))
  expect(bigCommerceConnector.verify(d, creds, NOW)).toEqual({ ok: true })
  const mapped = await bigCommerceConnector.map(d, creds, localDeps)
  return { mapped, events: expectCanonical(mapped.events), data: mapped.events[0]!.data as Record<string, any> }
}

describe('bigcommerce verify', () => {
  it('custom-header hooks: `header:<Name>:<value>` secrets compare that header in constant time', () => {
    const body = fixture('bigcommerce', 'store-order-created.json')
    const custom = { secrets: ['header:X-Custom-Auth:s3cr3t:with:colons'] }
    expect(bigCommerceConnector.verify(delivery({ 'X-Custom-Auth': 's3cr3t:with:colons' }, body), custom, NOW)).toEqual({ ok: true })
    expect(bigCommerceConnector.verify(delivery({ 'X-Custom-Auth': 's3cr3t' }, body), custom, NOW).ok).toBe(false)
    expect(bigCommerceConnector.verify(delivery({}, body), custom, NOW).ok).toBe(false)
    // Moving from a custom header to signatures: both forms may be configured at once.
    expect(bigCommerceConnector.verify(signed(body), { secrets: ['header:X-Custom-Auth:s3cr3t', CLIENT_SECRET] }, NOW)).toEqual({ ok: true })
  })

  it('rejects missing Standard Webhooks headers and a malformed timestamp', () => {
    const body = fixture('bigcommerce', 'store-order-created.json')
    const d = signed(body)
    expect(bigCommerceConnector.verify({ ...d, headers: { ...d.headers, 'webhook-id': undefined } }, creds, NOW)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('missing'),
    })
    expect(bigCommerceConnector.verify({ ...d, headers: { ...d.headers, 'webhook-timestamp': '2026-01-01' } }, creds, NOW).ok).toBe(false)
    // The id is signed: a replay under another webhook-id fails.
    expect(bigCommerceConnector.verify({ ...d, headers: { ...d.headers, 'webhook-id': 'msg_other' } }, creds, NOW).ok).toBe(false)
  })
})

describe('bigcommerce map (against the local API)', () => {
  it('fetches with X-Auth-Token and Accept: application/json under the store path', async () => {
    await map('store-order-created.json')
    expect(api.requests.map((r) => r.path).sort()).toEqual([
      `/stores/${STORE_HASH}/v2/orders/250`,
      `/stores/${STORE_HASH}/v2/orders/250/products`,
      `/stores/${STORE_HASH}/v2/orders/250/shipping_addresses`,
    ])
    for (const r of api.requests) expect(r).toMatchObject({ token: ACCESS_TOKEN, accept: 'application/json' })
  })

  it('store/order/created → order.created (+ order.paid: created in Awaiting Fulfillment)', async () => {
    const { mapped, events, data } = await map('store-order-created.json')
    expect(mapped).toMatchObject({
      topic: 'store/order/created',
      dedupeKey: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      deliveryId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      unknownTopic: false,
    })
    expect(events.map((e) => e.type)).toEqual(['order.created', 'order.paid'])
    expect(events[0]!.occurred_at).toBe('2019-06-25T16:15:35.000Z')
    expect(data).toMatchObject({
      id: '250',
      number: '250',
      email: 'jane.doe@example.com',
      currency: 'USD',
      subtotal_price: '225.0000',
      total_discounts: '5.00',
      shipping_price: '10.0000',
      total_price: '230.0000',
      financial_status: 'paid',
      fulfillment_status: null,
      checkout_id: CART_ID,
      created_at: '2019-06-25T16:15:35.000Z',
    })
    expect(data.customer).toMatchObject({ id: '32', email: 'jane.doe@example.com', first_name: 'Jane' })
    expect(data.line_items.map((li: any) => [li.sku, li.product_id, li.variant_id, li.quantity, li.price])).toEqual([
      ['OTL-LG', '205', '410', 2, '109.0000'],
      ['SMPL-CARD-BLUE', '206', '509', 1, '7.0000'],
    ])
    expect(data.shipping_address).toMatchObject({ country_code: 'US', city: 'Austin' })
  })

  it('store/order/statusUpdated 0 → 11 → order.paid with the same id as the paid-at-creation event', async () => {
    const created = await map('store-order-created.json')
    const { events, data } = await map('store-order-statusUpdated.json')
    expect(events.map((e) => e.type)).toEqual(['order.paid'])
    expect(data).toMatchObject({ previous_status_id: 0, new_status_id: 11, id: '250' })
    expect(events[0]!.id).toBe(created.events[1]!.id)
  })

  it('store/order/statusUpdated to Cancelled → order.cancelled; to Shipped → raw', async () => {
    const cancel = JSON.parse(fixture('bigcommerce', 'store-order-statusUpdated.json').toString('utf8'))
    cancel.data.status = { previous_status_id: 11, new_status_id: 5 }
    let mapped = await bigCommerceConnector.map(signed(Buffer.from(JSON.stringify(cancel))), creds, localDeps)
    expect(expectCanonical(mapped.events).map((e) => e.type)).toEqual(['order.cancelled'])
    cancel.data.status = { previous_status_id: 11, new_status_id: 2 }
    mapped = await bigCommerceConnector.map(signed(Buffer.from(JSON.stringify(cancel))), creds, localDeps)
    expect(expectCanonical(mapped.events).map((e) => e.type)).toEqual(['raw.bigcommerce.store_order_status_updated'])
  })

  it('store/order/updated → raw event carrying the fetched order', async () => {
    const { events, data } = await map('store-order-updated.json')
    expect(events[0]!.type).toBe('raw.bigcommerce.store_order_updated')
    expect(data).toMatchObject({ id: '250', total_price: '230.0000' })
  })

  it('store/order/refund/created → order.refunded with the refund id', async () => {
    api.serve('/v2/orders/250', {
      ...((await (await fetch(`${api.apiUrl}/v2/orders/250`, { headers: { 'X-Auth-Token': ACCESS_TOKEN } })).json()) as object),
      status_id: 14,
      status: 'Partially Refunded',
      refunded_amount: '109.0000',
    })
    const { events, data } = await map('store-order-refund-created.json')
    expect(events[0]!.type).toBe('order.refunded')
    expect(data).toMatchObject({ id: '250', refund_id: '3', refund_amount: '109.0000', financial_status: 'partially_refunded' })
  })

  it('store/shipment/created → order.fulfilled with carrier, tracking number and link', async () => {
    const { events, data } = await map('store-shipment-created.json')
    expect(events[0]!.type).toBe('order.fulfilled')
    expect(data).toMatchObject({
      order_id: '251',
      shipment_id: '12',
      carrier: 'ups',
      tracking_number: '1Z999AA10123456784',
      tracking_url: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
      customer: { id: '32', email: 'jane.doe@example.com' },
    })
    expect(data.order).toMatchObject({ id: '251', fulfillment_status: 'fulfilled' })
  })

  it.each(['store-cart-created.json', 'store-cart-updated.json'])('%s → cart.updated with recovery url', async (file) => {
    const { events, data } = await map(file)
    expect(events[0]!.type).toBe('cart.updated')
    expect(data).toMatchObject({
      id: CART_ID,
      email: 'jane.doe@example.com',
      currency: 'USD',
      total_price: '218',
      customer: { id: '32' },
      updated_at: '2019-06-25T17:12:00.000Z',
    })
    expect(data.recovery_url).toContain(`id=${CART_ID}`)
    expect(data.line_items).toEqual([expect.objectContaining({ sku: 'OTL-LG', product_id: '205', variant_id: '410', quantity: 2, price: '109' })])
    expect(api.requests[0]!.path).toBe(`/stores/${STORE_HASH}/v3/carts/${CART_ID}?include=redirect_urls`)
  })

  it('store/cart/abandoned and /converted are kept raw (storeflow derives abandonment itself)', async () => {
    const abandoned = await map('store-cart-abandoned.json')
    expect(abandoned.events[0]!.type).toBe('raw.bigcommerce.store_cart_abandoned')
    expect(abandoned.data).toMatchObject({ id: CART_ID, token: '1eed6d2d979776ff18e695ceeb10ea61', total_price: '218' })
    const converted = await map('store-cart-converted.json')
    expect(converted.events[0]!.type).toBe('raw.bigcommerce.store_cart_converted')
    expect(converted.data).toMatchObject({ cart_id: 'd30016e2-23c0-4a90-884f-2e92ac135476', order_id: '252' })
  })

  it('store/customer/created → customer.created via /v3/customers?id:in=', async () => {
    const { events, data } = await map('store-customer-created.json')
    expect(events[0]!.type).toBe('customer.created')
    expect(data).toMatchObject({
      id: '32',
      email: 'jane.doe@example.com',
      first_name: 'Jane',
      last_name: 'Doe',
      phone: '555-0100',
      accepts_marketing: true,
      created_at: '2019-06-25T16:52:51.000Z',
    })
    expect(api.requests[0]!.path).toBe(`/stores/${STORE_HASH}/v3/customers?id:in=32`)
  })

  it.each(['store-product-created.json', 'store-product-updated.json'])('%s → product.updated with variants', async (file) => {
    const { events, data } = await map(file)
    expect(events[0]!.type).toBe('product.updated')
    // the page: the storefront's address (GET /v2/store, secure_URL) and the product's custom_url path
    expect(data).toMatchObject({ id: '205', title: 'Orbit Terrarium - Large', status: 'active', url: 'https://store.example.com/orbit-terrarium/' })
    expect(data.variants).toEqual([
      expect.objectContaining({ id: '410', sku: 'OTL-LG', price: '109', compare_at_price: '129', inventory_quantity: 10 }),
      expect.objectContaining({ id: '411', sku: 'OTL-SM', price: '89', compare_at_price: '99', inventory_quantity: 2 }),
    ])
  })

  it('a token without the store-information scope (403 on /v2/store) still maps the product, without its page; the storefront is asked once, not per product', async () => {
    api.failWith('/v2/store', 403)
    const { data } = await map('store-product-updated.json')
    expect(data).toMatchObject({ id: '205', title: 'Orbit Terrarium - Large' })
    expect(data.url).toBeUndefined()
    expect(data.variants).toHaveLength(2)

    forgetStorefronts()
    api.reset()
    // two webhooks at once: one ask, both products with their page
    const both = await Promise.all([map('store-product-updated.json'), map('store-product-created.json')])
    expect(both.map((m) => m.data.url)).toEqual(['https://store.example.com/orbit-terrarium/', 'https://store.example.com/orbit-terrarium/'])
    expect(api.requests.filter((r) => r.path === `/stores/${STORE_HASH}/v2/store`)).toHaveLength(1)
    expect(api.requests.filter((r) => r.path.startsWith(`/stores/${STORE_HASH}/v3/catalog/products/205`))).toHaveLength(2)
  })

  it.each(['store-product-inventory-updated.json', 'store-product-inventory-order-updated.json'])(
    '%s → inventory.updated for the product sku',
    async (file) => {
      const { events, data } = await map(file)
      expect(events[0]!.type).toBe('inventory.updated')
      expect(data).toMatchObject({ sku: 'GIFT-WRAP', product_id: '167', available: 100000000, method: 'absolute' })
    },
  )

  it('store/sku/inventory/updated → inventory.updated for the variant sku', async () => {
    const { events, data } = await map('store-sku-inventory-updated.json')
    expect(events[0]!.type).toBe('inventory.updated')
    expect(data).toMatchObject({ sku: 'SMPL-CARD-BLUE', variant_id: '509', product_id: '206', sku_id: '461', available: 5 })
    expect(api.requests[0]!.path).toBe(`/stores/${STORE_HASH}/v3/catalog/products/206/variants/509`)
  })

  it('a 404 from the API → a raw event noting the resource is gone', async () => {
    api.failWith('/v2/orders/250', 404)
    const { mapped, events, data } = await map('store-order-created.json')
    expect(mapped.unknownTopic).toBe(false)
    expect(events[0]!.type).toBe('raw.bigcommerce.store_order_created')
    expect(data).toMatchObject({ resource_gone: true, resource: { type: 'order', id: 250 } })
  })

  it.each([500, 503, 429])('a %i from the API throws a ShopApiError (OperationalError) so the route answers 5xx', async (status) => {
    api.failWith('/v2/orders', status)
    const err = await bigCommerceConnector.map(signed(fixture('bigcommerce', 'store-order-created.json')), creds, localDeps).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ShopApiError)
    expect(err).toBeInstanceOf(OperationalError)
    expect(err).toMatchObject({ httpStatus: status, status: 503 })
  })

  it('a wrong access token (the API answers 401) throws a ShopApiError naming the token', async () => {
    const err = await bigCommerceConnector
      .map(signed(fixture('bigcommerce', 'store-order-created.json')), { ...creds, accessToken: 'wrong' }, localDeps)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ShopApiError)
    expect((err as Error).message).toContain('access token')
  })

  it('a network failure (here: a name that does not resolve) throws a ShopApiError', async () => {
    const deps = { http: createOutboundClient({ allowPrivate: true, resolve: fakeResolver({}) }) }
    const err = await bigCommerceConnector
      .map(signed(fixture('bigcommerce', 'store-order-created.json')), { ...creds, apiUrl: `http://api.unknown.example.com/stores/${STORE_HASH}` }, deps)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ShopApiError)
    expect((err as Error).message).toContain('ENOTFOUND')
  })

  it('a connector without API credentials fails with a UserError naming the fix', async () => {
    await expect(
      bigCommerceConnector.map(signed(fixture('bigcommerce', 'store-order-created.json')), { secrets: [CLIENT_SECRET] }, localDeps),
    ).rejects.toBeInstanceOf(UserError)
  })

  it('an unknown scope is kept raw without calling the API', async () => {
    const body = Buffer.from(
      '{"scope":"store/app/uninstalled","store_id":"1025646","data":{"type":"app","id":1},"hash":"x","created_at":1561479335,"producer":"stores/{store_hash}"}',
    )
    const mapped = await bigCommerceConnector.map(signed(body), creds, localDeps)
    expect(mapped.unknownTopic).toBe(true)
    expect(expectCanonical(mapped.events)[0]!.type).toBe('raw.bigcommerce.store_app_uninstalled')
    expect(api.requests).toHaveLength(0)
  })

  it('custom-header hooks dedupe on scope + hash + created_at (hash alone repeats across carts events)', async () => {
    const headerCreds = { ...creds, secrets: ['header:X-Custom-Auth:s3cr3t'] }
    const created = await bigCommerceConnector.map(
      delivery({ 'x-custom-auth': 's3cr3t' }, fixture('bigcommerce', 'store-cart-created.json')),
      headerCreds,
      localDeps,
    )
    const updated = await bigCommerceConnector.map(
      delivery({ 'x-custom-auth': 's3cr3t' }, fixture('bigcommerce', 'store-cart-updated.json')),
      headerCreds,
      localDeps,
    )
    expect(created.dedupeKey).toBe('store/cart/created:352e4afc6dd3fc85ea26bfdf3f91852604d57528:1561482670')
    expect(created.deliveryId).toBeNull()
    expect(updated.events[0]!.id).not.toBe(created.events[0]!.id)
  })
})
