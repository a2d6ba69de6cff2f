import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fixture, hmacBase64, standardWebhookSignature } from '../../src/connectors/testing.ts'
import { buildServer } from '../../src/http/server.ts'
import { createKey, createStore, type KeyScope } from '../../src/store/stores.repo.ts'
import { ACCESS_TOKEN, startBigCommerceApi, type BigCommerceApiServer } from '../helpers/bigcommerce-api.ts'
import { DIALECTS, createTestEnv, type DialectName, type TestEnv } from '../helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { dumpDiff, dumpStore, leaksIn, serverRoutes, uniqueStrings, type StoreDump } from '../helpers/two-stores.ts'

/**
 * Two stores everywhere (issue 7). Stores A and B hold the same ids: customer "42" with the same
 * email, order "1001", the same event ids, workflows, template name and connector platforms, and
 * the same webhook deliveries. For every route the server has, A's keys (each scope) and A's
 * webhook secrets, mail links and requests get 403/404 or A's own data when they name B's objects,
 * never a string only B holds, and everything A does leaves B byte-identical: every row of B read
 * straight from the database, and B's own view through the API.
 */

const SCOPES: KeyScope[] = ['ingest', 'read', 'admin']
const STORES = ['a', 'b'] as const
type StoreId = (typeof STORES)[number]

const EMAIL = 'ada@example.com'
const SHOP_DOMAIN = 'jsmith.myshopify.com'
const SECRETS = {
  a: { shopify: 'shpss_store-a-secret', woocommerce: 'woo-store-a-secret', bigcommerce: 'bc-store-a-secret' },
  b: { shopify: 'shpss_store-b-secret', woocommerce: 'woo-store-b-secret', bigcommerce: 'bc-store-b-secret' },
} as const
/** what tells A's data from B's where the ids are the same */
const NAME = { a: 'Alice', b: 'Bertha' } as const
const SHOP = { a: 'Shop A', b: 'Shop B' } as const

const workflow = (id: string, name: string, body: string) => `id: ${id}\nname: ${name}\n${body}`
const WELCOME = (s: StoreId, extra = '') => workflow('welcome', `Welcome ${s.toUpperCase()}${extra}`, `trigger: { event: order.paid }
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
`)
const SLOW = (s: StoreId) => workflow('slow', `Slow ${s.toUpperCase()}`, "trigger: { event: order.paid }\nsteps:\n  - wait: 3d\n  - action: log\n    with: { message: 'three days later' }\n")
/** fails at once: no team webhook is configured, a permanent error */
const FRAGILE = (s: StoreId) => workflow('fragile', `Fragile ${s.toUpperCase()}`, "trigger: { event: order.paid }\nsteps:\n  - action: notify_team\n    with: { text: 'order {{ order.number }}' }\n")
const RETIRED = (s: StoreId) => workflow('retired', `Retired ${s.toUpperCase()}`, "trigger: { event: product.updated }\nsteps:\n  - action: log\n    with: { message: 'product' }\n")
/** B's own workflows, three versions each: A naming them finds nothing, and A saving one makes A's own version 1 */
const B_ONLY = (id: string, v: number) => workflow(id, `B only v${v}`, `trigger: { event: raw.b.only }\nsteps:\n  - action: log\n    with: { message: 'b ${v}' }\n`)

const customer = (s: StoreId) => ({ id: '42', email: EMAIL, first_name: NAME[s], last_name: 'Quill', accepts_marketing: true })
const order = (s: StoreId, id = '1001') => ({ id, number: `#${id}`, currency: 'USD', total_price: '45.00', line_items: [{ sku: 'TEE-1', quantity: 1, price: '45.00' }], customer: customer(s) })
/** events both stores hold under the same ids */
const SHARED_EVENTS = (s: StoreId) => [
  { id: 'evt-cust', type: 'customer.created', occurred_at: '2026-03-02T08:00:00Z', data: customer(s) },
  { id: 'evt-cust-update', type: 'customer.updated', occurred_at: '2026-03-02T08:05:00Z', data: { id: '42', email: EMAIL, tags: ['regular'] } },
  { id: 'evt-cart', type: 'cart.updated', occurred_at: '2026-03-02T08:10:00Z', data: { id: 'cart-1', currency: 'USD', total_price: '45.00', customer: { id: '42' }, line_items: [{ sku: 'TEE-1', quantity: 1, price: '45.00' }] } },
  { id: 'evt-product', type: 'product.updated', occurred_at: '2026-03-02T08:20:00Z', data: { id: 'p-1', title: `Tee of ${SHOP[s]}`, variants: [{ id: 'v-1', sku: 'TEE-1', price: '45.00', inventory_quantity: 5 }] } },
  { id: 'evt-stock', type: 'inventory.updated', occurred_at: '2026-03-02T08:25:00Z', data: { sku: 'TEE-1', location_id: 'loc-1', available: 4 } },
  { id: 'evt-early-fulfil', type: 'order.fulfilled', occurred_at: '2026-03-02T08:30:00Z', data: { order_id: '2002', carrier: 'UPS' } },
  { id: 'evt-order', type: 'order.paid', occurred_at: '2026-03-02T09:00:00Z', data: order(s) },
]
/** ids only B has: A sending them must get new events of its own, not "duplicate" */
const B_ONLY_EVENT_IDS = SCOPES.map((scope) => `evt-b-only-${scope}`)

/** The documented Shopify orders/create, as customer 42's order 1001. */
function shopifyOrder(): Buffer {
  const body = JSON.parse(fixture('shopify', 'orders-create.json').toString('utf8')) as Record<string, unknown>
  body['id'] = 1001
  body['email'] = EMAIL
  body['contact_email'] = EMAIL
  body['customer'] = { ...(body['customer'] as object), id: 42, email: EMAIL }
  return Buffer.from(JSON.stringify(body))
}
const dataRequest = (requestId: number) => Buffer.from(JSON.stringify({ shop_id: 954889, shop_domain: SHOP_DOMAIN, orders_requested: [1001], customer: { id: 42, email: EMAIL, phone: null }, data_request: { id: requestId } }))
const customerRedact = () => Buffer.from(JSON.stringify({ shop_id: 954889, shop_domain: SHOP_DOMAIN, customer: { id: 42, email: EMAIL, phone: null }, orders_to_redact: [1001] }))
const shopRedact = () => Buffer.from(JSON.stringify({ shop_id: 954889, shop_domain: SHOP_DOMAIN }))

