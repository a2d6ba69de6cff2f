import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { rowCounts } from '../../test/helpers/row-counts.ts'
import { fixture, hmacBase64 } from '../connectors/testing.ts'
import { createKey } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

/**
 * Issue 7, "what must be shown": any JSON at any field of a valid event or of a correctly signed
 * Shopify / WooCommerce webhook is answered 2xx or 4xx, never 5xx; a 4xx stores nothing of the
 * request, a webhook kept as failed stores only its delivery record, and the server keeps answering.
 * The real app on SQLite, through `server.inject`; every table is counted before and after.
 */

// ---------------------------------------------------------------------------------------------
// Arbitrary JSON, produced as text: keys such as `__proto__` stay keys (an object literal would
// turn them into a prototype), and numbers keep the spelling a sender used (1e21, -0, 1e400).

const awkwardKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  ' ',
  'id',
  'type',
  'data',
  'store',
  'total_price',
  'price',
  'email',
  'customer',
  'line_items',
  'currency',
  '\u0000',
  'é',
  '𝔘',
]
const keyArb = fc.oneof(fc.constantFrom(...awkwardKeys), fc.string({ unit: 'grapheme', maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 6 }))

const numberText = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '1e21',
      '1e-7',
      '-0',
      '0',
      '1e308',
      '1e400',
      '-1e400',
      '5e-324',
      '9007199254740993',
      '123456789012345678901234567890',
      '0.1',
      '1E+2',
      '-1.5e-10',
      '450.00',
      '0.30000000000000004',
    ),
    weight: 3,
  },
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => JSON.stringify(v)),
  fc.integer().map(String),
  fc.bigInt().map(String),
)
const stringText = fc
  .oneof(
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('', ' ', '1e21', '1e-7', 'NaN', 'Infinity', '2026-03-02T09:00:00Z', '2026-02-30', '\u0000', '\ud800', '<script>', 'a@b', '{{ x }}'),
    fc.integer({ min: 250_000, max: 300_000 }).map((n) => 'x'.repeat(n)),
  )
  .map((s) => JSON.stringify(s))
const leafText = fc.oneof(fc.constant('null'), fc.constant('true'), fc.constant('false'), numberText, stringText)
/** nesting far past any sane payload, of objects or of lists */
const deepText = fc
  .tuple(fc.integer({ min: 20, max: 8000 }), fc.boolean())
  .map(([levels, lists]) => (lists ? `${'['.repeat(levels)}0${']'.repeat(levels)}` : `${'{"a":'.repeat(levels)}0${'}'.repeat(levels)}`))
/** lists and objects wider than any sane payload */
const wideText = fc.oneof(
  fc.integer({ min: 9_000, max: 12_000 }).map((n) => `[${Array.from({ length: n }, () => '0').join(',')}]`),
  fc.integer({ min: 900, max: 1_200 }).map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  fc.integer({ min: 200, max: 400 }).map((n) => `{${JSON.stringify('k'.repeat(n))}:1}`),
)

const { json } = fc.letrec<{ json: string; list: string; object: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: leafText, weight: 6 },
    { arbitrary: tie('list'), weight: 2 },
    { arbitrary: tie('object'), weight: 3 },
    { arbitrary: deepText, weight: 2 },
    { arbitrary: wideText, weight: 1 },
  ),
  list: fc.array(tie('json'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(keyArb, tie('json')), { maxLength: 4 }).map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
}))

// ---------------------------------------------------------------------------------------------
// Valid payloads, and a way to put generated JSON at any of their fields (or a new one).

type Path = Array<string | number>
const SENTINEL = '__property_test_value__'

/** Every place a value can go: each existing field and element, the root, and a new key in each object. */
function slots(value: unknown, path: Path = []): Path[] {
  const out: Path[] = [path]
  if (Array.isArray(value)) for (const [i, v] of value.entries()) out.push(...slots(v, [...path, i]))
  else if (value && typeof value === 'object') {
    out.push([...path, 'property_test_new_field'])
    for (const [k, v] of Object.entries(value)) out.push(...slots(v, [...path, k]))
  }
  return out
}

/** The base with `valueText` (JSON text) spliced in at `path`. */
function withValueAt(base: unknown, path: Path, valueText: string): string {
  if (path.length === 0) return valueText
  const copy = structuredClone(base) as Record<string | number, unknown>
  let node = copy
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>
  node[path[path.length - 1]!] = SENTINEL
  const text = JSON.stringify(copy)
  const at = text.indexOf(JSON.stringify(SENTINEL))
  return `${text.slice(0, at)}${valueText}${text.slice(at + JSON.stringify(SENTINEL).length)}`
}

