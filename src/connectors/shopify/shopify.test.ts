import { describe, expect, it } from 'vitest'
import { delivery, expectCanonical, fixture, hmacBase64, localDeps } from '../testing.ts'
import type { WebhookDelivery } from '../types.ts'
import { shopifyConnector } from './index.ts'

const SECRET = 'shpss_test'
const creds = { secrets: [SECRET], shopDomain: 'jsmith.myshopify.com' }

function shopify(topic: string, file: string | Buffer, extra: Record<string, string> = {}): WebhookDelivery {
  const body = typeof file === 'string' ? fixture('shopify', file) : file
  return delivery(
    {
      'X-Shopify-Hmac-Sha256': hmacBase64(SECRET, body),
      'X-Shopify-Topic': topic,
      'X-Shopify-Shop-Domain': 'jsmith.myshopify.com',
      'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      'X-Shopify-Event-Id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
      'X-Shopify-Triggered-At': '2025-07-10T16:15:47.000000Z',
      ...extra,
    },
    body,
  )
}

async function mapOne(topic: string, file: string | Buffer, extra?: Record<string, string>) {
  const mapped = await shopifyConnector.map(shopify(topic, file, extra), creds, localDeps)
  const events = expectCanonical(mapped.events)
  expect(events).toHaveLength(1)
  return { mapped, event: events[0]!, data: events[0]!.data as Record<string, any> }
}

describe('shopify verify', () => {
  it('rejects a missing header, an unknown secret, and another shop signed by the same app secret', () => {
    const d = shopify('orders/create', 'orders-create.json')
    expect(shopifyConnector.verify({ ...d, headers: { ...d.headers, 'x-shopify-hmac-sha256': undefined } }, creds, new Date())).toMatchObject({
      ok: false,
      reason: expect.stringContaining('missing'),
    })
    expect(shopifyConnector.verify(d, { secrets: ['other'] }, new Date()).ok).toBe(false)
    expect(shopifyConnector.verify(d, { secrets: [] }, new Date()).ok).toBe(false)
    expect(shopifyConnector.verify(d, { ...creds, shopDomain: 'other.myshopify.com' }, new Date())).toMatchObject({
      ok: false,
      reason: expect.stringContaining('other.myshopify.com'),
    })
    expect(shopifyConnector.verify({ ...d, headers: { ...d.headers, 'x-shopify-hmac-sha256': 'short' } }, creds, new Date()).ok).toBe(false)
  })
})

