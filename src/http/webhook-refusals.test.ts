import SQLite from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { rowCounts } from '../../test/helpers/row-counts.ts'
import { fixture, hmacBase64 } from '../connectors/testing.ts'
import { createKey, createStore } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

/**
 * Issue 7, defect 8: a refused webhook stores nothing. A Shopify delivery must name the
 * connector's shop (the app's one secret signs deliveries for every shop that installed it), and a
 * flood of badly signed deliveries writes nothing per delivery: health still counts them.
 */

// one public app: the same client secret signs deliveries for both shops
const APP_SECRET = 'shpss_one-app-for-many-shops'

describe.each(DIALECTS)('refused webhooks on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let adminA: string
  let connectorA: string

  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: {} })
    server = await buildServer(env.app)
    const now = env.clock.now()
    await createStore(env.app.handle.db, { id: 'store-b' }, now)
    adminA = (await createKey(env.app.handle.db, 'default', 'admin', now)).key
    const adminB = (await createKey(env.app.handle.db, 'store-b', 'admin', now)).key
    const add = async (key: string, shop: string) => {
      const res = await server.inject({
        method: 'POST',
        url: '/api/v1/connectors',
        headers: { authorization: `Bearer ${key}` },
        payload: { platform: 'shopify', secrets: [APP_SECRET], shop_domain: shop },
      })
      expect(res.statusCode).toBe(201)
      return res.json().id as string
    }
    connectorA = await add(adminA, 'shop-a.myshopify.com')
    await add(adminB, 'shop-b.myshopify.com')
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  const headers = (body: Buffer, shop: string | null, n: number, secret = APP_SECRET): Record<string, string> => ({
    'content-type': 'application/json',
    'x-shopify-hmac-sha256': hmacBase64(secret, body),
    'x-shopify-topic': 'orders/create',
    'x-shopify-event-id': `ev-${n}`,
    'x-shopify-webhook-id': `wh-${n}`,
    ...(shop === null ? {} : { 'x-shopify-shop-domain': shop }),
  })
  const hook = (store: string, h: Record<string, string>, body: Buffer) =>
    server.inject({ method: 'POST', url: `/webhooks/shopify/${store}`, headers: h, payload: body })

  it('a correctly signed delivery without X-Shopify-Shop-Domain, or naming another shop, is refused 401 and stores nothing', async () => {
    const body = fixture('shopify', 'orders-create.json')
    const before = await rowCounts(env.app.handle)
    for (const [n, shop] of [
      [1, null],
      [2, 'shop-b.myshopify.com'],
      [3, ''],
    ] as const) {
      const res = await hook('default', headers(body, shop, n), body)
      expect(res.statusCode, `shop header ${JSON.stringify(shop)}`).toBe(401)
      expect(res.json().error.message).toMatch(/X-Shopify-Shop-Domain/)
    }
    // and store B's endpoint refuses shop A's delivery just the same
    expect((await hook('store-b', headers(body, 'shop-a.myshopify.com', 4), body)).statusCode).toBe(401)
    expect((await hook('store-b', headers(body, null, 5), body)).statusCode).toBe(401)
    const after = await rowCounts(env.app.handle)
    // the failure counter may be kept in memory or in one row per connector; nothing else moves
    expect({ ...after, connector_signature_failures: 0 }).toEqual({ ...before, connector_signature_failures: 0 })
    // the right shop is accepted, into the right store only
    const ok = await hook('default', headers(body, 'Shop-A.myshopify.com', 6), body)
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toMatchObject({ ok: true, events: 1 })
    const list = await server.inject({ method: 'GET', url: '/api/v1/deliveries', headers: { authorization: `Bearer ${adminA}` } })
    expect(list.json().items.map((d: { delivery_id: string }) => d.delivery_id)).toEqual(['wh-6'])
  })

  it('1,000 badly signed deliveries leave every table as it was; health still counts them, in one bounded counter', async () => {
    const body = fixture('shopify', 'customers-create.json')
    const before = await rowCounts(env.app.handle)
    // SQLite: data_version moves when another connection commits anything at all to the file
    const watcher = dialect === 'sqlite' ? new SQLite(env.config.databaseUrl, { readonly: true }) : null
    const version = () => watcher!.pragma('data_version', { simple: true }) as number
    const startVersion = watcher ? version() : 0
    for (let i = 0; i < 1000; i++) {
      const h =
        i % 2 === 0 ? headers(body, 'shop-a.myshopify.com', i, 'not-the-secret') : { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create' }
      const res = await hook('default', h, body)
      expect(res.statusCode).toBe(401)
    }
    expect(await rowCounts(env.app.handle)).toEqual(before)
    if (watcher) expect(version(), 'the SQLite file was written to').toBe(startVersion)
    watcher?.close()
    const health = (
      await server.inject({ method: 'GET', url: `/api/v1/connectors/${connectorA}/health`, headers: { authorization: `Bearer ${adminA}` } })
    ).json()
    expect(health).toMatchObject({ signature_failures_24h: 1000, deliveries_24h: 0 })
    expect(health.last_signature_failure_reason).toMatch(/X-Shopify-Hmac-Sha256/)

    // when the server stops, the tally is kept: one counter row for the connector, not one per delivery
    await server.close()
    const after = await rowCounts(env.app.handle)
    expect(after).toEqual({ ...before, connector_signature_failures: before.connector_signature_failures! + 1 })
    const rows = await env.app.handle.db.selectFrom('connector_signature_failures').selectAll().execute()
    expect(rows.map((r) => ({ connector: r.connector_id, count: Number(r.count) }))).toEqual([{ connector: connectorA, count: 1000 }])
    // a new server reads the same health from the database
    server = await buildServer(env.app)
    const again = (
      await server.inject({ method: 'GET', url: `/api/v1/connectors/${connectorA}/health`, headers: { authorization: `Bearer ${adminA}` } })
    ).json()
    expect(again).toMatchObject({ signature_failures_24h: 1000 })
  })
})
