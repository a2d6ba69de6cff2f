import { describe, expect, it } from 'vitest'
import { delivery, expectCanonical, fixture, hmacBase64, localDeps } from '../testing.ts'
import type { WebhookDelivery } from '../types.ts'
import { wooCommerceConnector } from './index.ts'

const SECRET = 'wc-test-secret'
const creds = { secrets: [SECRET] }

/** What a store really sends: compact wp_json_encode output with `\/` (SIGNATURES.md §2). */
function phpCompact(file: string, patch: (o: any) => void = () => {}): Buffer {
  const o = JSON.parse(fixture('woocommerce', file).toString('utf8'))
  patch(o)
  return Buffer.from(JSON.stringify(o).replace(/\//g, '\\/'))
}

function woo(topic: string, body: Buffer, extra: Record<string, string> = {}): WebhookDelivery {
  const [resource, event] = topic.split('.')
  return delivery(
    {
      'X-WC-Webhook-Signature': hmacBase64(SECRET, body),
      'X-WC-Webhook-Topic': topic,
      'X-WC-Webhook-Resource': resource!,
      'X-WC-Webhook-Event': event!,
      'X-WC-Webhook-ID': '3',
      'X-WC-Webhook-Delivery-ID': '36e520ebabc2fa725092ff4a47acedf2',
      'X-WC-Webhook-Source': 'https://example.com/',
      'User-Agent': 'WooCommerce/3.9.1 Hookshot (WordPress/5.3.2)',
      ...extra,
    },
    body,
  )
}

async function map(topic: string, body: Buffer) {
  const d = woo(topic, body)
  expect(wooCommerceConnector.verify(d, creds, new Date())).toEqual({ ok: true })
  const mapped = await wooCommerceConnector.map(d, creds, localDeps)
  return { mapped, events: expectCanonical(mapped.events) }
}

describe('woocommerce verify', () => {
  it('answers the unsigned ping as a ping, and maps it to nothing', async () => {
    const ping = delivery({ 'content-type': 'application/x-www-form-urlencoded' }, 'webhook_id=3')
    expect(wooCommerceConnector.verify(ping, creds, new Date())).toEqual({ ok: true, ping: true })
    expect(await wooCommerceConnector.map(ping, creds, localDeps)).toMatchObject({ topic: 'ping', events: [] })
  })

  it('does not take a form body with X-WC headers, or any other unsigned body, for a ping', () => {
    expect(wooCommerceConnector.verify(delivery({ 'x-wc-webhook-topic': 'order.created' }, 'webhook_id=3'), creds, new Date()).ok).toBe(false)
    expect(wooCommerceConnector.verify(delivery({}, '{"id":727}'), creds, new Date())).toMatchObject({ ok: false, reason: expect.stringContaining('missing') })
  })

  it('accepts a secret stored HTML-escaped (wp_specialchars_decode) as well as typed', () => {
    const body = phpCompact('customer-created.json')
    const d = delivery({ 'x-wc-webhook-signature': hmacBase64('a&b"c', body), 'x-wc-webhook-topic': 'customer.created' }, body)
    expect(wooCommerceConnector.verify(d, { secrets: ['a&amp;b&quot;c'] }, new Date())).toEqual({ ok: true })
    expect(wooCommerceConnector.verify(d, { secrets: ['a&b"c'] }, new Date())).toEqual({ ok: true })
  })
})

describe('woocommerce map', () => {
  it('order.created in status processing, paid → order.created and order.paid', async () => {
    const { mapped, events } = await map('order.created', phpCompact('order-created.json'))
    expect(mapped).toMatchObject({ topic: 'order.created', deliveryId: '36e520ebabc2fa725092ff4a47acedf2', dedupeKey: 'order.created:727:2017-03-22T19:28:08' })
    expect(events.map((e) => e.type)).toEqual(['order.created', 'order.paid'])
    const order = events[0]!.data as Record<string, any>
    expect(order).toMatchObject({
      id: '727',
      number: '727',
      email: 'john.doe@example.com',
      currency: 'USD',
      subtotal_price: '18.00',
      total_discounts: '0.00',
      shipping_price: '10.00',
      total_price: '29.35',
      financial_status: 'paid',
      fulfillment_status: null,
      status: 'processing',
      created_at: '2017-03-22T19:28:02.000Z',
      paid_at: '2017-03-22T19:28:08.000Z',
      discount_codes: [],
    })
    expect(order.customer).toEqual({ id: null, email: 'john.doe@example.com', phone: '(555) 555-5555', first_name: 'John', last_name: 'Doe' })
    expect(order.line_items).toEqual([
      expect.objectContaining({ sku: null, product_id: '93', variant_id: null, title: 'Woo Single #1', quantity: 2, price: '3' }),
      expect.objectContaining({
        sku: 'Bar3',
        product_id: '22',
        variant_id: '23',
        title: 'Ship Your Idea \u2013 Color: Black, Size: M Test',
        quantity: 1,
        price: '12',
      }),
    ])
    expect(order.shipping_address).toMatchObject({ country_code: 'US', city: 'San Francisco' })
    expect(events[0]!.occurred_at).toBe('2017-03-22T19:28:08.000Z')
    expect(events[1]!.occurred_at).toBe('2017-03-22T19:28:08.000Z')
  })

  it('order.updated to completed → order.fulfilled, and order.paid with the same id as at creation', async () => {
    const created = await map('order.created', phpCompact('order-created.json'))
    const { events } = await map('order.updated', phpCompact('order-updated.json'))
    expect(events.map((e) => e.type)).toEqual(['order.paid', 'order.fulfilled'])
    expect(events[0]!.id).toBe(created.events[1]!.id)
    const fulfilled = events[1]!.data as Record<string, any>
    expect(fulfilled).toMatchObject({ order_id: '727', carrier: null, tracking_number: null, customer: { email: 'john.doe@example.com' } })
    expect(fulfilled.order).toMatchObject({ number: '727', total_price: '29.35', fulfillment_status: 'fulfilled', status: 'completed' })
    expect(events[1]!.occurred_at).toBe('2017-03-22T19:30:35.000Z')
  })

  it('a later edit of a completed order repeats the same event ids (no second payment or shipment)', async () => {
    const first = await map('order.updated', phpCompact('order-updated.json'))
    const later = await map(
      'order.updated',
      phpCompact('order-updated.json', (o) => {
        o.date_modified_gmt = '2017-03-23T08:00:00'
        o.customer_note = 'gift'
      }),
    )
    expect(later.mapped.dedupeKey).not.toBe(first.mapped.dedupeKey)
    expect(later.events.map((e) => e.id)).toEqual(first.events.map((e) => e.id))
  })

  it('reads tracking from the Shipment Tracking extension meta when present', async () => {
    const { events } = await map(
      'order.updated',
      phpCompact('order-updated.json', (o) => {
        o.meta_data.push({
          id: 13110,
          key: '_wc_shipment_tracking_items',
          value: [
            {
              tracking_provider: 'USPS',
              tracking_number: '9400100000000000000000',
              custom_tracking_link: 'https://tools.usps.com/go/TrackConfirmAction?tLabels=9400100000000000000000',
            },
          ],
        })
      }),
    )
    expect(events[1]!.data).toMatchObject({ carrier: 'USPS', tracking_number: '9400100000000000000000' })
  })

  it.each([
    ['cancelled', ['order.cancelled']],
    ['refunded', ['order.refunded']],
    ['pending', ['raw.woocommerce.order_updated']],
    ['on-hold', ['raw.woocommerce.order_updated']],
  ])('order.updated to %s → %j', async (status, types) => {
    const { events } = await map(
      'order.updated',
      phpCompact('order-updated.json', (o) => {
        o.status = status
        if (status !== 'refunded') {
          o.date_paid_gmt = null
          o.date_paid = null
        }
      }),
    )
    expect(events.map((e) => e.type)).toEqual(types)
    expect(events[0]!.data['id']).toBe('727')
  })

  it('a new refund on a processing order → order.refunded keyed by the refund, with the amount', async () => {
    const body = phpCompact('order-created.json', (o) => {
      o.refunds = [{ id: 726, reason: '', total: '-10.00' }]
    })
    const { events } = await map('order.updated', body)
    expect(events.map((e) => e.type)).toEqual(['order.refunded', 'order.paid'])
    expect(events[0]!.data).toMatchObject({ refund_amount: '10.00', financial_status: 'partially_refunded' })
  })

  it('customer.created → customer.created with the billing phone; consent unknown', async () => {
    const { events } = await map('customer.created', phpCompact('customer-created.json'))
    expect(events).toHaveLength(1)
    expect(events[0]!.type).toBe('customer.created')
    expect(events[0]!.data).toMatchObject({
      id: '25',
      email: 'john.doe@example.com',
      first_name: 'John',
      last_name: 'Doe',
      phone: '(555) 555-5555',
      accepts_marketing: null,
      created_at: '2017-03-21T19:09:28.000Z',
      username: 'john.doe',
    })
  })

  it('product.updated → product.updated, a simple product as its one variant', async () => {
    const { events } = await map('product.updated', phpCompact('product-updated.json'))
    expect(events.map((e) => e.type)).toEqual(['product.updated'])
    expect(events[0]!.data).toMatchObject({
      id: '794',
      title: 'Premium Quality',
      status: 'active',
      woocommerce_status: 'publish',
      url: 'https://example.com/product/premium-quality-19/',
      variants: [{ id: '794', sku: null, price: '24.54', compare_at_price: null, inventory_quantity: null }],
    })
  })

  it('a product that manages stock under a SKU also yields inventory.updated', async () => {
    const { events } = await map(
      'product.updated',
      phpCompact('product-updated.json', (o) => {
        o.sku = 'PQ-19'
        o.manage_stock = true
        o.stock_quantity = 7
      }),
    )
    expect(events.map((e) => e.type)).toEqual(['product.updated', 'inventory.updated'])
    expect(events[1]!.data).toEqual({ sku: 'PQ-19', variant_id: '794', available: 7 })
  })

  it('an unknown topic (order.deleted sends only the id) is kept raw', async () => {
    const { mapped, events } = await map('order.deleted', Buffer.from('{"id":727}'))
    expect(mapped.unknownTopic).toBe(true)
    expect(events[0]).toMatchObject({ type: 'raw.woocommerce.order_deleted', data: { id: 727 } })
  })
})