describe('shopify map', () => {
  it('orders/create → order.created with exact ids, order_number, money strings and SKUs', async () => {
    const { mapped, event, data } = await mapOne('orders/create', 'orders-create.json')
    expect(mapped).toMatchObject({ topic: 'orders/create', deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', unknownTopic: false })
    expect(mapped.dedupeKey).toBe('orders/create:98880550-7158-44d4-b7cd-2c97c8a091b5')
    expect(event.type).toBe('order.created')
    expect(event.occurred_at).toBe('2025-07-10T16:15:47.000Z')
    expect(data.id).toBe('820982911946154508')
    expect(data.number).toBe('1234')
    expect(data).toMatchObject({
      email: 'jon@example.com',
      currency: 'USD',
      subtotal_price: '404.95',
      total_discounts: '20.00',
      shipping_price: '10.00',
      total_price: '404.95',
      financial_status: 'voided',
      fulfillment_status: null,
      discount_codes: [],
      created_at: '2022-01-01T00:00:00.000Z',
    })
    expect(data.customer).toMatchObject({
      id: '115310627314723954',
      email: 'john@example.com',
      first_name: 'John',
      last_name: 'Smith',
      accepts_marketing: true,
    })
    expect(data.line_items.map((li: any) => li.sku)).toEqual(['SKU2006-001', 'LENS-PROTECT-2YR', 'CASE-LEATHER-PREM', 'SKU2006-020', 'SKU2006-035'])
    expect(data.line_items[0]).toMatchObject({ product_id: '788032119674292922', variant_id: null, title: 'Aviator sunglasses', quantity: 1, price: '89.99' })
    expect(data.shipping_address).toMatchObject({ country_code: 'US', city: 'Shippington' })
    expect(data.tags).toEqual(['tag1', 'tag2'])
  })

  it('orders/paid and orders/cancelled map the same body to their types; topics keep ids apart', async () => {
    const paid = await mapOne('orders/paid', 'orders-paid.json')
    const cancelled = await mapOne('orders/cancelled', 'orders-cancelled.json')
    const created = await mapOne('orders/create', 'orders-create.json')
    expect(paid.event.type).toBe('order.paid')
    expect(cancelled.event.type).toBe('order.cancelled')
    expect(cancelled.data).toMatchObject({ cancel_reason: 'customer', cancelled_at: '2022-01-01T00:00:00.000Z', total_price: '404.95' })
    // Same X-Shopify-Event-Id across topics (one merchant action) must not collapse into one event.
    expect(new Set([paid.event.id, cancelled.event.id, created.event.id]).size).toBe(3)
  })

  it('redelivery of the same event (same event id, new webhook id) gives the same event id', async () => {
    const first = await mapOne('orders/create', 'orders-create.json')
    const second = await mapOne('orders/create', 'orders-create.json', { 'X-Shopify-Webhook-Id': 'another-delivery' })
    expect(second.mapped.deliveryId).toBe('another-delivery')
    expect(second.event.id).toBe(first.event.id)
    const other = await mapOne('orders/create', 'orders-create.json', { 'X-Shopify-Event-Id': 'another-event' })
    expect(other.event.id).not.toBe(first.event.id)
  })

  it('falls back to the webhook id when X-Shopify-Event-Id is absent (it is optional)', async () => {
    const { mapped } = await mapOne('orders/create', 'orders-create.json', { 'X-Shopify-Event-Id': '' })
    expect(mapped.dedupeKey).toBe('orders/create:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043')
  })

  it('orders/fulfilled → order.fulfilled for the order (the sample has no fulfillments, so no tracking)', async () => {
    const { event, data } = await mapOne('orders/fulfilled', 'orders-fulfilled.json')
    expect(event.type).toBe('order.fulfilled')
    expect(data).toMatchObject({ order_id: '820982911946154508', carrier: null, tracking_number: null, fulfillments: [] })
    expect(data.order.number).toBe('1234')
    expect(data.customer.email).toBe('john@example.com')
  })

  it('orders/fulfilled takes carrier and tracking from the latest fulfillment when there is one', async () => {
    const order = JSON.parse(
      fixture('shopify', 'orders-fulfilled.json')
        .toString('utf8')
        .replace(
          '"fulfillments": []',
          '"fulfillments": [{"id": 1, "created_at": "2022-01-01T00:00:00Z", "tracking_company": "DHL", "tracking_number": "OLD"}, {"id": 2, "created_at": "2022-01-02T00:00:00Z", "tracking_company": "UPS", "tracking_number": "1Z999", "tracking_url": "https://ups.example/1Z999"}]',
        ),
    )
    const { data } = await mapOne('orders/fulfilled', Buffer.from(JSON.stringify(order)))
    expect(data).toMatchObject({ carrier: 'UPS', tracking_number: '1Z999', tracking_url: 'https://ups.example/1Z999', fulfillment_id: '2' })
    expect(data.fulfillments).toHaveLength(2)
  })

  it('fulfillments/create → order.fulfilled with carrier, tracking number and url', async () => {
    const { event, data } = await mapOne('fulfillments/create', 'fulfillments-create.json')
    expect(event.type).toBe('order.fulfilled')
    expect(data).toMatchObject({
      order_id: '820982911946154508',
      carrier: 'UPS',
      tracking_number: '1z827wk74630',
      tracking_url: 'https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1z827wk74630',
      customer: { email: 'jon@example.com' },
      status: 'pending',
      name: '#9999.1',
    })
    expect(data.line_items).toHaveLength(5)
    expect(data.line_items[3]).toMatchObject({ sku: 'SKU2006-020', price: '159.99', total_discount: '5.00' })
  })

  it.each(['checkouts/create', 'checkouts/update'])('%s → checkout.started keyed by token, with recovery url', async (topic) => {
    const { event, data } = await mapOne(topic, topic === 'checkouts/create' ? 'checkouts-create.json' : 'checkouts-update.json')
    expect(event.type).toBe('checkout.started')
    expect(data).toMatchObject({
      id: '123123123',
      cart_token: 'eeafa272cebfd4b22385bc4b645e762c',
      email: 'example@email.com',
      currency: 'USD',
      total_price: '421.88',
      subtotal_price: '398.00',
      completed_at: null,
      recovery_url: 'https://checkout.local/548380009/checkouts/123123123/recover?key=example-secret-token',
      updated_at: '2022-01-01T00:00:00.000Z',
    })
    expect(data.customer).toMatchObject({ id: '603851970716743426', email: 'john@example.com' })
    // buyer_accepts_marketing false is no opt-out: consent stays unknown.
    expect(data.customer.accepts_marketing).toBeNull()
    expect(data.line_items.map((li: any) => [li.sku, li.variant_id, li.price])).toEqual([
      ['IPOD2008PINK', '808950810', '199.00'],
      ['IPOD2008PINK', '808950810', '199.00'],
    ])
  })

  it('carts/update → cart.updated; currency from the line items, total from line prices', async () => {
    const { event, data } = await mapOne('carts/update', 'carts-update.json')
    expect(event.type).toBe('cart.updated')
    expect(data).toMatchObject({ id: 'exampleCartId', currency: 'USD', total_price: '59.97', updated_at: '2022-01-01T00:00:00.000Z' })
    expect(data.line_items[0]).toMatchObject({
      sku: 'example-shirt-s',
      quantity: 3,
      price: '19.99',
      variant_id: '704912205188288575',
      product_id: '788032119674292922',
    })
  })

  it.each([
    ['customers/create', 'customers-create.json', 'customer.created'],
    ['customers/update', 'customers-update.json', 'customer.updated'],
  ])('%s → %s', async (topic, file, type) => {
    const { event, data } = await mapOne(topic, file)
    expect(event.type).toBe(type)
    expect(data).toMatchObject({
      id: '706405506930370084',
      email: 'bob@biller.com',
      first_name: 'Bob',
      last_name: 'Biller',
      phone: null,
      created_at: '2022-01-01T00:00:00.000Z',
    })
    // The sample has neither email_marketing_consent nor accepts_marketing: consent unknown, not false.
    expect(data.accepts_marketing).toBeNull()
    expect(data.default_address).toMatchObject({ country_code: 'CA', zip: 'K2P 2L8' })
  })

  it('marketing consent from email_marketing_consent.state, else accepts_marketing', async () => {
    const body = (extra: string) =>
      Buffer.from(fixture('shopify', 'customers-update.json').toString('utf8').replace('"email": "bob@biller.com",', `"email": "bob@biller.com", ${extra}`))
    expect(
      (await mapOne('customers/update', body('"email_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in"},'))).data.accepts_marketing,
    ).toBe(true)
    expect(
      (await mapOne('customers/update', body('"email_marketing_consent": {"state": "unsubscribed"}, "accepts_marketing": true,'))).data.accepts_marketing,
    ).toBe(false)
    expect((await mapOne('customers/update', body('"accepts_marketing": true,'))).data.accepts_marketing).toBe(true)
  })

  it('products/update → product.updated with variants, compare-at prices and the page link from the shop and handle', async () => {
    const { event, data } = await mapOne('products/update', 'products-update.json')
    expect(event.type).toBe('product.updated')
    expect(data).toMatchObject({ id: '788032119674292922', title: 'Example T-Shirt', description: 'An example T-Shirt', status: 'active' })
    expect(data.url).toBe('https://jsmith.myshopify.com/products/example-t-shirt')
    expect(data.variants).toEqual([
      expect.objectContaining({ id: '642667041472713922', sku: null, price: '19.99', compare_at_price: '24.99', inventory_quantity: 75 }),
      expect.objectContaining({ id: '757650484644203962', sku: null, price: '19.99', compare_at_price: '24.99', inventory_quantity: 50 }),
    ])
  })

  it('inventory_levels/update → inventory.updated, the exact inventory item id standing in for the sku', async () => {
    const { event, data } = await mapOne('inventory_levels/update', 'inventory-levels-update.json')
    expect(event.type).toBe('inventory.updated')
    expect(data).toMatchObject({ sku: '271878346596884015', inventory_item_id: '271878346596884015', location_id: '24826418', available: 10 })
  })

  it('an unknown topic becomes one raw event holding the whole body, big ids exact', async () => {
    const mapped = await shopifyConnector.map(shopify('refunds/create', 'orders-create.json'), creds, localDeps)
    expect(mapped.unknownTopic).toBe(true)
    const [event] = expectCanonical(mapped.events)
    expect(event!.type).toBe('raw.shopify.refunds_create')
    expect(event!.data['id']).toBe('820982911946154508')
    expect(event!.data['line_items']).toHaveLength(5)
  })

  // Sample bodies from Shopify's "Privacy law compliance" page (shopify.dev/docs/apps/build/privacy-law-compliance).
  it.each([
    [
      'customers/data_request',
      'data_request',
      '{"shop_id":954889,"shop_domain":"jsmith.myshopify.com","orders_requested":[299938,280263,220458],"customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"data_request":{"id":9999}}',
    ],
    [
      'customers/redact',
      'customer_redact',
      '{"shop_id":954889,"shop_domain":"jsmith.myshopify.com","customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938,280263,220458]}',
    ],
    ['shop/redact', 'shop_redact', '{"shop_id":954889,"shop_domain":"jsmith.myshopify.com"}'],
  ])('%s is flagged as compliance %s and kept raw', async (topic, kind, body) => {
    const mapped = await shopifyConnector.map(shopify(topic, Buffer.from(body)), creds, localDeps)
    expect(mapped).toMatchObject({ compliance: kind, unknownTopic: false })
    const [event] = expectCanonical(mapped.events)
    expect(event!.type).toBe(`raw.shopify.${topic.replace('/', '_')}`)
    expect(event!.data['shop_domain']).toBe('jsmith.myshopify.com')
  })
})
