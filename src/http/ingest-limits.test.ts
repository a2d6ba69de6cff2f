import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { rowCounts } from '../../test/helpers/row-counts.ts'
import { fixture, hmacBase64, standardWebhookSignature } from '../connectors/testing.ts'
import { INGEST_LIMITS } from '../contracts/limits.ts'
import { MONEY_LIMITS } from '../lib/money.ts'
import { createKey, createStore } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

/**
 * Issue 7, defect 7: bad input that used to reach a 500 (money as 1e21 or 1e-7, data nested
 * 5,000 levels deep) is answered 400 naming the field or the limit on the events API, in every
 * shape it accepts (one event, a batch, history), and nothing of the request is stored. A signed
 * webhook carrying the same is never answered 5xx (the shop would retry it for days): it is
 * answered 200 and kept as a failed delivery that can be replayed, with no event stored.
 */

const SHOPIFY_SECRET = 'shpss_limits-secret'
const WOO_SECRET = 'woo-limits-secret'
const BC_SECRET = 'bc-limits-secret'

/** `{"a":{"a":…1…}}`, written as text so nothing on the sending side has to recurse through it */
function deepJson(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`
}

const order = (eventId: string, total: string) =>
  `{"id":"${eventId}","type":"order.paid","occurred_at":"2026-03-02T09:00:00Z","data":{"id":"o-${eventId}","currency":"USD","total_price":${total},"line_items":[{"sku":"TEE","quantity":1,"price":"1.00"}],"customer":{"id":"c-1","email":"ada@example.com"}}}`

describe.each(DIALECTS)('ingest limits on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let ingestA: string
  let adminA: string
  let ingestB: string

  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: {} })
    server = await buildServer(env.app)
    const now = env.clock.now()
    await createStore(env.app.handle.db, { id: 'store-b' }, now)
    ingestA = (await createKey(env.app.handle.db, 'default', 'ingest', now)).key
    adminA = (await createKey(env.app.handle.db, 'default', 'admin', now)).key
    ingestB = (await createKey(env.app.handle.db, 'store-b', 'ingest', now)).key
    // store B holds an event of its own: A's refused requests must leave it as it is
    const seeded = await postRaw(order('b-1', '"5.00"'), ingestB)
    expect(seeded.statusCode).toBe(202)
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  const postRaw = (text: string, key = ingestA, url = '/api/v1/events') =>
    server.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: text })

  async function expectRefused(text: string, url: string, expectPath: RegExp | string, expectMessage?: RegExp) {
    const before = await rowCounts(env.app.handle)
    const res = await postRaw(text, ingestA, url)
    expect(res.statusCode, res.body.slice(0, 300)).toBe(400)
    const error = res.json().error
    expect(error.code).toBe('validation_failed')
    const paths = (error.details.issues as Array<{ path: string }>).map((i) => i.path)
    if (typeof expectPath === 'string') expect(paths).toContain(expectPath)
    else
      expect(
        paths.some((p) => expectPath.test(p)),
        paths.join(', '),
      ).toBe(true)
    if (expectMessage) expect(error.message).toMatch(expectMessage)
    expect(await rowCounts(env.app.handle)).toEqual(before)
    return error
  }

  it('money sent as the JSON number 1e21 or 1e-7: 400 naming the field, nothing stored', async () => {
    await expectRefused(order('e-1', '1e21'), '/api/v1/events', 'data.total_price')
    await expectRefused(order('e-2', '1e-7'), '/api/v1/events', 'data.total_price')
    await expectRefused(order('e-3', '"1e21"'), '/api/v1/events', 'data.total_price')
    const lineItem = order('e-4', '"1.00"').replace('"price":"1.00"', '"price":1e-7')
    await expectRefused(lineItem, '/api/v1/events', 'data.line_items[0].price')
    // a batch is all-or-nothing: the good first event is not stored either
    await expectRefused(`{"events":[${order('e-5', '"2.00"')},${order('e-6', '1e21')}]}`, '/api/v1/events', 'events[1].data.total_price')
    await expectRefused(order('e-7', '1e21'), '/api/v1/events?history=true', 'data.total_price')
    // the same order with a plain amount is fine
    expect((await postRaw(order('e-8', '12.5'))).statusCode).toBe(202)
  })

  it('data nested 5,000 levels deep: 400 naming the depth limit, in one event, a batch and history', async () => {
    const deep = `{"id":"d-1","type":"raw.shop.thing","data":{"x":${deepJson(5000)}}}`
    await expectRefused(deep, '/api/v1/events', /^data\.x(\.a)+/, /depth limit/)
    await expectRefused(`{"events":[${order('d-2', '"2.00"')},${deep}]}`, '/api/v1/events', /^events\[1\]\.data\.x/, /depth limit/)
    await expectRefused(deep, '/api/v1/events?history=true', /^data\.x/, /depth limit/)
    const deepInOrder = order('d-3', '"3.00"').replace('"currency":"USD"', `"currency":"USD","note_attributes":${deepJson(5000)}`)
    await expectRefused(deepInOrder, '/api/v1/events', /^data\.note_attributes/, /depth limit/)
    // the server is still up and still takes ordinary events
    expect((await postRaw(order('d-4', '"4.00"'))).statusCode).toBe(202)
    expect((await server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })

  it('each documented limit: the value at the limit is accepted, one past it is refused naming the limit', async () => {
    const L = INGEST_LIMITS
    let n = 0
    const raw = (dataText: string) => `{"id":"lim-${++n}","type":"raw.shop.thing","data":${dataText}}`
    const cases: Array<{ name: string; at: string; past: string; path: RegExp; message: RegExp }> = [
      // data is level 1, so x holds (depth - 1) more levels
      {
        name: 'depth',
        at: raw(`{"x":${deepJson(L.depth - 1)}}`),
        past: raw(`{"x":${deepJson(L.depth)}}`),
        path: /^data\.x(\.a)+$/,
        message: /depth limit of 32 levels/,
      },
      {
        name: 'string length',
        at: raw(`{"note":"${'x'.repeat(L.stringLength)}"}`),
        past: raw(`{"note":"${'x'.repeat(L.stringLength + 1)}"}`),
        path: /^data\.note$/,
        message: /string length limit/,
      },
      {
        name: 'list size',
        at: raw(`{"list":[${Array(L.listSize).fill(0).join(',')}]}`),
        past: raw(
          `{"list":[${Array(L.listSize + 1)
            .fill(0)
            .join(',')}]}`,
        ),
        path: /^data\.list$/,
        message: /list size limit/,
      },
      {
        name: 'keys per object',
        at: raw(`{"o":{${Array.from({ length: L.keysPerObject }, (_, i) => `"k${i}":1`).join(',')}}}`),
        past: raw(`{"o":{${Array.from({ length: L.keysPerObject + 1 }, (_, i) => `"k${i}":1`).join(',')}}}`),
        path: /^data\.o$/,
        message: /keys per object/,
      },
      {
        name: 'key length',
        at: raw(`{"o":{"${'k'.repeat(L.keyLength)}":1}}`),
        past: raw(`{"o":{"${'k'.repeat(L.keyLength + 1)}":1}}`),
        path: /^data\.o$/,
        message: /key length limit/,
      },
      {
        name: 'money digits',
        at: order(`m-${++n}`, `"${'9'.repeat(MONEY_LIMITS.integerDigits)}.99"`),
        past: order(`m-${++n}`, `"${'9'.repeat(MONEY_LIMITS.integerDigits + 1)}.99"`),
        path: /^data\.total_price$/,
        message: /digits before the point/,
      },
      {
        name: 'money decimals',
        at: order(`m-${++n}`, `0.${'1'.repeat(MONEY_LIMITS.decimals)}`),
        past: order(`m-${++n}`, `0.${'1'.repeat(MONEY_LIMITS.decimals + 1)}`),
        path: /^data\.total_price$/,
        message: /after/,
      },
      { name: 'number range', at: raw('{"n":1e308}'), past: raw('{"n":1e400}'), path: /^data\.n$/, message: /1e400/ },
    ]
    for (const c of cases) {
      const ok = await postRaw(c.at)
      expect(ok.statusCode, `${c.name} at the limit: ${ok.body.slice(0, 200)}`).toBe(202)
      await expectRefused(c.past, '/api/v1/events', c.path, c.message)
    }
  })

  describe('signed webhooks', () => {
    const connectors: Record<string, string> = {}
    beforeEach(async () => {
      const add = async (payload: Record<string, unknown>) => {
        const res = await server.inject({ method: 'POST', url: '/api/v1/connectors', headers: { authorization: `Bearer ${adminA}` }, payload })
        expect(res.statusCode).toBe(201)
        return res.json().id as string
      }
      connectors.shopify = await add({ platform: 'shopify', secrets: [SHOPIFY_SECRET], shop_domain: 'jsmith.myshopify.com' })
      connectors.woocommerce = await add({ platform: 'woocommerce', secrets: [WOO_SECRET] })
      // nothing listens there: a fetch would fail, so a 200 proves the limits were checked first
      connectors.bigcommerce = await add({ platform: 'bigcommerce', secrets: [BC_SECRET], api_url: 'http://127.0.0.1:9/stores/abc123', access_token: 'token' })
    })

    const withField = (body: Buffer, field: string) => Buffer.from(body.toString('utf8').replace('{', `{${field},`))
    const headersFor = (platform: string, body: Buffer, n: number): Record<string, string> => {
      if (platform === 'shopify') {
        return {
          'content-type': 'application/json',
          'x-shopify-hmac-sha256': hmacBase64(SHOPIFY_SECRET, body),
          'x-shopify-topic': 'orders/create',
          'x-shopify-shop-domain': 'jsmith.myshopify.com',
          'x-shopify-event-id': `ev-${n}`,
          'x-shopify-webhook-id': `wh-${n}`,
        }
      }
      if (platform === 'woocommerce') {
        return {
          'content-type': 'application/json',
          'x-wc-webhook-signature': hmacBase64(WOO_SECRET, body),
          'x-wc-webhook-topic': 'order.created',
          'x-wc-webhook-delivery-id': `d-${n}`,
        }
      }
      const ts = Math.floor(env.clock.now().getTime() / 1000)
      return {
        'content-type': 'application/json',
        'webhook-id': `msg-${n}`,
        'webhook-timestamp': String(ts),
        'webhook-signature': standardWebhookSignature(Buffer.from(BC_SECRET), `msg-${n}`, ts, body),
      }
    }
    const bodies: Record<string, Buffer> = {
      shopify: fixture('shopify', 'orders-create.json'),
      woocommerce: fixture('woocommerce', 'order-created.json'),
      bigcommerce: fixture('bigcommerce', 'store-order-created.json'),
    }

    it.each(['shopify', 'woocommerce', 'bigcommerce'])(
      '%s: a signed body nested 5,000 levels deep is kept as a failed delivery (200), no event stored',
      async (platform) => {
        const body = withField(bodies[platform]!, `"deep":${deepJson(5000)}`)
        const before = await rowCounts(env.app.handle)
        const res = await server.inject({ method: 'POST', url: `/webhooks/${platform}/default`, headers: headersFor(platform, body, 1), payload: body })
        expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
        expect(res.json()).toMatchObject({ ok: false, events: 0 })
        expect(res.json().error).toMatch(/depth limit/)
        const after = await rowCounts(env.app.handle)
        // exactly one row more: the delivery, kept so it can be replayed; nothing else
        expect(after).toEqual({ ...before, webhook_deliveries: before.webhook_deliveries! + 1 })
        const list = (
          await server.inject({ method: 'GET', url: `/api/v1/deliveries?connector=${connectors[platform]}`, headers: { authorization: `Bearer ${adminA}` } })
        ).json()
        expect(list.items).toHaveLength(1)
        expect(list.items[0]).toMatchObject({ status: 'failed' })
        expect(list.items[0].error).toMatch(/depth limit/)
      },
    )

    it.each(['shopify', 'woocommerce', 'bigcommerce'])(
      '%s: a signed body with a NUL character in a name is kept as a failed delivery (200), no event stored',
      async (platform) => {
        const body = withField(bodies[platform]!, '"first_name":"Nul\\u0000Name"')
        const before = await rowCounts(env.app.handle)
        const res = await server.inject({ method: 'POST', url: `/webhooks/${platform}/default`, headers: headersFor(platform, body, 2), payload: body })
        expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
        expect(res.json()).toMatchObject({ ok: false, events: 0 })
        expect(res.json().error).toMatch(/NUL/)
        expect(await rowCounts(env.app.handle)).toEqual({ ...before, webhook_deliveries: before.webhook_deliveries! + 1 })
      },
    )

    it('shopify: an order whose total is the JSON number 1e21 is kept as failed (200), naming the field', async () => {
      const text = bodies.shopify!.toString('utf8').replace(/"total_price":\s*"[^"]*"/, '"total_price":1e21')
      expect(text).toContain('"total_price":1e21')
      const body = Buffer.from(text)
      const before = await rowCounts(env.app.handle)
      const res = await server.inject({ method: 'POST', url: '/webhooks/shopify/default', headers: headersFor('shopify', body, 2), payload: body })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ ok: false, events: 0 })
      expect(res.json().error).toContain('total_price')
      expect(await rowCounts(env.app.handle)).toEqual({ ...before, webhook_deliveries: before.webhook_deliveries! + 1 })
    })
  })
})