const customer = { id: 'cust-1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true, tags: ['vip'] }
const BASE_EVENTS: Array<Record<string, unknown>> = [
  {
    id: 'x',
    type: 'order.paid',
    occurred_at: '2026-03-02T09:00:00Z',
    data: {
      id: 'o-1',
      number: '#1',
      currency: 'USD',
      total_price: '45.00',
      subtotal_price: 40,
      line_items: [{ sku: 'TEE', quantity: 1, price: '45.00' }],
      customer,
      discount_codes: ['SAVE'],
    },
  },
  { id: 'x', type: 'customer.created', data: customer },
  {
    id: 'x',
    type: 'cart.updated',
    data: {
      id: 'cart-1',
      customer,
      currency: 'USD',
      total_price: 12.5,
      line_items: [{ sku: 'MUG', quantity: 2, price: 6.25 }],
      recovery_url: 'https://shop.example/c',
    },
  },
  { id: 'x', type: 'product.updated', data: { id: 'p-1', title: 'Tee', variants: [{ id: 'v-1', sku: 'TEE', price: '20.00', inventory_quantity: 3 }] } },
  { id: 'x', type: 'inventory.updated', data: { sku: 'TEE', available: 4 } },
  { id: 'x', type: 'order.fulfilled', data: { order_id: 'o-1', customer, tracking_number: '1Z', estimated_delivery_at: '2026-03-05' } },
  { id: 'x', type: 'subscription.created', data: { id: 's-1', customer, plan: 'box', price: '9.99', interval: 'month', status: 'active' } },
  { id: 'x', type: 'form.submitted', data: { form: 'contact', fields: { email: 'ada@example.com', message: 'hi' } } },
  { id: 'x', type: 'raw.shop.thing', data: { anything: [1, 'two', { three: 3 }] } },
]

const SHOPIFY_SECRET = 'shpss_property-secret'
const WOO_SECRET = 'woo-property-secret'
const BASE_HOOKS = [
  { platform: 'shopify', topic: 'orders/create', body: JSON.parse(fixture('shopify', 'orders-create.json').toString('utf8')) as unknown },
  { platform: 'shopify', topic: 'customers/create', body: JSON.parse(fixture('shopify', 'customers-create.json').toString('utf8')) as unknown },
  { platform: 'shopify', topic: 'carts/update', body: JSON.parse(fixture('shopify', 'carts-update.json').toString('utf8')) as unknown },
  { platform: 'woocommerce', topic: 'order.created', body: JSON.parse(fixture('woocommerce', 'order-created.json').toString('utf8')) as unknown },
  { platform: 'woocommerce', topic: 'customer.created', body: JSON.parse(fixture('woocommerce', 'customer-created.json').toString('utf8')) as unknown },
]

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!

/**
 * Runs a property and, on failure, throws a short report: the generated JSON can be megabytes
 * (deep or wide on purpose), so the counterexample is cut, while the seed and path replay it.
 */
async function holds<T>(property: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  const out = await fc.check(property, { numRuns })
  if (!out.failed) return
  const cut = (text: string) => (text.length > 600 ? `${text.slice(0, 600)}… (${text.length} characters)` : text)
  const error = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance)
  throw new Error(
    `property failed after ${out.numRuns} runs (seed ${out.seed}, path "${out.counterexamplePath}")\n${cut(error)}\ncounterexample: ${cut(JSON.stringify(out.counterexample))}`,
  )
}

// ---------------------------------------------------------------------------------------------

