import { fixture, hmacBase64, standardWebhookSignature } from '../../src/connectors/testing.ts'
import { CART_ID } from '../helpers/bigcommerce-api.ts'

/**
 * The chaos suite's shop: what it sends and how it sends it. Each delivery is an ingest API
 * request (one event or a batch) or a signed webhook from Shopify, WooCommerce or BigCommerce,
 * built from the documented payloads in test/fixtures/webhooks/ with ids of its own. It knows,
 * from the shop's side, which canonical events (type and the resource's id in `data.id`) each
 * delivery must leave in the store, so the suite can check the store without asking the product
 * what it received.
 */

export type Channel = 'api' | 'shopify' | 'woocommerce' | 'bigcommerce'

/** A canonical event a delivery must leave stored: its type and `data.id`, and its id when the shop chose it. */
export interface ExpectedEvent {
  type: string
  dataId: string
  id?: string
}

export interface Delivery {
  channel: Channel
  /** what it is, for messages: `shopify orders/create 7000012` */
  label: string
  expects: ExpectedEvent[]
  /**
   * The request of attempt `attempt` (1, 2, …). A platform's retry is built anew as that platform
   * does it: Shopify keeps X-Shopify-Event-Id and sends a new X-Shopify-Webhook-Id, BigCommerce
   * keeps webhook-id and signs a new timestamp, WooCommerce and the API client send the same bytes.
   */
  request(attempt: number): { path: string; headers: Record<string, string>; body: string }
}

export interface ShopSecrets {
  shopify: string
  woocommerce: string
  bigcommerce: string
}

export const SHOP_DOMAIN = 'chaos-shop.myshopify.com'

export interface ShopOptions {
  store: string
  /** the ingest API key */
  key: string
  secrets: ShopSecrets
  /** tells the BigCommerce API stand-in to serve an order the shop is about to announce */
  serveBigCommerceOrder(id: number): void
}

type Obj = Record<string, unknown>

const json = (value: unknown) => JSON.stringify(value)
const parsed = (platform: string, file: string) => JSON.parse(fixture(platform, file).toString('utf8')) as Obj
const lineItems = [{ sku: 'CHAOS-TEE', product_id: 'p-chaos', variant_id: 'v-chaos', title: 'Chaos tee', quantity: 1, price: '25.00' }]

/** The kinds of delivery, in the order the shop cycles through them. */
const KINDS = [
  'api-batch',
  'shopify-order',
  'woo-order',
  'bc-order',
  'api-cart',
  'shopify-customer',
  'api-checkout',
  'shopify-checkout',
  'woo-customer',
  'bc-customer',
  'bc-cart',
  'shopify-paid',
  'api-order',
] as const