const shopifyHeaders = (topic: string, body: Buffer, secret: string, eventId: string) => ({
  'content-type': 'application/json', 'x-shopify-hmac-sha256': hmacBase64(secret, body), 'x-shopify-topic': topic,
  'x-shopify-shop-domain': SHOP_DOMAIN, 'x-shopify-event-id': eventId, 'x-shopify-webhook-id': `wh-${eventId}`,
})
const wooHeaders = (body: Buffer, secret: string, deliveryId: string) => ({
  'content-type': 'application/json', 'x-wc-webhook-signature': hmacBase64(secret, body), 'x-wc-webhook-topic': 'order.created', 'x-wc-webhook-delivery-id': deliveryId,
})
const bcHeaders = (body: Buffer, secret: string, now: Date, id: string) => {
  const ts = Math.floor(now.getTime() / 1000)
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': standardWebhookSignature(Buffer.from(secret), id, ts, body) }
}

/** What one store holds, as its own keys see it: ids for naming its objects from the other store. */
interface StoreIds {
  keys: Record<KeyScope, string>
  customerKey: string
  runs: { welcome: string; slow: string; fragile: string }
  connectors: { shopify: string; woocommerce: string; bigcommerce: string }
  delivery: string
  privacyExport: string
  message: string
}

interface World {
  dialect: DialectName
  env: TestEnv
  server: FastifyInstance
  sink: SmtpSink
  a: StoreIds
  b: StoreIds
  /** links in the mail A's customer received */
  mailA: { click: string; open: string; unsubscribe: string }
}

let bc: BigCommerceApiServer
beforeAll(async () => {
  bc = await startBigCommerceApi()
})
afterAll(async () => {
  await bc.close()
})

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

async function ok(res: Promise<LightMyRequestResponse>, status: number[] = [200, 201, 202, 204]): Promise<LightMyRequestResponse> {
  const r = await res
  if (!status.includes(r.statusCode)) throw new Error(`seeding: ${r.statusCode} ${r.body}`)
  return r
}

/** Both stores, seeded the same way through the API, webhooks and the engine; B gets a few things of its own. */
async function seed(dialect: DialectName): Promise<World> {
  const sink = await startSmtpSink()
  const env = await createTestEnv(dialect, { env: { SMTP_URL: sink.url } })
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
    server.inject({ method, url, headers: bearer(keys[s][scope]), ...(payload === undefined ? {} : typeof payload === 'string' ? { payload, headers: { ...bearer(keys[s][scope]), 'content-type': 'application/yaml' } } : { payload: payload as object }) })

  const connectors = {} as Record<StoreId, StoreIds['connectors']>
  for (const s of STORES) {
    const add = async (payload: object) => (await ok(api(s, 'POST', '/api/v1/connectors', payload))).json().id as string
    connectors[s] = {
      shopify: await add({ platform: 'shopify', secrets: [SECRETS[s].shopify], shop_domain: SHOP_DOMAIN }),
      woocommerce: await add({ platform: 'woocommerce', secrets: [SECRETS[s].woocommerce] }),
      bigcommerce: await add({ platform: 'bigcommerce', secrets: [SECRETS[s].bigcommerce], api_url: bc.apiUrl, access_token: ACCESS_TOKEN }),
    }
    await ok(api(s, 'PUT', '/api/v1/message-templates/promo', { subject: `${s.toUpperCase()} promo: hello from {{ store.name }}`, html: `<p>Hi {{ customer.first_name }}, <a href="https://shop.example/${s}/new">see what is new</a></p>` }))
    for (const wf of [WELCOME(s), SLOW(s), FRAGILE(s), RETIRED(s)]) {
      const id = (await ok(api(s, 'POST', '/api/v1/workflows', wf))).json().id as string
      await ok(api(s, 'POST', `/api/v1/workflows/${id}/activate`))
    }
  }
  for (const id of ['b-only', 'b-only-post', 'b-only-put']) for (const v of [1, 2, 3]) await ok(api('b', 'POST', '/api/v1/workflows', B_ONLY(id, v)))
  await ok(api('b', 'PUT', '/api/v1/settings', { frequency_cap: '48h', inactive_after: '120d' }))

  for (const s of STORES) {
    await ok(api(s, 'POST', '/api/v1/events', { events: SHARED_EVENTS(s) }, 'ingest'))
    const order = shopifyOrder()
    await ok(server.inject({ method: 'POST', url: `/webhooks/shopify/${s}`, headers: shopifyHeaders('orders/create', order, SECRETS[s].shopify, 'shared-order'), payload: order }))
    const request = dataRequest(9001)
    await ok(server.inject({ method: 'POST', url: `/webhooks/shopify/${s}`, headers: shopifyHeaders('customers/data_request', request, SECRETS[s].shopify, 'shared-request'), payload: request }))
    const woo = fixture('woocommerce', 'order-created.json')
    await ok(server.inject({ method: 'POST', url: `/webhooks/woocommerce/${s}`, headers: wooHeaders(woo, SECRETS[s].woocommerce, 'shared-woo'), payload: woo }))
    const big = fixture('bigcommerce', 'store-order-created.json')
    await ok(server.inject({ method: 'POST', url: `/webhooks/bigcommerce/${s}`, headers: bcHeaders(big, SECRETS[s].bigcommerce, now, 'shared-bc'), payload: big }))
  }
  await ok(api('b', 'POST', '/api/v1/events', { events: B_ONLY_EVENT_IDS.map((id) => ({ id, type: 'customer.updated', occurred_at: '2026-03-02T09:30:00Z', data: { id: '42', email: EMAIL, tags: ['b-vip'] } })) }, 'ingest'))
  await env.app.engine.drain()

  const ids = async (s: StoreId): Promise<StoreIds> => {
    // the WooCommerce and BigCommerce orders are other customers' (who gave no consent): customer 42's runs
    const runs = (await ok(api(s, 'GET', '/api/v1/runs?customer=42&limit=100'))).json().items as Array<{ id: string; workflow_id: string; status: string }>
    const run = (workflowId: string, status: string) => {
      const found = runs.filter((r) => r.workflow_id === workflowId && r.status === status)
      if (found.length !== 1) throw new Error(`seeding: store ${s} has ${found.length} ${status} runs of ${workflowId}: ${runs.map((r) => `${r.workflow_id}:${r.status}`).join(', ')}`)
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
  if (mine.length !== 1 || mails.filter((m) => m.subject === `B promo: hello from ${SHOP.b}`).length !== 1) throw new Error(`seeding: mails ${mails.map((m) => m.subject).join(', ')}`)
  const html = String(mine[0]!.html)
  const path = (re: RegExp, what: string) => {
    const m = re.exec(html)
    if (!m) throw new Error(`seeding: no ${what} link in A's mail: ${html}`)
    return new URL(m[1]!.replaceAll('&amp;', '&')).pathname
  }
  const mailA = { click: path(/href="([^"]*\/t\/c\/[^"]+)"/, 'click'), open: path(/src="([^"]*\/t\/o\/[^"]+)"/, 'open'), unsubscribe: path(/href="([^"]*\/u\/[^"]+)"/, 'unsubscribe') }
  return { dialect, env, server, sink, a, b, mailA }
}

async function teardown(w: World | undefined): Promise<void> {
  if (!w) return
  await w.server.close()
  await w.env.cleanup()
  await w.sink.close()
}

/** B as B's own admin key sees it. */
async function apiView(w: World): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const url of ['/api/v1/events?limit=500', '/api/v1/workflows', '/api/v1/workflows/welcome', '/api/v1/runs?limit=500', `/api/v1/runs/${w.b.runs.welcome}`, '/api/v1/messages', '/api/v1/settings', '/api/v1/message-templates', '/api/v1/connectors', '/api/v1/deliveries', '/api/v1/privacy-exports', '/api/v1/customers/42', '/api/v1/customers/42/export']) {
    const res = await w.server.inject({ method: 'GET', url, headers: bearer(w.b.keys.admin) })
    out[url] = { status: res.statusCode, body: res.body }
  }
  return out
}

