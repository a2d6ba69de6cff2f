import { createInvoice } from '../../src/store/invoices.repo.ts'
import { createPurchaseOrders, upsertSupplier } from '../../src/store/purchasing.repo.ts'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { fixture, hmacBase64, standardWebhookSignature } from '../../src/connectors/testing.ts'
import { buildServer } from '../../src/http/server.ts'
import { createKey, createStore, type KeyScope } from '../../src/store/stores.repo.ts'
import { ACCESS_TOKEN } from './bigcommerce-api.ts'
import { createTestEnv, type DialectName, type TestEnv } from './dialects.ts'
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts'
import { dumpStore } from './two-stores.ts'

/**
 * Two stores, A and B, seeded alike for the two-store tests: the same customer 42 with
 * the same email, order 1001, event ids, workflows, template name, connector platforms and webhook
 * deliveries, told apart by their content (A's customer is Alice, B's is Bertha; "Shop A", "Shop B").
 * B also holds a few things of its own (workflows b-only*, events evt-b-only-*, changed settings).
 */

export const SCOPES: KeyScope[] = ['ingest', 'read', 'admin']
export const STORES = ['a', 'b'] as const
export type StoreId = (typeof STORES)[number]

export const EMAIL = 'ada@example.com'
/** a subscriber both stores know by email only */
export const EVE = 'eve@example.com'
export const SHOP_DOMAIN = 'jsmith.myshopify.com'
export const SECRETS = {
  a: { shopify: 'shpss_store-a-secret', woocommerce: 'woo-store-a-secret', bigcommerce: 'bc-store-a-secret' },
  b: { shopify: 'shpss_store-b-secret', woocommerce: 'woo-store-b-secret', bigcommerce: 'bc-store-b-secret' },
} as const
/** what tells A's data from B's where the ids are the same */
export const NAME = { a: 'Alice', b: 'Bertha' } as const
export const SHOP = { a: 'Shop A', b: 'Shop B' } as const

export const workflow = (id: string, name: string, body: string) => `id: ${id}\nname: ${name}\n${body}`
export const WELCOME = (s: StoreId, extra = '') =>
  workflow(
    'welcome',
    `Welcome ${s.toUpperCase()}${extra}`,
    `trigger: { event: order.paid }
exit_when:
  - event: order.cancelled
steps:
  - id: hello
    action: send_email
    with: { template: promo, category: marketing }
  - wait_for:
      event: message.opened
      match: 'event.data.message_id == steps.hello.message_id'
      timeout: 3d
  - action: log
    with: { message: 'opened by {{ customer.first_name }}' }
`,
  )
export const SLOW = (s: StoreId) =>
  workflow(
    'slow',
    `Slow ${s.toUpperCase()}`,
    "trigger: { event: order.paid }\nsteps:\n  - wait: 3d\n  - action: log\n    with: { message: 'three days later' }\n",
  )
/** fails at once: no team webhook is configured, a permanent error */
export const FRAGILE = (s: StoreId) =>
  workflow(
    'fragile',
    `Fragile ${s.toUpperCase()}`,
    "trigger: { event: order.paid }\nsteps:\n  - action: notify_team\n    with: { text: 'order {{ order.number }}' }\n",
  )
export const RETIRED = (s: StoreId) =>
  workflow('retired', `Retired ${s.toUpperCase()}`, "trigger: { event: product.updated }\nsteps:\n  - action: log\n    with: { message: 'product' }\n")
/** B's own workflows, three versions each: A naming them finds nothing, and A saving one makes A's own version 1 */
export const B_ONLY = (id: string, v: number) =>
  workflow(id, `B only v${v}`, `trigger: { event: raw.b.only }\nsteps:\n  - action: log\n    with: { message: 'b ${v}' }\n`)