/** The n-th delivery of the shop's traffic (n from 0): the kinds take turns, every resource id is new. */
export function delivery(n: number, shop: ShopOptions): Delivery {
  const kind = KINDS[n % KINDS.length]!
  switch (kind) {
    case 'api-batch':
      return apiEvents(shop, `api batch ${n}`, [
        { id: `api-cc-${n}`, type: 'customer.created', data: { id: `ac${n}`, email: `ac${n}@example.com`, first_name: 'Ada', accepts_marketing: false } },
        { id: `api-oc-${n}`, type: 'order.created', data: apiOrder(n) },
        { id: `api-op-${n}`, type: 'order.paid', data: { ...apiOrder(n), financial_status: 'paid' } },
      ])
    case 'api-order':
      return apiEvents(shop, `api order.created ${n}`, [{ id: `api-oc-${n}`, type: 'order.created', data: apiOrder(n) }])
    case 'api-cart':
      return apiEvents(shop, `api cart.updated ${n}`, [
        {
          id: `api-cu-${n}`,
          type: 'cart.updated',
          data: { id: `cart-${n}`, customer: { id: `ac${n}`, email: `ac${n}@example.com` }, currency: 'USD', total_price: '25.00', line_items: lineItems },
        },
      ])
    case 'api-checkout':
      return apiEvents(shop, `api checkout.started ${n}`, [
        {
          id: `api-cs-${n}`,
          type: 'checkout.started',
          data: { id: `chk-${n}`, customer: { id: `ac${n}`, email: `ac${n}@example.com` }, currency: 'USD', total_price: '25.00', line_items: lineItems },
        },
      ])
    case 'shopify-order': {
      const body = parsed('shopify', 'orders-create.json')
      const id = 7_000_000 + n
      body['id'] = id
      body['email'] = `s${n}@example.com`
      body['contact_email'] = `s${n}@example.com`
      body['customer'] = { ...(body['customer'] as Obj), id: 7_100_000 + n, email: `s${n}@example.com` }
      return shopify(shop, `orders/create`, id, body, [{ type: 'order.created', dataId: String(id) }])
    }
    case 'shopify-paid': {
      const body = parsed('shopify', 'orders-paid.json')
      const id = 7_000_000 + n
      body['id'] = id
      body['email'] = `s${n}@example.com`
      body['customer'] = { ...(body['customer'] as Obj), id: 7_100_000 + n, email: `s${n}@example.com` }
      return shopify(shop, 'orders/paid', id, body, [{ type: 'order.paid', dataId: String(id) }])
    }
    case 'shopify-customer': {
      const body = parsed('shopify', 'customers-create.json')
      const id = 7_200_000 + n
      body['id'] = id
      body['email'] = `sc${n}@example.com`
      return shopify(shop, 'customers/create', id, body, [{ type: 'customer.created', dataId: String(id) }])
    }
    case 'shopify-checkout': {
      const body = parsed('shopify', 'checkouts-create.json')
      const token = `chk-s-${n}`
      body['token'] = token
      body['email'] = `sk${n}@example.com`
      body['customer'] = { ...(body['customer'] as Obj), id: 7_300_000 + n, email: `sk${n}@example.com` }
      return shopify(shop, 'checkouts/create', token, body, [{ type: 'checkout.started', dataId: token }])
    }
    case 'woo-order': {
      const body = parsed('woocommerce', 'order-created.json')
      const id = 8_000_000 + n
      body['id'] = id
      body['number'] = String(id)
      body['billing'] = { ...(body['billing'] as Obj), email: `w${n}@example.com` }
      // created in `processing` with date_paid: an order.created and an order.paid
      return woo(shop, 'order.created', id, body, [
        { type: 'order.created', dataId: String(id) },
        { type: 'order.paid', dataId: String(id) },
      ])
    }
    case 'woo-customer': {
      const body = parsed('woocommerce', 'customer-created.json')
      const id = 8_100_000 + n
      body['id'] = id
      body['email'] = `wc${n}@example.com`
      body['billing'] = { ...(body['billing'] as Obj), email: `wc${n}@example.com` }
      return woo(shop, 'customer.created', id, body, [{ type: 'customer.created', dataId: String(id) }])
    }
    case 'bc-order': {
      const id = 900_000 + n
      shop.serveBigCommerceOrder(id)
      const body = parsed('bigcommerce', 'store-order-created.json')
      body['data'] = { type: 'order', id }
      // created in Awaiting Fulfillment, a paid status: an order.created and an order.paid
      return bigCommerce(shop, `store/order/created ${id}`, n, body, [
        { type: 'order.created', dataId: String(id) },
        { type: 'order.paid', dataId: String(id) },
      ])
    }
    case 'bc-customer':
      // the stand-in knows one customer, 32: each delivery is a new event about it
      return bigCommerce(shop, 'store/customer/created 32', n, parsed('bigcommerce', 'store-customer-created.json'), [
        { type: 'customer.created', dataId: '32' },
      ])
    case 'bc-cart':
      return bigCommerce(shop, `store/cart/created ${CART_ID}`, n, parsed('bigcommerce', 'store-cart-created.json'), [
        { type: 'cart.updated', dataId: CART_ID },
      ])
  }
}

function apiOrder(n: number): Obj {
  return {
    id: `A${n}`,
    number: `${10_000 + n}`,
    currency: 'USD',
    total_price: '25.00',
    line_items: lineItems,
    customer: { id: `ac${n}`, email: `ac${n}@example.com` },
  }
}