const db = (w: World) => w.env.app.handle.db
const dump = (w: World, s: StoreId) => dumpStore(db(w), w.dialect, s)

/**
 * Runs what A does and checks the two walls: the answer holds no string only B has, and B is
 * byte-identical afterwards in the database and through its own keys. `bMayChange` names tables
 * where a documented change to B is expected (with the reason at the call site).
 */
async function asA(w: World, what: string, build: () => InjectOptions | Promise<InjectOptions>, bMayChange: string[] = []): Promise<LightMyRequestResponse> {
  const beforeB = await dump(w, 'b')
  const viewB = await apiView(w)
  const request = await build()
  const res = await w.server.inject(request)
  await w.env.app.engine.drain()
  const unique = uniqueStrings(beforeB, await dump(w, 'a'))
  const payload = request.payload
  const asked = `${String(request.url)}\n${typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : JSON.stringify(payload ?? null)}`
  // (counts with the evidence in the message: a deep diff of whole dumps takes vitest half a minute)
  const leaks = leaksIn(`${JSON.stringify(res.headers)}\n${res.body}`, unique, asked)
  expect(leaks.length, `${what}: the answer holds B's data: ${leaks.join(', ')}\n${res.body.slice(0, 2000)}`).toBe(0)
  const diff = dumpDiff(beforeB, await dump(w, 'b')).filter((line) => !bMayChange.includes(line.slice(0, line.indexOf(' '))))
  expect(diff.length, `${what}: B's rows changed (${diff.length} rows gone or added):\n${diff.slice(0, 12).join('\n')}`).toBe(0)
  if (bMayChange.length === 0) {
    const after = await apiView(w)
    const changed = Object.keys(viewB).filter((url) => JSON.stringify(after[url]) !== JSON.stringify(viewB[url]))
    expect(changed, `${what}: B's API view changed`).toEqual([])
  }
  return res
}

const items = (res: LightMyRequestResponse) => (res.json() as { items: Array<Record<string, unknown>> }).items

/** A request by one of A's keys (or none) and what A must see. */
interface Case {
  name: string
  request: (w: World) => InjectOptions | Promise<InjectOptions>
  expect: (res: LightMyRequestResponse, w: World, scope: KeyScope | null) => void | Promise<void>
  /** tables of B a documented side effect may change, with the reason in a comment */
  bMayChange?: string[]
}

interface RouteCases {
  /** scope the route needs; null for routes without an API key (webhooks, mail links, health) */
  scope: KeyScope | null
  cases: Case[]
}

const notFound = (res: LightMyRequestResponse) => {
  expect(res.statusCode, res.body).toBe(404)
  expect(res.json().error.code).toBe('not_found')
}
const status = (code: number) => (res: LightMyRequestResponse) => expect(res.statusCode, res.body).toBe(code)
const yaml = (payload: string) => ({ payload, headers: { 'content-type': 'application/yaml' } })
const aRead = async (w: World, url: string) => w.server.inject({ method: 'GET', url, headers: bearer(w.a.keys.admin) })

/**
 * The matrix: every route the server has (checked below against the server itself), each with the
 * requests A makes naming B's objects or the ids both stores use. Key routes run with each of A's
 * three keys; a key without the route's scope must get 403 and change nothing.
 */