export const customer = (s: StoreId) => ({ id: '42', email: EMAIL, first_name: NAME[s], last_name: 'Quill', accepts_marketing: true })
export const order = (s: StoreId, id = '1001') => ({
  id,
  number: `#${id}`,
  currency: 'USD',
  total_price: '45.00',
  line_items: [{ sku: 'TEE-1', quantity: 1, price: '45.00' }],
  customer: customer(s),
})
/** events both stores hold under the same ids */
export const SHARED_EVENTS = (s: StoreId) => [
  { id: 'evt-cust', type: 'customer.created', occurred_at: '2026-03-02T08:00:00Z', data: customer(s) },
  { id: 'evt-cust-update', type: 'customer.updated', occurred_at: '2026-03-02T08:05:00Z', data: { id: '42', email: EMAIL, tags: ['regular'] } },
  // known by email only, in both stores: A learning her shop id merges A's row, never B's
  { id: 'evt-eve', type: 'newsletter.subscribed', occurred_at: '2026-03-02T08:06:00Z', data: { customer: { email: EVE } } },
  {
    id: 'evt-cart',
    type: 'cart.updated',
    occurred_at: '2026-03-02T08:10:00Z',
    data: { id: 'cart-1', currency: 'USD', total_price: '45.00', customer: { id: '42' }, line_items: [{ sku: 'TEE-1', quantity: 1, price: '45.00' }] },
  },
  {
    id: 'evt-product',
    type: 'product.updated',
    occurred_at: '2026-03-02T08:20:00Z',
    data: { id: 'p-1', title: `Tee of ${SHOP[s]}`, variants: [{ id: 'v-1', sku: 'TEE-1', price: '45.00', inventory_quantity: 5 }] },
  },
  { id: 'evt-stock', type: 'inventory.updated', occurred_at: '2026-03-02T08:25:00Z', data: { sku: 'TEE-1', location_id: 'loc-1', available: 4 } },
  { id: 'evt-early-fulfil', type: 'order.fulfilled', occurred_at: '2026-03-02T08:30:00Z', data: { order_id: '2002', carrier: 'UPS' } },
  { id: 'evt-order', type: 'order.paid', occurred_at: '2026-03-02T09:00:00Z', data: order(s) },
]
/** ids only B has: A sending them must get new events of its own, not "duplicate" */
export const B_ONLY_EVENT_IDS = SCOPES.map((scope) => `evt-b-only-${scope}`)

/** The documented Shopify orders/create, as customer 42's order 1001. */
export function shopifyOrder(): Buffer {
  const body = JSON.parse(fixture('shopify', 'orders-create.json').toString('utf8')) as Record<string, unknown>
  body['id'] = 1001
  body['email'] = EMAIL
  body['contact_email'] = EMAIL
  body['customer'] = { ...(body['customer'] as object), id: 42, email: EMAIL }
  return Buffer.from(JSON.stringify(body))
}
export const dataRequest = (requestId: number) =>
  Buffer.from(
    JSON.stringify({
      shop_id: 954889,
      shop_domain: SHOP_DOMAIN,
      orders_requested: [1001],
      customer: { id: 42, email: EMAIL, phone: null },
      data_request: { id: requestId },
    }),
  )
export const customerRedact = () =>
  Buffer.from(JSON.stringify({ shop_id: 954889, shop_domain: SHOP_DOMAIN, customer: { id: 42, email: EMAIL, phone: null }, orders_to_redact: [1001] }))
export const shopRedact = () => Buffer.from(JSON.stringify({ shop_id: 954889, shop_domain: SHOP_DOMAIN }))