function apiEvents(shop: ShopOptions, label: string, events: Array<{ id: string; type: string; data: Obj }>): Delivery {
  const body = json(events.length === 1 ? events[0] : { events })
  return {
    channel: 'api',
    label,
    expects: events.map((e) => ({ type: e.type, dataId: String(e.data['id']), id: e.id })),
    request: () => ({ path: '/api/v1/events', headers: { authorization: `Bearer ${shop.key}`, 'content-type': 'application/json' }, body }),
  }
}

function shopify(shop: ShopOptions, topic: string, id: number | string, payload: Obj, expects: ExpectedEvent[]): Delivery {
  const body = json(payload)
  const eventId = `chaos-${topic.replace('/', '-')}-${id}`
  return {
    channel: 'shopify',
    label: `shopify ${topic} ${id}`,
    expects,
    request: (attempt) => ({
      path: `/webhooks/shopify/${shop.store}`,
      headers: {
        'content-type': 'application/json',
        'x-shopify-hmac-sha256': hmacBase64(shop.secrets.shopify, body),
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': SHOP_DOMAIN,
        'x-shopify-api-version': '2026-07',
        'x-shopify-event-id': eventId,
        'x-shopify-webhook-id': `${eventId}-delivery-${attempt}`,
      },
      body,
    }),
  }
}

function woo(shop: ShopOptions, topic: string, id: number, payload: Obj, expects: ExpectedEvent[]): Delivery {
  const body = json(payload)
  return {
    channel: 'woocommerce',
    label: `woocommerce ${topic} ${id}`,
    expects,
    request: () => ({
      path: `/webhooks/woocommerce/${shop.store}`,
      headers: {
        'content-type': 'application/json',
        'x-wc-webhook-signature': hmacBase64(shop.secrets.woocommerce, body),
        'x-wc-webhook-topic': topic,
        'x-wc-webhook-source': 'https://woo.example/',
        'x-wc-webhook-delivery-id': `chaos-${topic}-${id}`,
      },
      body,
    }),
  }
}

function bigCommerce(shop: ShopOptions, label: string, n: number, payload: Obj, expects: ExpectedEvent[]): Delivery {
  const body = json(payload)
  const messageId = `msg_chaos_${n}`
  return {
    channel: 'bigcommerce',
    label: `bigcommerce ${label}`,
    expects,
    request: () => {
      const ts = Math.floor(Date.now() / 1000)
      return {
        path: `/webhooks/bigcommerce/${shop.store}`,
        headers: {
          'content-type': 'application/json',
          'webhook-id': messageId,
          'webhook-timestamp': String(ts),
          'webhook-signature': standardWebhookSignature(Buffer.from(shop.secrets.bigcommerce), messageId, ts, Buffer.from(body)),
        },
        body,
      }
    },
  }
}

/** What one delivery took: its attempts' answers (0: no answer) and the accepted answer's body. */
export interface Sent {
  delivery: Delivery
  statuses: number[]
  accepted: boolean
  answer: Record<string, unknown> | null
}

/** Told of each request as it leaves and of its answer (0: none), for the report and the fault schedule. */
export interface SendHooks {
  sending(): void
  answered(status: number): void
}

/**
 * Sends a delivery as a shop does: again and again, until it is answered 2xx (accepted), or
 * `deadline` passes.
 */
export async function send(base: string, d: Delivery, deadline: number, hooks: SendHooks): Promise<Sent> {
  const statuses: number[] = []
  for (let attempt = 1; ; attempt++) {
    const { path, headers, body } = d.request(attempt)
    hooks.sending()
    const answer = await fetch(`${base}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(20_000) }).then(
      async (r) => ({ status: r.status, body: await r.json().catch(() => null) }),
      () => ({ status: 0, body: null }),
    )
    statuses.push(answer.status)
    hooks.answered(answer.status)
    if (answer.status >= 200 && answer.status < 300) return { delivery: d, statuses, accepted: true, answer: answer.body as Record<string, unknown> | null }
    if (Date.now() > deadline) return { delivery: d, statuses, accepted: false, answer: null }
    await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * attempt)))
  }
}