const MATRIX: Record<string, RouteCases> = {
  'GET /': { scope: null, cases: [{ name: 'dashboard page', request: () => ({ method: 'GET', url: '/' }), expect: status(200) }] },
  'GET /healthz': { scope: null, cases: [{ name: 'liveness', request: () => ({ method: 'GET', url: '/healthz' }), expect: status(200) }] },
  'GET /readyz': { scope: null, cases: [{ name: 'readiness', request: () => ({ method: 'GET', url: '/readyz' }), expect: status(200) }] },
  // instance-wide counters (runs by status, events stored): no store's ids or content
  'GET /metrics': { scope: null, cases: [{ name: 'metrics', request: () => ({ method: 'GET', url: '/metrics' }), expect: status(200) }] },
  'GET /api/openapi.json': { scope: null, cases: [{ name: 'OpenAPI', request: () => ({ method: 'GET', url: '/api/openapi.json' }), expect: status(200) }] },

  'POST /api/v1/events': {
    scope: 'ingest',
    cases: [
      {
        name: 'an event id only B has is a new event of A, not a duplicate',
        request: (w) => ({ method: 'POST', url: '/api/v1/events', payload: { id: 'evt-b-only-SCOPE', type: 'customer.updated', occurred_at: '2026-03-02T09:40:00Z', data: { id: '42', email: EMAIL, tags: ['a-tag'] } } }),
        expect: async (res, w, scope) => {
          expect(res.statusCode, res.body).toBe(202)
          expect(res.json()).toEqual({ id: `evt-b-only-${scope}`, duplicate: false })
          expect(items(await aRead(w, `/api/v1/events?type=customer.updated`)).map((e) => e['id'])).toContain(`evt-b-only-${scope}`)
        },
      },
      {
        name: 'an id both stores have is A\'s own duplicate',
        request: () => ({ method: 'POST', url: '/api/v1/events', payload: SHARED_EVENTS('a')[0]! }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toEqual({ id: 'evt-cust', duplicate: true })
        },
      },
      {
        name: 'a new order of A\'s customer 42 starts A\'s workflows only',
        request: () => ({ method: 'POST', url: '/api/v1/events', payload: { id: 'evt-order-SCOPE', type: 'order.paid', occurred_at: '2026-03-02T09:50:00Z', data: order('a', '1002-SCOPE') } }),
        expect: async (res, w, scope) => {
          expect(res.statusCode, res.body).toBe(202)
          // welcome and slow still have a run in progress for A's customer 42 (runs are not concurrent per customer)
          const runs = items(await aRead(w, '/api/v1/runs?limit=500')).filter((r) => r['trigger_event_id'] === `evt-order-${scope}`)
          expect(runs.map((r) => r['workflow_id'])).toEqual(['fragile'])
        },
      },
      {
        name: 'an event naming store b is refused, naming the field',
        request: () => ({ method: 'POST', url: '/api/v1/events', payload: { ...SHARED_EVENTS('a')[0]!, id: 'evt-for-b', store: 'b' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.message).toMatch(/^store: /)
        },
      },
      {
        name: 'a batch naming store b is refused whole',
        request: () => ({ method: 'POST', url: '/api/v1/events', payload: { events: [{ ...SHARED_EVENTS('a')[0]!, id: 'evt-batch-a' }, { ...SHARED_EVENTS('a')[0]!, id: 'evt-batch-b', store: 'b' }] } }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.message).toMatch(/^events\[1\]\.store: /)
          expect(items(await aRead(w, '/api/v1/events?limit=500')).map((e) => e['id'])).not.toContain('evt-batch-a')
        },
      },
    ],
  },
  'GET /api/v1/events': {
    scope: 'read',
    cases: [
      { name: 'list', request: () => ({ method: 'GET', url: '/api/v1/events?limit=500' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(items(res).every((e) => e['store'] === 'a')).toBe(true); expect(items(res).map((e) => e['id'])).toContain('evt-order') } },
      { name: "by B's customer key", request: (w) => ({ method: 'GET', url: `/api/v1/events?customer=${w.b.customerKey}` }), expect: (res) => { expect(res.statusCode).toBe(200); expect(items(res)).toEqual([]) } },
      { name: 'by the shared customer id', request: () => ({ method: 'GET', url: '/api/v1/events?customer=42' }), expect: (res) => { expect(items(res).length).toBeGreaterThan(0); expect(items(res).every((e) => e['store'] === 'a')).toBe(true) } },
      { name: 'by the shared email', request: () => ({ method: 'GET', url: `/api/v1/events?customer=${EMAIL}&type=customer.created` }), expect: (res) => { expect(items(res).map((e) => (e['data'] as { first_name: string }).first_name)).toEqual([NAME.a]) } },
    ],
  },

  'GET /api/v1/workflows': {
    scope: 'read',
    cases: [{ name: 'list', request: () => ({ method: 'GET', url: '/api/v1/workflows' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(items(res).map((x) => x['id'])).not.toContain('b-only'); expect(items(res).map((x) => x['name'])).toContain('Welcome A') } }],
  },
  'POST /api/v1/workflows': {
    scope: 'admin',
    cases: [
      { name: 'a new version of the shared id is A\'s', request: () => ({ method: 'POST', url: '/api/v1/workflows', ...yaml(WELCOME('a', ' (posted)')) }), expect: (res) => { expect([200, 201], res.body).toContain(res.statusCode); expect(res.json()).toMatchObject({ id: 'welcome', name: 'Welcome A (posted)', version: 2 }) } },
      { name: 'an id only B has becomes A\'s own version 1', request: () => ({ method: 'POST', url: '/api/v1/workflows', ...yaml(B_ONLY('b-only-post', 9)) }), expect: (res) => { expect(res.statusCode, res.body).toBe(201); expect(res.json()).toMatchObject({ id: 'b-only-post', version: 1, active: false }) } },
    ],
  },
  'GET /api/v1/workflows/:id': {
    scope: 'read',
    cases: [
      { name: 'shared id', request: () => ({ method: 'GET', url: '/api/v1/workflows/welcome' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json().name).toMatch(/^Welcome A/) } },
      { name: "B's id", request: () => ({ method: 'GET', url: '/api/v1/workflows/b-only' }), expect: notFound },
      { name: "B's version of a shared id", request: () => ({ method: 'GET', url: '/api/v1/workflows/retired?version=1' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json().name).toBe('Retired A') } },
    ],
  },
  'PUT /api/v1/workflows/:id': {
    scope: 'admin',
    cases: [
      { name: 'shared id', request: () => ({ method: 'PUT', url: '/api/v1/workflows/welcome', ...yaml(WELCOME('a', ' (put)')) }), expect: (res) => { expect(res.statusCode, res.body).toBe(200); expect(res.json()).toMatchObject({ name: 'Welcome A (put)', version: 3 }) } },
      { name: 'an id only B has becomes A\'s own version 1', request: () => ({ method: 'PUT', url: '/api/v1/workflows/b-only-put', ...yaml(B_ONLY('b-only-put', 9)) }), expect: (res) => { expect(res.statusCode, res.body).toBe(200); expect(res.json()).toMatchObject({ id: 'b-only-put', version: 1 }) } },
    ],
  },
  'GET /api/v1/workflows/:id/export': {
    scope: 'read',
    cases: [
      { name: 'shared id', request: () => ({ method: 'GET', url: '/api/v1/workflows/welcome/export' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.body).toContain('name: Welcome A') } },
      { name: "B's id", request: () => ({ method: 'GET', url: '/api/v1/workflows/b-only/export?format=json' }), expect: notFound },
    ],
  },
  'POST /api/v1/workflows/:id/deactivate': {
    scope: 'admin',
    cases: [
      { name: "B's id", request: () => ({ method: 'POST', url: '/api/v1/workflows/b-only/deactivate' }), expect: notFound },
      { name: 'shared id', request: () => ({ method: 'POST', url: '/api/v1/workflows/retired/deactivate' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json()).toMatchObject({ name: 'Retired A', active: false }) } },
    ],
  },
  'POST /api/v1/workflows/:id/activate': {
    scope: 'admin',
    cases: [
      { name: "B's id", request: () => ({ method: 'POST', url: '/api/v1/workflows/b-only/activate' }), expect: notFound },
      { name: 'shared id', request: () => ({ method: 'POST', url: '/api/v1/workflows/retired/activate' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json()).toMatchObject({ name: 'Retired A', active: true }) } },
    ],
  },
  'DELETE /api/v1/workflows/:id': {
    scope: 'admin',
    cases: [
      { name: "B's id", request: () => ({ method: 'DELETE', url: '/api/v1/workflows/b-only' }), expect: notFound },
      { name: 'shared id', request: () => ({ method: 'DELETE', url: '/api/v1/workflows/retired' }), expect: async (res, w) => { expect(res.statusCode).toBe(204); expect((await aRead(w, '/api/v1/workflows/retired')).statusCode).toBe(404) } },
    ],
  },

  'GET /api/v1/runs': {
    scope: 'read',
    cases: [
      { name: 'list', request: () => ({ method: 'GET', url: '/api/v1/runs?limit=500' }), expect: (res, w) => { expect(res.statusCode).toBe(200); expect(items(res).map((r) => r['id'])).toContain(w.a.runs.welcome) } },
      { name: "by B's customer key", request: (w) => ({ method: 'GET', url: `/api/v1/runs?customer=${w.b.customerKey}` }), expect: (res) => expect(items(res)).toEqual([]) },
      { name: 'by the shared customer id', request: () => ({ method: 'GET', url: '/api/v1/runs?customer=42&workflow=welcome' }), expect: (res, w) => expect(items(res).map((r) => r['id'])).toContain(w.a.runs.welcome) },
    ],
  },
  'GET /api/v1/runs/:id': {
    scope: 'read',
    cases: [
      { name: "B's run", request: (w) => ({ method: 'GET', url: `/api/v1/runs/${w.b.runs.welcome}` }), expect: notFound },
      { name: "A's run", request: (w) => ({ method: 'GET', url: `/api/v1/runs/${w.a.runs.welcome}` }), expect: (res, w) => { expect(res.statusCode).toBe(200); expect(res.json().id).toBe(w.a.runs.welcome) } },
    ],
  },
  'POST /api/v1/runs/:id/cancel': {
    scope: 'admin',
    cases: [
      { name: "B's waiting run", request: (w) => ({ method: 'POST', url: `/api/v1/runs/${w.b.runs.slow}/cancel` }), expect: notFound },
      { name: "A's waiting run", request: (w) => ({ method: 'POST', url: `/api/v1/runs/${w.a.runs.slow}/cancel` }), expect: (res) => { expect(res.statusCode, res.body).toBe(200); expect(res.json().status).toBe('cancelled') } },
    ],
  },
  'POST /api/v1/runs/:id/retry': {
    scope: 'admin',
    cases: [
      { name: "B's failed run", request: (w) => ({ method: 'POST', url: `/api/v1/runs/${w.b.runs.fragile}/retry` }), expect: notFound },
      { name: "A's failed run", request: (w) => ({ method: 'POST', url: `/api/v1/runs/${w.a.runs.fragile}/retry` }), expect: async (res, w) => { expect(res.statusCode, res.body).toBe(200); expect(res.json().status).toBe('running'); expect((await aRead(w, `/api/v1/runs/${w.a.runs.fragile}`)).json().status).toBe('failed') } },
    ],
  },

  'GET /api/v1/customers/:id': {
    scope: 'read',
    cases: [
      { name: 'shared id', request: () => ({ method: 'GET', url: '/api/v1/customers/42' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json()).toMatchObject({ id: '42', first_name: NAME.a }) } },
      { name: 'shared email', request: () => ({ method: 'GET', url: `/api/v1/customers/${EMAIL}` }), expect: (res) => expect(res.json()).toMatchObject({ first_name: NAME.a }) },
      { name: "B's customer key", request: (w) => ({ method: 'GET', url: `/api/v1/customers/${w.b.customerKey}` }), expect: notFound },
    ],
  },
  'GET /api/v1/customers/:id/export': {
    scope: 'admin',
    cases: [
      { name: 'shared id', request: () => ({ method: 'GET', url: '/api/v1/customers/42/export' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json()).toMatchObject({ store: 'a', customer: { first_name: NAME.a } }) } },
      { name: "B's customer key", request: (w) => ({ method: 'GET', url: `/api/v1/customers/${w.b.customerKey}/export` }), expect: notFound },
    ],
  },
  // A erasing its own customer 42 has its own test below (defect 1); here: B's customer is out of reach
  'POST /api/v1/customers/:id/erase': {
    scope: 'admin',
    cases: [{ name: "B's customer key", request: (w) => ({ method: 'POST', url: `/api/v1/customers/${w.b.customerKey}/erase` }), expect: notFound }],
  },

  'GET /api/v1/messages': {
    scope: 'read',
    cases: [
      { name: 'list', request: () => ({ method: 'GET', url: '/api/v1/messages' }), expect: (res, w) => { expect(res.statusCode).toBe(200); expect(items(res).map((m) => m['id'])).toContain(w.a.message) } },
      { name: "by B's customer key", request: (w) => ({ method: 'GET', url: `/api/v1/messages?customer=${w.b.customerKey}` }), expect: (res) => expect(items(res)).toEqual([]) },
    ],
  },
  'GET /api/v1/settings': {
    scope: 'read',
    cases: [{ name: "A's settings", request: () => ({ method: 'GET', url: '/api/v1/settings' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json()).toMatchObject({ frequency_cap: '16h', inactive_after: '90d' }) } }],
  },
  'PUT /api/v1/settings': {
    scope: 'admin',
    cases: [{ name: 'change A\'s', request: () => ({ method: 'PUT', url: '/api/v1/settings', payload: { frequency_cap: '24h', quiet_hours: null } }), expect: async (res, w) => { expect(res.statusCode, res.body).toBe(200); expect((await aRead(w, '/api/v1/settings')).json()).toMatchObject({ frequency_cap: '24h', quiet_hours: null }) } }],
  },
  'GET /api/v1/message-templates': {
    scope: 'read',
    cases: [{ name: 'list', request: () => ({ method: 'GET', url: '/api/v1/message-templates' }), expect: (res) => { expect(res.statusCode).toBe(200); expect(items(res).map((t) => `${String(t['name'])}: ${String(t['subject']).slice(0, 8)}`)).toEqual(['promo: A promo:']) } }],
  },
  'PUT /api/v1/message-templates/:name': {
    scope: 'admin',
    cases: [{ name: 'shared name', request: () => ({ method: 'PUT', url: '/api/v1/message-templates/promo', payload: { subject: 'A promo: changed', html: '<p>changed</p>' } }), expect: async (res, w) => { expect(res.statusCode, res.body).toBe(200); expect(items(await aRead(w, '/api/v1/message-templates'))[0]).toMatchObject({ subject: 'A promo: changed' }) } }],
  },

  'GET /api/v1/connectors': {
    scope: 'admin',
    cases: [{ name: 'list', request: () => ({ method: 'GET', url: '/api/v1/connectors' }), expect: (res, w) => { expect(res.statusCode).toBe(200); expect(items(res).map((c) => c['id'])).toEqual(expect.arrayContaining(Object.values(w.a.connectors))); expect(items(res).every((c) => c['store'] === 'a')).toBe(true) } }],
  },
  'POST /api/v1/connectors': {
    scope: 'admin',
    cases: [{ name: 'another connector of the same platform', request: () => ({ method: 'POST', url: '/api/v1/connectors', payload: { platform: 'shopify', secrets: ['shpss_store-a-second'], shop_domain: SHOP_DOMAIN } }), expect: (res) => { expect(res.statusCode, res.body).toBe(201); expect(res.json()).toMatchObject({ store: 'a', platform: 'shopify' }) } }],
  },
  'GET /api/v1/connectors/:id': {
    scope: 'admin',
    cases: [
      { name: "B's connector", request: (w) => ({ method: 'GET', url: `/api/v1/connectors/${w.b.connectors.shopify}` }), expect: notFound },
      { name: "A's connector", request: (w) => ({ method: 'GET', url: `/api/v1/connectors/${w.a.connectors.shopify}` }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json().store).toBe('a') } },
    ],
  },
  'PATCH /api/v1/connectors/:id': {
    scope: 'admin',
    cases: [
      { name: "B's connector", request: (w) => ({ method: 'PATCH', url: `/api/v1/connectors/${w.b.connectors.shopify}`, payload: { secrets: ['taken-over'] } }), expect: notFound },
      { name: "rotating A's secret", request: (w) => ({ method: 'PATCH', url: `/api/v1/connectors/${w.a.connectors.shopify}`, payload: { secrets: [SECRETS.a.shopify, 'shpss_store-a-next'] } }), expect: (res) => { expect(res.statusCode, res.body).toBe(200); expect(res.json().secret_count).toBe(2) } },
    ],
  },
  'DELETE /api/v1/connectors/:id': {
    scope: 'admin',
    cases: [
      { name: "B's connector", request: (w) => ({ method: 'DELETE', url: `/api/v1/connectors/${w.b.connectors.woocommerce}` }), expect: notFound },
      {
        name: "a connector A has just added",
        request: async (w) => {
          const added = await w.server.inject({ method: 'POST', url: '/api/v1/connectors', headers: bearer(w.a.keys.admin), payload: { platform: 'woocommerce', secrets: ['woo-a-spare'] } })
          return { method: 'DELETE', url: `/api/v1/connectors/${String(added.json().id)}` }
        },
        expect: status(204),
      },
    ],
  },
  'GET /api/v1/connectors/:id/health': {
    scope: 'admin',
    cases: [
      { name: "B's connector", request: (w) => ({ method: 'GET', url: `/api/v1/connectors/${w.b.connectors.shopify}/health` }), expect: notFound },
      { name: "A's connector", request: (w) => ({ method: 'GET', url: `/api/v1/connectors/${w.a.connectors.shopify}/health` }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json().deliveries_24h).toBeGreaterThan(0) } },
    ],
  },
  'GET /api/v1/deliveries': {
    scope: 'admin',
    cases: [
      { name: 'list', request: () => ({ method: 'GET', url: '/api/v1/deliveries' }), expect: (res, w) => { expect(res.statusCode).toBe(200); expect(items(res).map((d) => d['id'])).toContain(w.a.delivery) } },
      { name: "by B's connector", request: (w) => ({ method: 'GET', url: `/api/v1/deliveries?connector=${w.b.connectors.shopify}` }), expect: (res) => expect(items(res)).toEqual([]) },
    ],
  },
  'GET /api/v1/deliveries/:id': {
    scope: 'admin',
    cases: [
      { name: "B's delivery", request: (w) => ({ method: 'GET', url: `/api/v1/deliveries/${w.b.delivery}` }), expect: notFound },
      { name: "A's delivery", request: (w) => ({ method: 'GET', url: `/api/v1/deliveries/${w.a.delivery}` }), expect: status(200) },
    ],
  },
  'POST /api/v1/deliveries/:id/replay': {
    scope: 'admin',
    cases: [
      { name: "B's delivery", request: (w) => ({ method: 'POST', url: `/api/v1/deliveries/${w.b.delivery}/replay` }), expect: notFound },
      { name: "A's delivery, whose events B holds under the same ids", request: (w) => ({ method: 'POST', url: `/api/v1/deliveries/${w.a.delivery}/replay` }), expect: (res) => { expect(res.statusCode, res.body).toBe(200); expect(res.json()).toMatchObject({ status: 'duplicate', duplicate: true }) } },
    ],
  },
  'GET /api/v1/privacy-exports': {
    scope: 'admin',
    cases: [{ name: 'list', request: () => ({ method: 'GET', url: '/api/v1/privacy-exports' }), expect: (res, w) => { expect(res.statusCode).toBe(200); expect(items(res).map((e) => e['id'])).toContain(w.a.privacyExport) } }],
  },
  'GET /api/v1/privacy-exports/:id': {
    scope: 'admin',
    cases: [
      { name: "B's export", request: (w) => ({ method: 'GET', url: `/api/v1/privacy-exports/${w.b.privacyExport}` }), expect: notFound },
      { name: "A's export", request: (w) => ({ method: 'GET', url: `/api/v1/privacy-exports/${w.a.privacyExport}` }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.json().data).toMatchObject({ store: 'a', customer: { first_name: NAME.a } }) } },
    ],
  },

  // webhooks: A's "key" is A's webhook secret
  'POST /webhooks/shopify/:store': {
    scope: null,
    cases: [
      { name: 'A\'s signed order to A', request: () => { const body = shopifyOrder(); return { method: 'POST', url: '/webhooks/shopify/a', headers: shopifyHeaders('orders/create', body, SECRETS.a.shopify, 'a-again'), payload: body } }, expect: (res) => { expect(res.statusCode, res.body).toBe(200); expect(res.json()).toMatchObject({ ok: true, events: 1 }) } },
      // refused; B's connector health counts the refused attempt on B's own URL, nothing else of B changes
      { name: 'A\'s signed order to B', request: () => { const body = shopifyOrder(); return { method: 'POST', url: '/webhooks/shopify/b', headers: shopifyHeaders('orders/create', body, SECRETS.a.shopify, 'a-to-b'), payload: body } }, expect: status(401), bMayChange: ['connector_signature_failures'] },
      { name: 'customers/data_request for A', request: () => { const body = dataRequest(9002); return { method: 'POST', url: '/webhooks/shopify/a', headers: shopifyHeaders('customers/data_request', body, SECRETS.a.shopify, 'a-request'), payload: body } }, expect: async (res, w) => { expect(res.statusCode, res.body).toBe(200); expect(items(await aRead(w, '/api/v1/privacy-exports'))).toHaveLength(2) } },
    ],
  },
  'POST /webhooks/woocommerce/:store': {
    scope: null,
    cases: [
      { name: 'A\'s signed order to A', request: () => { const body = fixture('woocommerce', 'order-updated.json'); return { method: 'POST', url: '/webhooks/woocommerce/a', headers: { ...wooHeaders(body, SECRETS.a.woocommerce, 'a-woo'), 'x-wc-webhook-topic': 'order.updated' }, payload: body } }, expect: (res) => { expect(res.statusCode, res.body).toBe(200); expect(res.json().ok).toBe(true) } },
      { name: 'A\'s signed order to B', request: () => { const body = fixture('woocommerce', 'order-created.json'); return { method: 'POST', url: '/webhooks/woocommerce/b', headers: wooHeaders(body, SECRETS.a.woocommerce, 'a-woo-to-b'), payload: body } }, expect: status(401), bMayChange: ['connector_signature_failures'] },
    ],
  },
  'POST /webhooks/bigcommerce/:store': {
    scope: null,
    cases: [
      { name: 'A\'s signed order to A', request: (w) => { const body = fixture('bigcommerce', 'store-order-updated.json'); return { method: 'POST', url: '/webhooks/bigcommerce/a', headers: bcHeaders(body, SECRETS.a.bigcommerce, w.env.clock.now(), 'a-bc'), payload: body } }, expect: (res) => { expect(res.statusCode, res.body).toBe(200); expect(res.json().ok).toBe(true) } },
      { name: 'A\'s signed order to B', request: (w) => { const body = fixture('bigcommerce', 'store-order-created.json'); return { method: 'POST', url: '/webhooks/bigcommerce/b', headers: bcHeaders(body, SECRETS.a.bigcommerce, w.env.clock.now(), 'a-bc-to-b'), payload: body } }, expect: status(401), bMayChange: ['connector_signature_failures'] },
    ],
  },

  // links in A's mail: the signed token is the credential
  'GET /t/o/:token': {
    scope: null,
    cases: [
      { name: 'a forged token', request: (w) => ({ method: 'GET', url: `${w.mailA.open.slice(0, -2)}xx` }), expect: status(200) },
      { name: "A's open pixel: A's run resumes", request: (w) => ({ method: 'GET', url: w.mailA.open }), expect: async (res, w) => { expect(res.statusCode).toBe(200); expect(items(await aRead(w, '/api/v1/messages')).find((m) => m['id'] === w.a.message)).toMatchObject({ opens: 1 }); expect((await aRead(w, `/api/v1/runs/${w.a.runs.welcome}`)).json().status).toBe('completed') } },
    ],
  },
  'GET /t/c/:token': {
    scope: null,
    cases: [
      { name: 'a forged token', request: (w) => ({ method: 'GET', url: `${w.mailA.click.slice(0, -2)}xx` }), expect: status(404) },
      { name: "A's link", request: (w) => ({ method: 'GET', url: w.mailA.click }), expect: async (res, w) => { expect(res.statusCode).toBe(302); expect(res.headers.location).toBe('https://shop.example/a/new'); expect(items(await aRead(w, '/api/v1/messages')).find((m) => m['id'] === w.a.message)).toMatchObject({ clicks: 1 }) } },
    ],
  },
  'GET /u/:token': {
    scope: null,
    cases: [{ name: "A's unsubscribe page", request: (w) => ({ method: 'GET', url: w.mailA.unsubscribe }), expect: (res) => { expect(res.statusCode).toBe(200); expect(res.body).toContain('<form method="post"') } }],
  },
  'POST /u/:token': {
    scope: null,
    cases: [
      { name: 'a forged token', request: (w) => ({ method: 'POST', url: `${w.mailA.unsubscribe.slice(0, -2)}xx` }), expect: status(404) },
      { name: "A's customer unsubscribes; B's with the same email does not", request: (w) => ({ method: 'POST', url: w.mailA.unsubscribe, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), expect: async (res, w) => { expect(res.statusCode).toBe(200); expect((await aRead(w, '/api/v1/customers/42')).json()).toMatchObject({ accepts_marketing: false }) } },
    ],
  },
}