export const shopifyHeaders = (topic: string, body: Buffer, secret: string, eventId: string) => ({
  'content-type': 'application/json',
  'x-shopify-hmac-sha256': hmacBase64(secret, body),
  'x-shopify-topic': topic,
  'x-shopify-shop-domain': SHOP_DOMAIN,
  'x-shopify-event-id': eventId,
  'x-shopify-webhook-id': `wh-${eventId}`,
})
export const wooHeaders = (body: Buffer, secret: string, deliveryId: string) => ({
  'content-type': 'application/json',
  'x-wc-webhook-signature': hmacBase64(secret, body),
  'x-wc-webhook-topic': 'order.created',
  'x-wc-webhook-delivery-id': deliveryId,
})
export const bcHeaders = (body: Buffer, secret: string, now: Date, id: string) => {
  const ts = Math.floor(now.getTime() / 1000)
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': standardWebhookSignature(Buffer.from(secret), id, ts, body),
  }
}

/** What one store holds, as its own keys see it: ids for naming its objects from the other store. */
export interface StoreIds {
  keys: Record<KeyScope, string>
  customerKey: string
  runs: { welcome: string; slow: string; fragile: string }
  connectors: { shopify: string; woocommerce: string; bigcommerce: string }
  delivery: string
  privacyExport: string
  message: string
}