describe('any JSON at any field (SQLite)', () => {
  let env: TestEnv
  let server: FastifyInstance
  let ingestKey: string
  let adminKey: string
  let seq = 0

  beforeAll(async () => {
    env = await createTestEnv('sqlite', { env: {} })
    server = await buildServer(env.app)
    ingestKey = (await createKey(env.app.handle.db, 'default', 'ingest', env.clock.now())).key
    adminKey = (await createKey(env.app.handle.db, 'default', 'admin', env.clock.now())).key
    const auth = { authorization: `Bearer ${adminKey}` }
    // an active workflow, so ingest also starts runs
    const wf = await server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { ...auth, 'content-type': 'application/yaml' },
      payload: 'id: on-paid\nname: On paid\ntrigger: { event: order.paid }\nsteps:\n  - action: log\n    with: { message: "order {{ order.number }}" }\n',
    })
    expect(wf.statusCode).toBe(201)
    expect((await server.inject({ method: 'POST', url: '/api/v1/workflows/on-paid/activate', headers: auth })).statusCode).toBe(200)
    for (const [platform, secret, extra] of [
      ['shopify', SHOPIFY_SECRET, { shop_domain: 'jsmith.myshopify.com' }],
      ['woocommerce', WOO_SECRET, {}],
    ] as const) {
      expect(
        (await server.inject({ method: 'POST', url: '/api/v1/connectors', headers: auth, payload: { platform, secrets: [secret], ...extra } })).statusCode,
      ).toBe(201)
    }
  })
  afterAll(async () => {
    await server.close()
    await env.cleanup()
  })

  async function stillUp() {
    expect((await server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    const ok = await server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { authorization: `Bearer ${ingestKey}` },
      payload: { id: `alive-${++seq}`, type: 'customer.created', data: { id: 'c-alive', email: 'alive@example.com' } },
    })
    expect(ok.statusCode).toBe(202)
  }

  it('events API (one event, a batch, history): 2xx or 4xx, a 4xx stores nothing, a 2xx stores what it says', async () => {
    const slotted = fc.nat({ max: BASE_EVENTS.length - 1 }).chain((i) => fc.tuple(fc.constant(BASE_EVENTS[i]!), fc.nat()))
    await holds(
      fc.asyncProperty(slotted, json, fc.constantFrom('single', 'batch', 'history'), fc.nat({ max: 3 }), async ([base, slotNo], valueText, mode, position) => {
        const id = `p-${++seq}`
        const event = { ...base, id }
        const path = pick(slots(event), slotNo)
        const mutated = withValueAt(event, path, valueText)
        const body =
          mode === 'batch'
            ? `{"events":[${[...Array.from({ length: position }, (_, i) => JSON.stringify({ ...BASE_EVENTS[1], id: `${id}-ok-${i}` })), mutated].join(',')}]}`
            : mutated
        const before = await rowCounts(env.app.handle)
        const res = await server.inject({
          method: 'POST',
          url: mode === 'history' ? '/api/v1/events?history=true' : '/api/v1/events',
          headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
          payload: body,
        })
        const where = `${mode} ${String(base.type)} at ${JSON.stringify(path)}: ${res.statusCode} ${res.body.slice(0, 200)}`
        expect(res.statusCode, where).toBeLessThan(500)
        expect(res.statusCode, where).toBeGreaterThanOrEqual(200)
        const after = await rowCounts(env.app.handle)
        if (res.statusCode >= 400) {
          expect(after, where).toEqual(before)
          expect(res.json().error.code, where).toMatch(/^(validation_failed|bad_request|payload_too_large)$/)
        } else {
          const items: Array<{ duplicate: boolean }> = mode === 'batch' ? res.json().items : [res.json()]
          expect(after.events! - before.events!, where).toBe(items.filter((r) => !r.duplicate).length)
        }
      }),
      150,
    )
    await stillUp()
  })

  it('signed Shopify and WooCommerce webhooks: 2xx or 4xx; a 4xx stores nothing, a failed delivery stores only its record', async () => {
    const slotted = fc.nat({ max: BASE_HOOKS.length - 1 }).chain((i) => fc.tuple(fc.constant(BASE_HOOKS[i]!), fc.nat()))
    await holds(
      fc.asyncProperty(slotted, json, async ([base, slotNo], valueText) => {
        const n = ++seq
        const path = pick(slots(base.body), slotNo)
        const body = Buffer.from(withValueAt(base.body, path, valueText))
        const headers: Record<string, string> =
          base.platform === 'shopify'
            ? {
                'x-shopify-hmac-sha256': hmacBase64(SHOPIFY_SECRET, body),
                'x-shopify-topic': base.topic,
                'x-shopify-shop-domain': 'jsmith.myshopify.com',
                'x-shopify-event-id': `ev-${n}`,
                'x-shopify-webhook-id': `wh-${n}`,
              }
            : { 'x-wc-webhook-signature': hmacBase64(WOO_SECRET, body), 'x-wc-webhook-topic': base.topic, 'x-wc-webhook-delivery-id': `d-${n}` }
        const before = await rowCounts(env.app.handle)
        const res = await server.inject({
          method: 'POST',
          url: `/webhooks/${base.platform}/default`,
          headers: { 'content-type': 'application/json', ...headers },
          payload: body,
        })
        const where = `${base.platform} ${base.topic} at ${JSON.stringify(path)}: ${res.statusCode} ${res.body.slice(0, 200)}`
        expect(res.statusCode, where).toBeLessThan(500)
        expect(res.statusCode, where).toBeGreaterThanOrEqual(200)
        const after = await rowCounts(env.app.handle)
        if (res.statusCode >= 400) {
          expect(after, where).toEqual(before)
        } else if (res.json().ok === false) {
          // kept to be replayed after a fix, and nothing else of it
          expect(after, where).toEqual({ ...before, webhook_deliveries: before.webhook_deliveries! + 1 })
          expect(res.json().events, where).toBe(0)
        } else {
          expect(after.webhook_deliveries, where).toBe(before.webhook_deliveries! + 1)
          expect(after.events! - before.events!, where).toBe(res.json().new_events)
          expect(res.json().duplicate, where).toBe(res.json().new_events === 0 && res.json().events > 0)
        }
      }),
      100,
    )
    await stillUp()
  })
})
