import { eventId, header, rawEventType, sha256Hex } from '../shared/delivery.ts'
import { parseBodyObject } from '../shared/json.ts'
import { arr, idStr, int, isoFromGmt, rec, str } from '../shared/values.ts'
import type { MappedDelivery, MappedEvent, WebhookDelivery } from '../types.ts'
import { inventoryOf, isPaid, mapCompletedFulfilment, mapCustomer, mapOrder, mapProduct } from './mappers.ts'
import { isPing } from './verify.ts'

type Obj = Record<string, unknown>

/**
 * WooCommerce topics (X-WC-Webhook-Topic, `<resource>.<event>`) → canonical events.
 *
 * Woo has no event id and no retries (class-wc-webhook.php): the event is identified by
 * (topic, resource id, date_modified_gmt), which is the dedupe key (SIGNATURES.md §2).
 *
 * `order.updated` fires on every change to an order, so the same order can be "updated" many times
 * while processing. A status transition is therefore keyed on the resource's own state, not on the
 * delivery: `order.paid` on (order id, date_paid_gmt), `order.fulfilled` on (order id,
 * date_completed_gmt), `order.refunded` on the newest refund id, `order.cancelled` on the order id.
 * Later updates of a paid order reproduce the same `order.paid` id and the ingest drops them as
 * duplicates; `order.created` of an order paid at creation and a later `order.updated` agree too.
 *
 * order.updated by status (Woo order statuses, woocommerce.com/document/managing-orders):
 * | status                       | events                                          |
 * | cancelled                    | order.cancelled                                 |
 * | refunded / any new refund    | order.refunded                                  |
 * | processing (date_paid set)   | order.paid                                      |
 * | completed                    | order.paid (if not seen yet) + order.fulfilled  |
 * | pending, on-hold, failed, …  | raw.woocommerce.order_updated (mapped order)    |
 */
export function mapWooCommerceDelivery(d: WebhookDelivery): MappedDelivery {
  const deliveryId = header(d, 'x-wc-webhook-delivery-id')
  if (isPing(d)) return { topic: 'ping', dedupeKey: null, deliveryId, events: [], unknownTopic: false }

  const resource = header(d, 'x-wc-webhook-resource')
  const event = header(d, 'x-wc-webhook-event')
  const topic = header(d, 'x-wc-webhook-topic') ?? (resource && event ? `${resource}.${event}` : '')
  const body = parseBodyObject(d.rawBody)
  const resourceId = idStr(body['id']) ?? ''
  const modified = str(body['date_modified_gmt'])
  // `*.deleted` sends only `{"id": N}`: without a modification time the body is the best identity.
  const dedupeKey = `${topic}:${resourceId}:${modified ?? sha256Hex(d.rawBody)}`
  const occurredAt = isoFromGmt(modified) ?? d.receivedAt.toISOString()

  const base = { topic, dedupeKey, deliveryId, unknownTopic: false }
  const ev = (type: string, data: Obj, key: string = dedupeKey, at: string = occurredAt): MappedEvent => ({
    id: eventId('woocommerce', key),
    type,
    occurred_at: at,
    data,
  })

  switch (topic) {
    case 'order.created': {
      const order = mapOrder(body)
      const events = [ev('order.created', order)]
      if (isPaid(body)) events.push(paidEvent(body, order, ev))
      return { ...base, events }
    }
    case 'order.updated':
      return orderUpdated(body, base, ev)
    case 'customer.created':
      return { ...base, events: [ev('customer.created', mapCustomer(body))] }
    case 'customer.updated':
      return { ...base, events: [ev('customer.updated', mapCustomer(body))] }
    case 'product.created':
    case 'product.updated': {
      const events = [ev('product.updated', mapProduct(body))]
      const level = inventoryOf(body)
      if (level) events.push({ ...ev('inventory.updated', level), id: eventId('woocommerce', dedupeKey, 1) })
      return { ...base, events }
    }
    default:
      return { ...base, unknownTopic: true, events: [ev(rawEventType('woocommerce', topic), body)] }
  }
}

type Ev = (type: string, data: Obj, key?: string, at?: string) => MappedEvent

function paidEvent(body: Obj, order: Obj, ev: Ev): MappedEvent {
  const paidAt = str(body['date_paid_gmt'])
  return ev('order.paid', order, `order.paid:${String(order['id'])}:${paidAt}`, isoFromGmt(paidAt) ?? undefined)
}

function orderUpdated(body: Obj, base: Omit<MappedDelivery, 'events'>, ev: Ev): MappedDelivery {
  const order = mapOrder(body)
  const id = String(order['id'])
  const status = str(body['status'])
  const events: MappedEvent[] = []

  const refunds = arr(body['refunds']).map(rec)
  const newestRefund = refunds.map((r) => int(r['id']) ?? 0).reduce((a, b) => Math.max(a, b), 0)
  if (newestRefund > 0) events.push(ev('order.refunded', order, `order.refunded:${id}:${newestRefund}`))
  else if (status === 'refunded') events.push(ev('order.refunded', order))

  if (status === 'cancelled') events.push(ev('order.cancelled', order, `order.cancelled:${id}`))
  if (isPaid(body) && status !== 'refunded') events.push(paidEvent(body, order, ev))
  if (status === 'completed') {
    const completedAt = str(body['date_completed_gmt'])
    events.push(ev('order.fulfilled', mapCompletedFulfilment(body, order), `order.fulfilled:${id}:${completedAt}`, isoFromGmt(completedAt) ?? undefined))
  }
  if (events.length === 0) events.push(ev(rawEventType('woocommerce', 'order.updated'), order))
  return { ...base, events }
}
