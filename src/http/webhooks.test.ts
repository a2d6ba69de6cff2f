import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ACCESS_TOKEN, startBigCommerceApi, type BigCommerceApiServer } from '../../test/helpers/bigcommerce-api.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { CONNECTORS } from '../connectors/registry.ts'
import { delivery, fixture, fixtureFiles, hmacBase64, localDeps, standardWebhookSignature } from '../connectors/testing.ts'
import { pruneDeliveries } from '../store/deliveries.repo.ts'
import { textColumns } from '../../test/helpers/schema.ts'
import { createKey } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

/** Webhooks end to end: signed fixture deliveries through server.inject into the events table. */

const SHOPIFY_SECRET = 'shpss_storeflow-webhook-secret-1'
const WOO_SECRET = 'woo-storeflow-webhook-secret'
const BC_SECRET = 'bc-storeflow-client-secret'
const WRONG = 'not-the-secret'

const shopifyTopic = (file: string) => {
  const [resource, ...action] = file.replace(/\.json$/, '').split('-')
  return `${resource === 'inventory' ? 'inventory_levels' : resource}/${action.at(-1)}`
}

function shopifyHeaders(topic: string, body: Buffer, secret: string, eventId = `evt-${topic}`, webhookId = `wh-${topic}`): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-shopify-hmac-sha256': hmacBase64(secret, body),
    'x-shopify-topic': topic,
    'x-shopify-shop-domain': 'jsmith.myshopify.com',
    'x-shopify-event-id': eventId,
    'x-shopify-webhook-id': webhookId,
  }
}

function wooHeaders(file: string, body: Buffer, secret: string): Record<string, string> {
  const topic = file.replace(/\.json$/, '').replace('-', '.')
  return {
    'content-type': 'application/json',
    'x-wc-webhook-signature': hmacBase64(secret, body),
    'x-wc-webhook-topic': topic,
    'x-wc-webhook-delivery-id': `d-${file}`,
  }
}

function bcHeaders(body: Buffer, secret: string, now: Date, id = `msg_${body.length}`): Record<string, string> {
  const ts = Math.floor(now.getTime() / 1000)
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': standardWebhookSignature(Buffer.from(secret), id, ts, body),
  }
}

const reserialise = (body: Buffer) => Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))))

let bc: BigCommerceApiServer
beforeAll(async () => {
  bc = await startBigCommerceApi()
})
afterAll(async () => {
  await bc.close()
})

