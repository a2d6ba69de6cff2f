import { eventId, header, rawEventType } from '../shared/delivery.ts'
import { parseBodyObject } from '../shared/json.ts'
import { arr, idStr, int, isoFromUnixSeconds, rec, str } from '../shared/values.ts'
import type { ConnectorCredentials, MapDeps, MappedDelivery, MappedEvent, WebhookDelivery } from '../types.ts'
import { bigCommerceApi, GONE, type BigCommerceApi } from './api.ts'
import { ORDER_STATUS, PAID_STATUSES, mapCart, mapCustomer, mapOrder, mapProduct, mapShipment } from './mappers.ts'
import { storefrontOf } from './storefront.ts'

type Obj = Record<string, unknown>

/**
 * BigCommerce scopes → canonical events. Payloads are thin (`data: { type, id, … }`), so every mapped
 * scope fetches its resource from the store's API first (https-webhook-overview.mdx "Payload").
 *
 * | scope                                   | canonical                                                |
 * | store/order/created                     | order.created (+ order.paid if created in a paid status) |
 * | store/order/statusUpdated → paid status | order.paid (from an unpaid status)                       |
 * | store/order/statusUpdated → Cancelled   | order.cancelled                                          |
 * | store/order/statusUpdated, other        | raw.bigcommerce.store_order_status_updated (order)       |
 * | store/order/updated                     | raw.bigcommerce.store_order_updated (order)              |
 * | store/order/refund/created              | order.refunded                                           |
 * | store/shipment/created                  | order.fulfilled (carrier, tracking number and link)      |
 * | store/cart/created, store/cart/updated  | cart.updated                                             |
 * | store/cart/abandoned                    | raw.bigcommerce.store_cart_abandoned (cart)              |
 * | store/cart/converted                    | raw.bigcommerce.store_cart_converted (cart and order ids) |
 * | store/customer/created / updated        | customer.created / customer.updated                      |
 * | store/product/created / updated         | product.updated (its page: storefront.ts)                |
 * | store/product/inventory[/order]/updated | inventory.updated (product-level stock)                  |
 * | store/sku/inventory[/order]/updated     | inventory.updated (variant-level stock)                  |
 * | anything else                           | raw.bigcommerce.<scope> (raw body)                       |
 *
 * Why some are raw: `store/order/updated` fires beside `statusUpdated` for the same change, so only
 * the latter (which says what changed) yields canonical events. Refunds come from `refund/created`
 * (one per refund, with its id); a status change to Refunded is not a second refund. storeflow derives
 * `cart.abandoned` itself from `cart.updated`, so BigCommerce's own judgement is kept raw.
 * `order.paid` ids are keyed on the order, so `order/created` in a paid status and a later
 * `statusUpdated` to another paid status cannot pay one order twice.
 */
