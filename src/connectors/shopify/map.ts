import { eventId, header, rawEventType, sha256Hex } from '../shared/delivery.ts'
import { parseBodyObject } from '../shared/json.ts'
import { arr, isoTime, rec } from '../shared/values.ts'
import type { ComplianceKind, MappedDelivery, MappedEvent, WebhookDelivery } from '../types.ts'
import { mapCart, mapCheckout, mapCustomer, mapFulfilment, mapInventoryLevel, mapOrder, mapProduct } from './mappers.ts'

type Obj = Record<string, unknown>

/**
 * Topic → canonical type, per the 2026-07 topic list (https://shopify.dev/docs/api/webhooks/2026-07).
 * - checkouts/create and /update are both `checkout.started`: Shopify has no abandoned-checkout topic,
 *   a checkout whose `completed_at` stays null is the abandoned one (SOURCES.md), which storeflow derives.
 * - orders/fulfilled and fulfillments/create both give `order.fulfilled`; the latter carries tracking
 *   for one shipment, the former the whole order (tracking from its latest fulfillment).
 */
const ORDER_TOPICS: Record<string, string> = {
  'orders/create': 'order.created',
  'orders/paid': 'order.paid',
  'orders/cancelled': 'order.cancelled',
}

/** Mandatory privacy topics (https://shopify.dev/docs/apps/build/privacy-law-compliance). */
const COMPLIANCE_TOPICS: Record<string, ComplianceKind> = {
  'customers/data_request': 'data_request',
  'customers/redact': 'customer_redact',
  'shop/redact': 'shop_redact',
}

/** `shopDomain`: the connector's shop (verify checked the delivery is from it), for the products' page links. */
export function mapShopifyDelivery(d: WebhookDelivery, shopDomain: string | null = null): MappedDelivery {
  const topic = header(d, 'x-shopify-topic') ?? ''
  const deliveryId = header(d, 'x-shopify-webhook-id')
  // Shopify says to dedupe on X-Shopify-Event-Id ("ignore duplicate webhooks"); it is shared by all
  // deliveries of one merchant action, which may span topics (orders/create and orders/paid for one
  // checkout), so the topic is part of the key. Without the optional header, the webhook id is the
  // documented idempotency key; without both, the body itself.
  const eventKey = header(d, 'x-shopify-event-id') ?? deliveryId ?? sha256Hex(d.rawBody)
  const dedupeKey = `${topic}:${eventKey}`
  const body = parseBodyObject(d.rawBody)
  // X-Shopify-Triggered-At is when the merchant action happened; a retry carries the original payload.
  const occurredAt = isoTime(header(d, 'x-shopify-triggered-at')) ?? isoTime(body['updated_at']) ?? isoTime(body['created_at']) ?? d.receivedAt.toISOString()

  const one = (type: string, data: Obj): MappedEvent[] => [{ id: eventId('shopify', dedupeKey), type, occurred_at: occurredAt, data }]
  const base = { topic, dedupeKey, deliveryId }

  const orderType = ORDER_TOPICS[topic]
  if (orderType) return { ...base, unknownTopic: false, events: one(orderType, mapOrder(body)) }

  const compliance = COMPLIANCE_TOPICS[topic]
  if (compliance) return { ...base, unknownTopic: false, compliance, events: one(rawEventType('shopify', topic), body) }

  switch (topic) {
    case 'orders/fulfilled': {
      const order = mapOrder(body)
      const fulfilments = arr(body['fulfillments']).map(rec)
      const latest = fulfilments.reduce<Obj>((a, b) => (String(b['created_at'] ?? '') >= String(a['created_at'] ?? '') ? b : a), {})
      const data = mapFulfilment(latest, { id: body['id'], customer: (order['customer'] as Obj | undefined) ?? null, email: order['email'] as string | null })
      data['fulfillments'] = fulfilments.map((f) => mapFulfilment(f, { id: body['id'], customer: null }))
      data['order'] = order
      return { ...base, unknownTopic: false, events: one('order.fulfilled', data) }
    }
    case 'fulfillments/create':
      return {
        ...base,
        unknownTopic: false,
        events: one(
          'order.fulfilled',
          mapFulfilment(body, { id: body['order_id'], customer: typeof body['email'] === 'string' ? { email: body['email'] } : null }),
        ),
      }
    case 'checkouts/create':
    case 'checkouts/update':
      return { ...base, unknownTopic: false, events: one('checkout.started', mapCheckout(body)) }
    case 'carts/create':
    case 'carts/update':
      return { ...base, unknownTopic: false, events: one('cart.updated', mapCart(body)) }
    case 'customers/create':
      return { ...base, unknownTopic: false, events: one('customer.created', mapCustomer(body)) }
    case 'customers/update':
      return { ...base, unknownTopic: false, events: one('customer.updated', mapCustomer(body)) }
    case 'products/create':
    case 'products/update':
      return { ...base, unknownTopic: false, events: one('product.updated', mapProduct(body, shopDomain)) }
    case 'inventory_levels/update':
      return { ...base, unknownTopic: false, events: one('inventory.updated', mapInventoryLevel(body)) }
    default:
      return { ...base, unknownTopic: true, events: one(rawEventType('shopify', topic), body) }
  }
}