/** An admin key may do what read and ingest keys may. */
const allows = (have: KeyScope, need: KeyScope) => have === 'admin' || have === need

describe.each(DIALECTS)('two stores on %s', (dialect) => {
  describe('every route, A against B', () => {
    let w: World
    beforeAll(async () => {
      w = await seed(dialect)
    }, 120_000)
    afterAll(async () => {
      await teardown(w)
    })

    it('the matrix covers every route the server has, and the OpenAPI document lists the same routes', async () => {
      const routes = serverRoutes(w.server)
      expect(routes.length).toBeGreaterThan(30)
      expect(routes, 'a route without a two-store test: add it to MATRIX in test/e2e/two-stores.test.ts').toEqual(Object.keys(MATRIX).sort())
      const doc = (await w.server.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> }
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      expect([...documented, 'GET /', 'GET /api/openapi.json'].sort()).toEqual(routes)
    })

    it('the seeded stores share their ids and differ in their data (so the walls below are tested)', async () => {
      const a = await dump(w, 'a')
      const b = await dump(w, 'b')
      for (const table of ['events', 'customers', 'orders', 'carts', 'products', 'variants', 'inventory_levels', 'pending_fulfilments', 'workflows', 'workflow_versions', 'runs', 'run_steps', 'correlations', 'messages', 'templates', 'connectors', 'webhook_deliveries', 'privacy_exports', 'api_keys', 'stores']) {
        expect(a[table]?.length, `A's ${table}`).toBeGreaterThan(0)
        expect(b[table]?.length, `B's ${table}`).toBeGreaterThan(0)
      }
      const ids = (d: StoreDump, table: string) => d[table]!.map((r) => (JSON.parse(r) as { id: string }).id).sort()
      expect(ids(a, 'events').filter((id) => ids(b, 'events').includes(id))).toEqual(expect.arrayContaining(['evt-cust', 'evt-order', 'evt-cart']))
      expect(uniqueStrings(b, a)).toEqual(expect.arrayContaining([NAME.b, SHOP.b, w.b.runs.welcome, w.b.customerKey, w.b.delivery, w.b.connectors.shopify, w.b.message]))
    })

    for (const [route, entry] of Object.entries(MATRIX)) {
      it(route, async () => {
        const runs: Array<{ scope: KeyScope | null; kase: Case }> = []
        for (const scope of entry.scope ? SCOPES : [null]) for (const kase of entry.cases) runs.push({ scope, kase })
        for (const { scope, kase } of runs) {
          const label = `${route} — ${kase.name}${scope ? ` (A's ${scope} key)` : ''}`
          const res = await asA(w, label, async () => {
            const req = await kase.request(w)
            const withKey: InjectOptions = scope ? { ...req, headers: { ...(req.headers ?? {}), ...bearer(w.a.keys[scope]) } } : req
            // ids that differ per key, so each key's write is its own
            const url = String(withKey.url).replaceAll('SCOPE', scope ?? '')
            const payload = typeof withKey.payload === 'object' && withKey.payload !== null && !Buffer.isBuffer(withKey.payload)
              ? (JSON.parse(JSON.stringify(withKey.payload).replaceAll('SCOPE', scope ?? '')) as object)
              : withKey.payload
            return { ...withKey, url, ...(payload === undefined ? {} : { payload }) }
          }, kase.bMayChange)
          if (scope && entry.scope && !allows(scope, entry.scope)) {
            expect(res.statusCode, label).toBe(403)
            continue
          }
          await kase.expect(res, w, scope)
        }
      })
    }

    it("A's refused deliveries to B's URLs are counted on B's connectors, and nothing else of them is kept", async () => {
      const failures = await db(w).selectFrom('connector_signature_failures').select(['connector_id', 'count']).execute()
      expect(failures.map((f) => f.connector_id).sort()).toEqual(Object.values(w.b.connectors).sort())
      const deliveriesB = await db(w).selectFrom('webhook_deliveries').select('id').where('store_id', '=', 'b').execute()
      expect(deliveriesB).toHaveLength(4)
    })
  })

  /**
   * Erasure for A, each on freshly seeded stores. These fail while erasure crosses stores (issue 7,
   * defect 1: the sweep rewrites every text column of every table, B's included).
   */
  describe("A's erasure leaves B byte-identical", () => {
    let w: World | undefined
    beforeEach(async () => {
      w = await seed(dialect)
    }, 120_000)
    afterEach(async () => {
      await teardown(w)
      w = undefined
    })

    it("POST /api/v1/customers/42/erase with A's admin key", async () => {
      const res = await asA(w!, 'erase', () => ({ method: 'POST', url: '/api/v1/customers/42/erase', headers: bearer(w!.a.keys.admin) }))
      expect(res.statusCode, res.body).toBe(200)
      expect((await aRead(w!, '/api/v1/customers/42')).json()).toMatchObject({ email: null, first_name: null })
    })

    it("Shopify customers/redact for A's customer 42", async () => {
      const body = customerRedact()
      const res = await asA(w!, 'customers/redact', () => ({ method: 'POST', url: '/webhooks/shopify/a', headers: shopifyHeaders('customers/redact', body, SECRETS.a.shopify, 'a-redact'), payload: body }))
      expect(res.statusCode, res.body).toBe(200)
      expect((await aRead(w!, '/api/v1/customers/42')).json()).toMatchObject({ email: null, first_name: null })
    })

    it('Shopify shop/redact for A', async () => {
      const body = shopRedact()
      const res = await asA(w!, 'shop/redact', () => ({ method: 'POST', url: '/webhooks/shopify/a', headers: shopifyHeaders('shop/redact', body, SECRETS.a.shopify, 'a-shop-redact'), payload: body }))
      expect(res.statusCode, res.body).toBe(200)
      expect((await aRead(w!, '/api/v1/customers/42')).json()).toMatchObject({ email: null, first_name: null })
    })
  })
})