export async function mapBigCommerceDelivery(d: WebhookDelivery, creds: ConnectorCredentials, deps: MapDeps): Promise<MappedDelivery> {
  const body = parseBodyObject(d.rawBody)
  const scope = str(body['scope']) ?? ''
  const data = rec(body['data'])
  const deliveryId = header(d, 'webhook-id')
  // Standard Webhooks keeps webhook-id across retries. Custom-header hooks only have the payload
  // `hash`, the SHA-1 of `data` alone: two updates of one cart share it, so scope and created_at
  // (unchanged on retries, the payload is resent as is) join it.
  const dedupeKey = deliveryId ?? `${scope}:${str(body['hash']) ?? ''}:${str(body['created_at']) ?? ''}`
  const occurredAt = isoFromUnixSeconds(body['created_at']) ?? d.receivedAt.toISOString()
  const base = { topic: scope, dedupeKey, deliveryId, unknownTopic: false }
  const ev = (type: string, eventData: Obj, key: string = dedupeKey): MappedEvent => ({
    id: eventId('bigcommerce', key),
    type,
    occurred_at: occurredAt,
    data: eventData,
  })
  const raw = (eventData: Obj): MappedEvent => ev(rawEventType('bigcommerce', scope), eventData)
  /** 404: the resource is gone (deleted before we asked); nothing to retry, the notice is kept. */
  const gone = (): MappedDelivery => ({
    ...base,
    events: [raw({ resource_gone: true, resource: { type: data['type'] ?? null, id: data['id'] ?? null }, payload: body })],
  })

  if (!HANDLED.has(scope)) return { ...base, unknownTopic: true, events: [raw(body)] }
  // The order a converted cart became arrives as store/order/created; the conversion itself is kept
  // (it links cart and order) without a fetch: a converted cart is usually gone from /v3/carts.
  if (scope === 'store/cart/converted') return { ...base, events: [raw({ cart_id: data['id'] ?? null, order_id: idStr(data['orderId']), payload: body })] }

  const api = bigCommerceApi(creds, deps)
  const id = idStr(data['id']) ?? ''

  switch (scope) {
    case 'store/order/created':
    case 'store/order/updated':
    case 'store/order/statusUpdated':
    case 'store/order/refund/created': {
      const order = await fetchOrder(api, id)
      if (order === GONE) return gone()
      const statusId = int(order['status_id'])
      if (scope === 'store/order/created') {
        const events = [ev('order.created', order)]
        if (statusId !== null && PAID_STATUSES.has(statusId)) events.push(ev('order.paid', order, `order.paid:${id}`))
        return { ...base, events }
      }
      if (scope === 'store/order/refund/created') {
        return { ...base, events: [ev('order.refunded', { ...order, refund_id: idStr(rec(data['refund'])['refund_id']) })] }
      }
      if (scope === 'store/order/updated') return { ...base, events: [raw(order)] }
      const change = rec(data['status'])
      const next = int(change['new_status_id']) ?? statusId
      const previous = int(change['previous_status_id'])
      const withChange = { ...order, previous_status_id: previous, new_status_id: next }
      if (next !== null && PAID_STATUSES.has(next) && (previous === null || !PAID_STATUSES.has(previous))) {
        return { ...base, events: [ev('order.paid', withChange, `order.paid:${id}`)] }
      }
      if (next === ORDER_STATUS.cancelled) return { ...base, events: [ev('order.cancelled', withChange)] }
      return { ...base, events: [raw(withChange)] }
    }
    case 'store/shipment/created': {
      const orderId = idStr(data['orderId']) ?? ''
      const shipment = await api.get(`/v2/orders/${enc(orderId)}/shipments/${enc(id)}`)
      if (shipment === GONE) return gone()
      const order = await fetchOrder(api, orderId)
      return { ...base, events: [ev('order.fulfilled', mapShipment(rec(shipment), order === GONE ? null : order))] }
    }
    case 'store/cart/created':
    case 'store/cart/updated':
    case 'store/cart/abandoned': {
      const cart = await api.get(`/v3/carts/${enc(id)}?include=redirect_urls`)
      if (cart === GONE) return gone()
      const mapped = mapCart(rec(rec(cart)['data']))
      if (scope === 'store/cart/abandoned') return { ...base, events: [raw({ ...mapped, token: data['token'] ?? null })] }
      return { ...base, events: [ev('cart.updated', mapped)] }
    }
    case 'store/customer/created':
    case 'store/customer/updated': {
      const list = await api.get(`/v3/customers?id:in=${enc(id)}`)
      const customer = list === GONE ? undefined : arr(rec(list)['data'])[0]
      if (customer === undefined) return gone()
      const type = scope === 'store/customer/created' ? 'customer.created' : 'customer.updated'
      return { ...base, events: [ev(type, mapCustomer(rec(customer)))] }
    }
    case 'store/product/created':
    case 'store/product/updated': {
      const product = await api.get(`/v3/catalog/products/${enc(id)}?include=variants`)
      if (product === GONE) return gone()
      const storefront = await storefrontOf(api, creds)
      return { ...base, events: [ev('product.updated', mapProduct(rec(rec(product)['data']), storefront))] }
    }
    case 'store/product/inventory/updated':
    case 'store/product/inventory/order/updated': {
      const inventory = rec(data['inventory'])
      const productId = idStr(inventory['product_id']) ?? id
      const product = await api.get(`/v3/catalog/products/${enc(productId)}`)
      if (product === GONE) return gone()
      const p = rec(rec(product)['data'])
      return {
        ...base,
        events: [
          ev('inventory.updated', {
            // A product without a SKU is still one stock line; its id stands in as the sku.
            sku: str(p['sku']) ?? productId,
            product_id: productId,
            available: levelOf(inventory, p['inventory_level']),
            method: str(inventory['method']),
          }),
        ],
      }
    }
    case 'store/sku/inventory/updated':
    case 'store/sku/inventory/order/updated': {
      const inventory = rec(data['inventory'])
      const productId = idStr(inventory['product_id']) ?? ''
      const variantId = idStr(inventory['variant_id']) ?? id
      const variant = await api.get(`/v3/catalog/products/${enc(productId)}/variants/${enc(variantId)}`)
      if (variant === GONE) return gone()
      const v = rec(rec(variant)['data'])
      return {
        ...base,
        events: [
          ev('inventory.updated', {
            sku: str(v['sku']) ?? variantId,
            variant_id: variantId,
            product_id: productId,
            sku_id: id,
            available: levelOf(inventory, v['inventory_level']),
            method: str(inventory['method']),
          }),
        ],
      }
    }
    default:
      return { ...base, unknownTopic: true, events: [raw(body)] }
  }
}

const HANDLED = new Set([
  'store/order/created',
  'store/order/updated',
  'store/order/statusUpdated',
  'store/order/refund/created',
  'store/shipment/created',
  'store/cart/created',
  'store/cart/converted',
  'store/cart/updated',
  'store/cart/abandoned',
  'store/customer/created',
  'store/customer/updated',
  'store/product/created',
  'store/product/updated',
  'store/product/inventory/updated',
  'store/product/inventory/order/updated',
  'store/sku/inventory/updated',
  'store/sku/inventory/order/updated',
])

/**
 * `method: "absolute"` means `value` is the new level at the time of the event, which is more exact
 * than the level fetched later; a relative change is a delta, so the fetched level is used.
 */
function levelOf(inventory: Obj, fetched: unknown): number {
  const value = int(inventory['value'])
  if (str(inventory['method']) === 'absolute' && value !== null) return value
  return int(fetched) ?? 0
}

function enc(segment: string): string {
  return encodeURIComponent(segment)
}

async function fetchOrder(api: BigCommerceApi, id: string): Promise<Obj | typeof GONE> {
  const order = await api.get(`/v2/orders/${enc(id)}`)
  if (order === GONE) return GONE
  const [products, addresses] = await Promise.all([api.get(`/v2/orders/${enc(id)}/products`), api.get(`/v2/orders/${enc(id)}/shipping_addresses`)])
  return mapOrder(rec(order), products === GONE ? [] : arr(products), addresses === GONE ? [] : arr(addresses))
}