describe.each(DIALECTS)('webhooks on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let admin: string
  const connectorIds: Record<string, string> = {}

  beforeEach(async () => {
    bc.reset()
    // the stand-in BigCommerce API listens on 127.0.0.1: allowed explicitly, as an operator would
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    server = await buildServer(env.app)
    admin = (await createKey(env.app.handle.db, 'default', 'admin', env.clock.now())).key
    const add = async (payload: Record<string, unknown>) => {
      const res = await api('POST', '/api/v1/connectors', payload)
      expect(res.statusCode).toBe(201)
      return res.json().id as string
    }
    connectorIds.shopify = await add({ platform: 'shopify', secrets: [SHOPIFY_SECRET], shop_domain: 'jsmith.myshopify.com' })
    connectorIds.woocommerce = await add({ platform: 'woocommerce', secrets: [WOO_SECRET] })
    connectorIds.bigcommerce = await add({ platform: 'bigcommerce', secrets: [BC_SECRET], api_url: bc.apiUrl, access_token: ACCESS_TOKEN })
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    server.inject({ method, url, headers: { authorization: `Bearer ${admin}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
  const hook = (platform: string, headers: Record<string, string>, body: Buffer | string, store = 'default') =>
    server.inject({ method: 'POST', url: `/webhooks/${platform}/${store}`, headers, payload: body })
  const count = async (table: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(env.app.handle.db)).rows[0]!.n)
  const counts = async () => ({
    events: await count('events'),
    deliveries: await count('webhook_deliveries'),
    customers: await count('customers'),
    orders: await count('orders'),
    exports: await count('privacy_exports'),
  })
  const eventsOf = async (ids: string[]) =>
    (await env.app.handle.db.selectFrom('events').selectAll().where('id', 'in', ids).orderBy('seq').execute()).map((r) => ({ ...r, data: JSON.parse(r.data) }))

  async function expectRefused(platform: string, headers: Record<string, string>, body: Buffer) {
    const before = await counts()
    const res = await hook(platform, headers, body)
    expect(res.statusCode).toBe(401)
    expect(res.json().error.code).toBe('unauthorized')
    expect(await counts()).toEqual(before)
  }

  it('every Shopify fixture: refused wrong or re-serialised (nothing stored), accepted signed, canonical events stored', async () => {
    for (const file of fixtureFiles('shopify')) {
      const body = fixture('shopify', file)
      const topic = shopifyTopic(file)
      await expectRefused('shopify', shopifyHeaders(topic, body, WRONG), body)
      await expectRefused('shopify', shopifyHeaders(topic, body, SHOPIFY_SECRET), reserialise(body))
      const res = await hook('shopify', shopifyHeaders(topic, body, SHOPIFY_SECRET), body)
      expect(res.statusCode, file).toBe(200)
      expect(res.json()).toMatchObject({ ok: true, events: 1, duplicate: false })
      const expected = await CONNECTORS.shopify.map(delivery(shopifyHeaders(topic, body, SHOPIFY_SECRET), body), { secrets: [] }, localDeps)
      const stored = await eventsOf(expected.events.map((e) => e.id))
      expect(stored.map((e) => e.type)).toEqual(expected.events.map((e) => e.type))
      expect(stored.every((e) => e.source === 'shopify' && e.store_id === 'default')).toBe(true)
    }
    const created = await env.app.handle.db.selectFrom('events').selectAll().where('type', '=', 'order.created').executeTakeFirstOrThrow()
    const order = JSON.parse(created.data)
    expect(order).toMatchObject({ id: '820982911946154508', number: '1234', total_price: '404.95', customer: { email: 'john@example.com' } })
    expect(order.line_items.map((li: { sku: string }) => li.sku)).toEqual([
      'SKU2006-001',
      'LENS-PROTECT-2YR',
      'CASE-LEATHER-PREM',
      'SKU2006-020',
      'SKU2006-035',
    ])
    const fulfilled = (await env.app.handle.db.selectFrom('events').select('data').where('type', '=', 'order.fulfilled').execute()).map((r) =>
      JSON.parse(r.data),
    )
    expect(fulfilled.some((f) => f.tracking_number === '1z827wk74630')).toBe(true)
    expect(await count('webhook_deliveries')).toBe(fixtureFiles('shopify').length)
  })

  it('every WooCommerce fixture, and the unsigned ping answered 200 with nothing stored', async () => {
    const before = await counts()
    const ping = await hook('woocommerce', { 'content-type': 'application/x-www-form-urlencoded' }, 'webhook_id=42')
    expect(ping.statusCode).toBe(200)
    expect(ping.json()).toEqual({ ok: true, ping: true })
    expect(await counts()).toEqual(before)
    for (const file of fixtureFiles('woocommerce')) {
      const body = fixture('woocommerce', file)
      await expectRefused('woocommerce', wooHeaders(file, body, WRONG), body)
      await expectRefused('woocommerce', wooHeaders(file, body, WOO_SECRET), reserialise(body))
      const res = await hook('woocommerce', wooHeaders(file, body, WOO_SECRET), body)
      expect(res.statusCode, file).toBe(200)
      expect(res.json().ok).toBe(true)
      const expected = await CONNECTORS.woocommerce.map(delivery(wooHeaders(file, body, WOO_SECRET), body), { secrets: [] }, localDeps)
      expect((await eventsOf(expected.events.map((e) => e.id))).map((e) => e.type)).toEqual(expected.events.map((e) => e.type))
    }
    const order = JSON.parse(
      (
        await env.app.handle.db
          .selectFrom('events')
          .select('data')
          .where('type', '=', 'order.created')
          .where('source', '=', 'woocommerce')
          .executeTakeFirstOrThrow()
      ).data,
    )
    expect(order).toMatchObject({ id: '727', number: '727', total_price: '29.35', currency: 'USD' })
  })

  it('every BigCommerce fixture against the local API, with the 5-minute timestamp tolerance', async () => {
    const now = env.clock.now()
    for (const file of fixtureFiles('bigcommerce')) {
      const body = fixture('bigcommerce', file)
      await expectRefused('bigcommerce', bcHeaders(body, WRONG, now), body)
      await expectRefused('bigcommerce', bcHeaders(body, BC_SECRET, now), reserialise(body))
      await expectRefused('bigcommerce', bcHeaders(body, BC_SECRET, new Date(now.getTime() - 6 * 60_000)), body)
      const res = await hook('bigcommerce', bcHeaders(body, BC_SECRET, new Date(now.getTime() - 4 * 60_000)), body)
      expect(res.statusCode, file).toBe(200)
      expect(res.json().ok, file).toBe(true)
      expect(res.json().events).toBeGreaterThan(0)
    }
    expect(bc.requests.every((r) => r.token === ACCESS_TOKEN)).toBe(true)
    const order = JSON.parse(
      (
        await env.app.handle.db
          .selectFrom('events')
          .select('data')
          .where('type', '=', 'order.created')
          .where('source', '=', 'bigcommerce')
          .executeTakeFirstOrThrow()
      ).data,
    )
    expect(order.line_items.map((li: { sku: string }) => li.sku)).toEqual(['OTL-LG', 'SMPL-CARD-BLUE'])
    const shipped = JSON.parse(
      (
        await env.app.handle.db
          .selectFrom('events')
          .select('data')
          .where('type', '=', 'order.fulfilled')
          .where('source', '=', 'bigcommerce')
          .executeTakeFirstOrThrow()
      ).data,
    )
    expect(shipped.tracking_number).toBe('1Z999AA10123456784')
  })

  it('a Shopify redelivery (same event id, new webhook id) starts no second run', async () => {
    const wf = await server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/yaml' },
      payload: 'id: on-order\nname: On order\ntrigger: { event: order.created }\nsteps:\n  - action: log\n    with: { message: "order {{ order.number }}" }\n',
    })
    expect(wf.statusCode).toBe(201)
    expect((await api('POST', '/api/v1/workflows/on-order/activate')).statusCode).toBe(200)
    const body = fixture('shopify', 'orders-create.json')
    const first = await hook('shopify', shopifyHeaders('orders/create', body, SHOPIFY_SECRET, 'evt-1', 'wh-1'), body)
    const again = await hook('shopify', shopifyHeaders('orders/create', body, SHOPIFY_SECRET, 'evt-1', 'wh-2'), body)
    expect(first.json()).toMatchObject({ ok: true, events: 1, duplicate: false })
    expect(again.statusCode).toBe(200)
    expect(again.json()).toMatchObject({ ok: true, events: 1, duplicate: true })
    await env.app.engine.drain()
    expect(await count('runs')).toBe(1)
    const deliveries = (await api('GET', `/api/v1/deliveries?connector=${connectorIds.shopify}`)).json()
    expect(deliveries.items.map((d: { delivery_id: string; status: string }) => `${d.delivery_id}:${d.status}`).sort()).toEqual([
      'wh-1:processed',
      'wh-2:duplicate',
    ])
  })

  it('an unknown topic is stored as a raw event and answered 200', async () => {
    const body = Buffer.from('{"id":7,"note":"hello"}')
    const res = await hook('shopify', shopifyHeaders('app/uninstalled', body, SHOPIFY_SECRET), body)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ ok: true, events: 1, unknown_topic: true })
    const raw = await env.app.handle.db.selectFrom('events').selectAll().where('type', '=', 'raw.shopify.app_uninstalled').executeTakeFirstOrThrow()
    expect(JSON.parse(raw.data)).toEqual({ id: 7, note: 'hello' })
    const list = (await api('GET', '/api/v1/deliveries')).json()
    expect(list.items[0]).toMatchObject({ topic: 'app/uninstalled', unknown_topic: true, status: 'processed' })
    const one = (await api('GET', `/api/v1/deliveries/${list.items[0].id}`)).json()
    expect(one.body).toBe(body.toString())
    expect(one.headers['x-shopify-topic']).toBe('app/uninstalled')
  })

  it('a delivery that failed at the shop API is kept, answered 503, and replays once the connector is fixed', async () => {
    expect((await api('PATCH', `/api/v1/connectors/${connectorIds.bigcommerce}`, { access_token: 'wrong-token' })).statusCode).toBe(200)
    const body = fixture('bigcommerce', 'store-order-created.json')
    const res = await hook('bigcommerce', bcHeaders(body, BC_SECRET, env.clock.now()), body)
    expect(res.statusCode).toBe(503)
    expect(await count('events')).toBe(0)
    const [failed] = (await api('GET', '/api/v1/deliveries')).json().items
    expect(failed).toMatchObject({ status: 'failed', topic: 'store/order/created' })
    expect(failed.error).toContain('401')
    expect((await api('GET', `/api/v1/connectors/${connectorIds.bigcommerce}/health`)).json()).toMatchObject({ deliveries_24h: 1, failures_24h: 1 })

    expect((await api('PATCH', `/api/v1/connectors/${connectorIds.bigcommerce}`, { access_token: ACCESS_TOKEN })).statusCode).toBe(200)
    const replay = await api('POST', `/api/v1/deliveries/${failed.id}/replay`)
    expect(replay.statusCode).toBe(200)
    expect(replay.json()).toMatchObject({ status: 'processed', duplicate: false })
    expect(replay.json().events.map((e: { type: string }) => e.type)).toEqual(['order.created', 'order.paid'])
    // replaying again: the same deterministic ids, so a duplicate
    expect((await api('POST', `/api/v1/deliveries/${failed.id}/replay`)).json()).toMatchObject({ status: 'duplicate', duplicate: true })
    expect(await count('events')).toBe(2)
  })

  it('health counts deliveries and signature failures; nothing of a refused delivery is kept', async () => {
    const body = fixture('shopify', 'customers-create.json')
    await hook('shopify', shopifyHeaders('customers/create', body, SHOPIFY_SECRET), body)
    await hook('shopify', shopifyHeaders('customers/create', body, WRONG), body)
    await hook('shopify', { 'content-type': 'application/json' }, body)
    const health = (await api('GET', `/api/v1/connectors/${connectorIds.shopify}/health`)).json()
    expect(health).toMatchObject({ last_delivery_at: env.clock.now().toISOString(), deliveries_24h: 1, failures_24h: 0, signature_failures_24h: 2 })
    expect(health.last_signature_failure_reason).toContain('X-Shopify-Hmac-Sha256')
    env.clock.advance(26 * 3600_000)
    expect((await api('GET', `/api/v1/connectors/${connectorIds.shopify}/health`)).json()).toMatchObject({ deliveries_24h: 0, signature_failures_24h: 0 })
    // a store without a connector for the platform: 401; but WooCommerce's unsigned ping gets its 200
    expect((await hook('shopify', shopifyHeaders('customers/create', body, SHOPIFY_SECRET), body, 'other-store')).statusCode).toBe(401)
    expect((await hook('woocommerce', { 'content-type': 'application/x-www-form-urlencoded' }, 'webhook_id=7', 'other-store')).statusCode).toBe(200)
    // an empty Content-Type header: verified like any other delivery (here: wrong store, 401), not 415
    expect((await hook('shopify', { ...shopifyHeaders('customers/create', body, SHOPIFY_SECRET), 'content-type': '' }, body, 'other-store')).statusCode).toBe(
      401,
    )
  })

  it('secret rotation: two secrets valid at once, then only the new one', async () => {
    const body = fixture('shopify', 'customers-update.json')
    const NEW = 'shpss_storeflow-webhook-secret-2'
    expect((await hook('shopify', shopifyHeaders('customers/update', body, NEW, 'e1'), body)).statusCode).toBe(401)
    const rotated = (await api('PATCH', `/api/v1/connectors/${connectorIds.shopify}`, { secrets: [SHOPIFY_SECRET, NEW] })).json()
    expect(rotated).toMatchObject({ secret_set: true, secret_count: 2 })
    // fingerprints tell the secrets apart without giving any of them away
    expect(rotated.secret_fingerprints).toHaveLength(2)
    expect(new Set(rotated.secret_fingerprints).size).toBe(2)
    for (const fp of rotated.secret_fingerprints) expect(SHOPIFY_SECRET + NEW).not.toContain(fp)
    expect((await hook('shopify', shopifyHeaders('customers/update', body, NEW, 'e2'), body)).statusCode).toBe(200)
    expect((await hook('shopify', shopifyHeaders('customers/update', body, SHOPIFY_SECRET, 'e3'), body)).statusCode).toBe(200)
    await api('PATCH', `/api/v1/connectors/${connectorIds.shopify}`, { secrets: [NEW] })
    expect((await hook('shopify', shopifyHeaders('customers/update', body, SHOPIFY_SECRET, 'e4'), body)).statusCode).toBe(401)
    expect((await hook('shopify', shopifyHeaders('customers/update', body, NEW, 'e5'), body)).statusCode).toBe(200)
  })

  it('secrets and tokens are never returned and never stored in plaintext', async () => {
    const list = await api('GET', '/api/v1/connectors')
    const text = list.body
    for (const s of [SHOPIFY_SECRET, WOO_SECRET, BC_SECRET, ACCESS_TOKEN]) expect(text).not.toContain(s)
    expect(list.json().items.map((c: { platform: string; secret_set: boolean }) => `${c.platform}:${c.secret_set}`)).toEqual([
      'shopify:true',
      'woocommerce:true',
      'bigcommerce:true',
    ])
    const body = fixture('bigcommerce', 'store-order-created.json')
    await hook('bigcommerce', { ...bcHeaders(body, BC_SECRET, env.clock.now()), authorization: `Bearer ${ACCESS_TOKEN}` }, body)
    for (const { table, column } of await textColumns(env.app.handle.db, env.app.handle.dialect)) {
      if (table === 'api_keys') continue
      for (const s of [SHOPIFY_SECRET, WOO_SECRET, BC_SECRET, ACCESS_TOKEN]) {
        const hits = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} like ${`%${s}%`}`.execute(
          env.app.handle.db,
        )
        expect(Number(hits.rows[0]!.n), `${table}.${column} holds ${s}`).toBe(0)
      }
    }
  })

  it('removing a connector refuses its webhooks; deliveries older than 30 days are pruned', async () => {
    const body = fixture('shopify', 'customers-create.json')
    await hook('shopify', shopifyHeaders('customers/create', body, SHOPIFY_SECRET), body)
    expect((await api('DELETE', `/api/v1/connectors/${connectorIds.shopify}`)).statusCode).toBe(204)
    expect((await hook('shopify', shopifyHeaders('customers/create', body, SHOPIFY_SECRET, 'x2'), body)).statusCode).toBe(401)
    expect(await count('webhook_deliveries')).toBe(1)
    await pruneDeliveries(env.app.handle.db, new Date(env.clock.now().getTime() + 29 * 86_400_000))
    expect(await count('webhook_deliveries')).toBe(1)
    await pruneDeliveries(env.app.handle.db, new Date(env.clock.now().getTime() + 31 * 86_400_000))
    expect(await count('webhook_deliveries')).toBe(0)
  })
})