export interface World {
  dialect: DialectName
  env: TestEnv
  server: FastifyInstance
  sink: SmtpSink
  a: StoreIds
  b: StoreIds
  /** links in the mail A's customer received */
  mailA: { click: string; open: string; unsubscribe: string }
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

export async function ok(res: Promise<LightMyRequestResponse>, status: number[] = [200, 201, 202, 204]): Promise<LightMyRequestResponse> {
  const r = await res
  if (!status.includes(r.statusCode)) throw new Error(`seeding: ${r.statusCode} ${r.body}`)
  return r
}

/** Both stores, seeded the same way through the API, webhooks and the engine; B gets a few things of its own. */
export async function seed(dialect: DialectName, bigcommerceApiUrl: string): Promise<World> {
  const sink = await startSmtpSink()
  const env = await createTestEnv(dialect, { env: { SMTP_URL: sink.url, STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
  const server = await buildServer(env.app)
  const db = env.app.handle.db
  const now = env.clock.now()
  const keys = {} as Record<StoreId, Record<KeyScope, string>>
  for (const s of STORES) {
    await createStore(db, { id: s, name: SHOP[s] }, now)
    keys[s] = {} as Record<KeyScope, string>
    for (const scope of SCOPES) keys[s][scope] = (await createKey(db, s, scope, now)).key
  }
  const api = (s: StoreId, method: InjectOptions['method'], url: string, payload?: unknown, scope: KeyScope = 'admin') =>
    server.inject({
      method,
      url,
      headers: bearer(keys[s][scope]),
      ...(payload === undefined
        ? {}
        : typeof payload === 'string'
          ? { payload, headers: { ...bearer(keys[s][scope]), 'content-type': 'application/yaml' } }
          : { payload: payload as object }),
    })

  const connectors = {} as Record<StoreId, StoreIds['connectors']>
  for (const s of STORES) {
    const add = async (payload: object) => (await ok(api(s, 'POST', '/api/v1/connectors', payload))).json().id as string
    connectors[s] = {
      shopify: await add({ platform: 'shopify', secrets: [SECRETS[s].shopify], shop_domain: SHOP_DOMAIN }),
      woocommerce: await add({ platform: 'woocommerce', secrets: [SECRETS[s].woocommerce] }),
      bigcommerce: await add({ platform: 'bigcommerce', secrets: [SECRETS[s].bigcommerce], api_url: bigcommerceApiUrl, access_token: ACCESS_TOKEN }),
    }
    await ok(
      api(s, 'PUT', '/api/v1/integrations/shippo', {
        api_url: 'https://shippo.example',
        credentials: { api_token: `shippo_test_${s}`, webhook_token: `shippo-wh-${s}-0123456789abcdef` },
        config: { ship_from: { name: `${s.toUpperCase()} warehouse`, country: 'US' } },
      }),
    )
    await ok(
      api(s, 'PUT', '/api/v1/message-templates/promo', {
        subject: `${s.toUpperCase()} promo: hello from {{ store.name }}`,
        html: `<p>Hi {{ customer.first_name }}, <a href="https://shop.example/${s}/new">see what is new</a></p>`,
      }),
    )
    for (const wf of [WELCOME(s), SLOW(s), FRAGILE(s), RETIRED(s)]) {
      const id = (await ok(api(s, 'POST', '/api/v1/workflows', wf))).json().id as string
      await ok(api(s, 'POST', `/api/v1/workflows/${id}/activate`))
    }
  }
  for (const id of ['b-only', 'b-only-post', 'b-only-put']) for (const v of [1, 2, 3]) await ok(api('b', 'POST', '/api/v1/workflows', B_ONLY(id, v)))
  await ok(api('b', 'PUT', '/api/v1/settings', { frequency_cap: '48h', inactive_after: '120d' }))
  // segments: one id both stores use (each its own condition), one only B has
  for (const s of ['a', 'b'] as const)
    await ok(api(s, 'POST', '/api/v1/segments', { id: 'shared-seg', name: `Shared ${NAME[s]}`, condition: 'customer.orders_count >= 1' }))
  await ok(api('b', 'POST', '/api/v1/segments', { id: 'b-only-seg', name: 'Segment B keeps', condition: 'customer.orders_count >= 0' }))
  // inventory: a SKU only B stocks, and a manual reorder point only B set
  const bStock = {
    id: 'evt-b-stock-only',
    type: 'inventory.updated',
    occurred_at: '2026-03-02T08:26:00Z',
    data: { sku: 'SKU-B-ONLY', location_id: 'loc-1', available: 9 },
  }
  await ok(api('b', 'POST', '/api/v1/events', { events: [bStock] }, 'ingest'))
  await ok(api('b', 'PUT', '/api/v1/inventory/SKU-B-ONLY/reorder-point', { reorder_point: 4 }))

  for (const s of STORES) {
    await ok(api(s, 'POST', '/api/v1/events', { events: SHARED_EVENTS(s) }, 'ingest'))
    const order = shopifyOrder()
    await ok(
      server.inject({
        method: 'POST',
        url: `/webhooks/shopify/${s}`,
        headers: shopifyHeaders('orders/create', order, SECRETS[s].shopify, 'shared-order'),
        payload: order,
      }),
    )
    const request = dataRequest(9001)
    await ok(
      server.inject({
        method: 'POST',
        url: `/webhooks/shopify/${s}`,
        headers: shopifyHeaders('customers/data_request', request, SECRETS[s].shopify, 'shared-request'),
        payload: request,
      }),
    )
    const woo = fixture('woocommerce', 'order-created.json')
    await ok(server.inject({ method: 'POST', url: `/webhooks/woocommerce/${s}`, headers: wooHeaders(woo, SECRETS[s].woocommerce, 'shared-woo'), payload: woo }))
    const big = fixture('bigcommerce', 'store-order-created.json')
    await ok(
      server.inject({ method: 'POST', url: `/webhooks/bigcommerce/${s}`, headers: bcHeaders(big, SECRETS[s].bigcommerce, now, 'shared-bc'), payload: big }),
    )
  }
  await ok(
    api(
      'b',
      'POST',
      '/api/v1/events',
      {
        events: B_ONLY_EVENT_IDS.map((id) => ({
          id,
          type: 'customer.updated',
          occurred_at: '2026-03-02T09:30:00Z',
          data: { id: '42', email: EMAIL, tags: ['b-vip'] },
        })),
      },
      'ingest',
    ),
  )
  await env.app.engine.drain()

  const ids = async (s: StoreId): Promise<StoreIds> => {
    // the WooCommerce and BigCommerce orders are other customers' (who gave no consent): customer 42's runs
    const runs = (await ok(api(s, 'GET', '/api/v1/runs?customer=42&limit=100'))).json().items as Array<{ id: string; workflow_id: string; status: string }>
    const run = (workflowId: string, status: string) => {
      const found = runs.filter((r) => r.workflow_id === workflowId && r.status === status)
      if (found.length !== 1)
        throw new Error(
          `seeding: store ${s} has ${found.length} ${status} runs of ${workflowId}: ${runs.map((r) => `${r.workflow_id}:${r.status}`).join(', ')}`,
        )
      return found[0]!.id
    }
    const messages = (await ok(api(s, 'GET', `/api/v1/messages?status=sent`))).json().items as Array<{ id: string; status: string; to: string }>
    const deliveries = (await ok(api(s, 'GET', '/api/v1/deliveries'))).json().items as Array<{ id: string; topic: string }>
    const exports = (await ok(api(s, 'GET', '/api/v1/privacy-exports'))).json().items as Array<{ id: string }>
    const profile = (await ok(api(s, 'GET', '/api/v1/customers/42'))).json() as { key: string; first_name: string }
    if (profile.first_name !== NAME[s]) throw new Error(`seeding: store ${s}'s customer 42 is ${profile.first_name}`)
    if (messages.length !== 1 || messages[0]!.to !== EMAIL) throw new Error(`seeding: store ${s} sent ${messages.map((m) => m.to).join(', ')}`)
    return {
      keys: keys[s],
      customerKey: profile.key,
      runs: { welcome: run('welcome', 'waiting'), slow: run('slow', 'waiting'), fragile: run('fragile', 'failed') },
      connectors: connectors[s],
      delivery: deliveries.find((d) => d.topic === 'orders/create')!.id,
      privacyExport: exports[0]!.id,
      message: messages[0]!.id,
    }
  }
  const a = await ids('a')
  const b = await ids('b')

  // A's mail: the one whose subject A's template made
  const mails = await sink.waitForMessages(2)
  const mine = mails.filter((m) => m.subject === `A promo: hello from ${SHOP.a}`)
  if (mine.length !== 1 || mails.filter((m) => m.subject === `B promo: hello from ${SHOP.b}`).length !== 1)
    throw new Error(`seeding: mails ${mails.map((m) => m.subject).join(', ')}`)
  const html = String(mine[0]!.html)
  const path = (re: RegExp, what: string) => {
    const m = re.exec(html)
    if (!m) throw new Error(`seeding: no ${what} link in A's mail: ${html}`)
    return new URL(m[1]!.replaceAll('&amp;', '&')).pathname
  }
  const mailA = {
    click: path(/href="([^"]*\/t\/c\/[^"]+)"/, 'click'),
    open: path(/src="([^"]*\/t\/o\/[^"]+)"/, 'open'),
    unsubscribe: path(/href="([^"]*\/u\/[^"]+)"/, 'unsubscribe'),
  }
  await seedDiscountCodes(env, { a, b })
  await seedInvoices(env, { a, b })
  await seedPurchasing(env, { a, b })
  return { dialect, env, server, sink, a, b, mailA }
}

/** One discount code per store, for the same customer id and workflow id in both: `DISCOUNT_CODE[s]`. */
export const DISCOUNT_CODE = { a: 'TWOSTORES-A7K2M9', b: 'TWOSTORES-B7K2M9' } as const

async function seedDiscountCodes(env: TestEnv, ids: Record<StoreId, StoreIds>): Promise<void> {
  for (const s of STORES) {
    await env.app.handle.db
      .insertInto('discount_codes')
      .values({
        store_id: s,
        code: DISCOUNT_CODE[s],
        kind: 'percent',
        value: '10',
        free_shipping: 0,
        min_spend: null,
        expires_at: null,
        usage_limit: 1,
        used: 0,
        customer_key: ids[s].customerKey,
        workflow_id: 'welcome',
        run_id: ids[s].runs.welcome,
        step_key: 'gift',
        issued_value: '0.00',
        created_at: env.clock.now().toISOString(),
      })
      .execute()
  }
}

/** One invoice per store, the same number in both (numbers are per store), for the same customer id. */
async function seedInvoices(env: TestEnv, ids: Record<StoreId, StoreIds>): Promise<void> {
  for (const s of STORES) {
    await createInvoice(env.app.handle.db, {
      storeId: s,
      customerKey: ids[s].customerKey,
      email: EMAIL,
      currency: 'USD',
      lines: [{ description: `${SHOP[s]} plan`, quantity: 1, unit_price: '19.00', amount: '19.00' }],
      total: '19.00',
      issuedAt: env.clock.now().toISOString(),
      dueAt: env.clock.now().toISOString(),
      reference: `subscription:sub-${s}`,
      workflowId: 'welcome',
      runId: ids[s].runs.welcome,
      stepKey: 'invoice',
    })
  }
}

/**
 * Suppliers and purchase orders: the supplier id and the order number both stores use, each with
 * its own name and lines, and a supplier only B has.
 */
async function seedPurchasing(env: TestEnv, ids: Record<StoreId, StoreIds>): Promise<void> {
  const db = env.app.handle.db
  for (const s of STORES) {
    const supplier = {
      id: 'shared-sup',
      name: `${SHOP[s]} Supplies`,
      email: `orders@${s}-supplies.example`,
      lead_time_days: 5,
      min_order_quantity: 1,
      skus: ['SKU-SHARED'],
    }
    await upsertSupplier(db, s, supplier, env.clock.now())
    await createPurchaseOrders(
      db,
      s,
      {
        runId: ids[s].runs.welcome,
        stepKey: 'po',
        workflowId: 'welcome',
        orders: [{ supplierId: 'shared-sup', lines: [{ sku: 'SKU-SHARED', quantity: 10, unit_cost: '2.00', description: `${SHOP[s]} widget` }] }],
      },
      env.clock.now(),
    )
  }
  await upsertSupplier(
    db,
    'b',
    { id: 'b-only-sup', name: 'Supplier B keeps', email: 'b-only@supplies.example', lead_time_days: 3, min_order_quantity: 1, skus: [] },
    env.clock.now(),
  )
}

export async function teardown(w: World | undefined): Promise<void> {
  if (!w) return
  await w.server.close()
  await w.env.cleanup()
  // pooled SMTP connections would hold the sink open until they time out
  closeSmtpTransports()
  await w.sink.close()
}

/** B as B's own admin key sees it. */
export async function apiView(w: World): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const url of [
    '/api/v1/events?limit=500',
    '/api/v1/workflows',
    '/api/v1/workflows/welcome',
    '/api/v1/runs?limit=500',
    `/api/v1/runs/${w.b.runs.welcome}`,
    '/api/v1/messages',
    '/api/v1/discount-codes',
    '/api/v1/invoices',
    '/api/v1/invoices/INV-000001',
    '/api/v1/suppliers',
    '/api/v1/suppliers/shared-sup',
    '/api/v1/purchase-orders',
    '/api/v1/purchase-orders/PO-000001',
    '/api/v1/settings',
    '/api/v1/message-templates',
    '/api/v1/connectors',
    '/api/v1/integrations',
    '/api/v1/deliveries',
    '/api/v1/privacy-exports',
    '/api/v1/customers/42',
    '/api/v1/customers/42/export',
    '/api/v1/segments',
    '/api/v1/segments/b-only-seg/customers',
    '/api/v1/inventory/forecast',
    '/api/v1/inventory/forecast?sku=TEE-1',
  ]) {
    const res = await w.server.inject({ method: 'GET', url, headers: bearer(w.b.keys.admin) })
    out[url] = { status: res.statusCode, body: res.body }
  }
  return out
}

export const db = (w: World) => w.env.app.handle.db
export const dump = (w: World, s: StoreId) => dumpStore(db(w), w.dialect, s)
