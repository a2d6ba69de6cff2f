import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { rowCounts } from '../../test/helpers/row-counts.ts'
import { loadConfig } from '../config.ts'
import { fixture, hmacBase64 } from '../connectors/testing.ts'
import { createKey, createStore } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

/**
 * Issue 7, defect 6: STOREFLOW_INGEST_RATE_LIMIT is enforced. Over the limit an ingest request is
 * answered 429 with Retry-After and nothing of it is stored; the budget is per API key on the
 * events API and per store on webhooks, so one key or store never spends another's. Time is the
 * engine's clock (a ManualClock here).
 */

const SECRET = 'shpss_rate-limit-secret'

describe.each(DIALECTS)('ingest rate limit on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  async function start(limit: string | undefined) {
    env = await createTestEnv(dialect, { env: limit === undefined ? {} : { STOREFLOW_INGEST_RATE_LIMIT: limit } })
    server = await buildServer(env.app)
    await createStore(env.app.handle.db, { id: 'store-b' }, env.clock.now())
  }
  const key = async (store: string, scope: 'ingest' | 'admin' = 'ingest') => (await createKey(env.app.handle.db, store, scope, env.clock.now())).key
  let n = 0
  const event = () => ({ id: `e-${++n}`, type: 'customer.created', data: { id: `c-${n}`, email: `c${n}@example.com` } })
  const send = (k: string, payload: unknown = event(), url = '/api/v1/events') =>
    server.inject({ method: 'POST', url, headers: { authorization: `Bearer ${k}` }, payload: payload as object })

  it('per API key: the 4th request in a minute at 3/min gets 429 + Retry-After, stores nothing; other keys and stores go on', async () => {
    await start('3/min')
    const a1 = await key('default')
    const a2 = await key('default')
    const b = await key('store-b')
    for (let i = 0; i < 3; i++) expect((await send(a1)).statusCode).toBe(202)
    const before = await rowCounts(env.app.handle)
    const refused = await send(a1)
    expect(refused.statusCode).toBe(429)
    expect(refused.json().error.code).toBe('rate_limited')
    expect(refused.json().error.message).toMatch(/STOREFLOW_INGEST_RATE_LIMIT|rate limit/)
    const retryAfter = Number(refused.headers['retry-after'])
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers['retry-after']}`).toBe(true)
    // a batch counts as one request, and is refused whole
    expect((await send(a1, { events: [event(), event()] })).statusCode).toBe(429)
    expect((await send(a1, event(), '/api/v1/events?history=true')).statusCode).toBe(429)
    expect(await rowCounts(env.app.handle)).toEqual(before)
    // another key of the same store, and store B's key, have budgets of their own
    expect((await send(a2)).statusCode).toBe(202)
    expect((await send(b)).statusCode).toBe(202)
    // once Retry-After has passed, the first key is served again
    env.clock.advance(retryAfter * 1000)
    expect((await send(a1)).statusCode).toBe(202)
    expect((await send(a1)).statusCode).toBe(429)
  })

  it('per store on webhooks: the store over its budget gets 429 + Retry-After; badly signed deliveries spend no budget', async () => {
    await start('3/min')
    const connectors: Record<string, string> = {}
    for (const store of ['default', 'store-b']) {
      const res = await server.inject({
        method: 'POST',
        url: '/api/v1/connectors',
        headers: { authorization: `Bearer ${await key(store, 'admin')}` },
        payload: { platform: 'shopify', secrets: [SECRET] },
      })
      expect(res.statusCode).toBe(201)
      connectors[store] = res.json().id
    }
    const body = fixture('shopify', 'customers-create.json')
    const hook = (store: string, secret = SECRET) =>
      server.inject({
        method: 'POST',
        url: `/webhooks/shopify/${store}`,
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-shopify-hmac-sha256': hmacBase64(secret, body),
          'x-shopify-topic': 'customers/create',
          'x-shopify-event-id': `ev-${++n}`,
          'x-shopify-webhook-id': `wh-${n}`,
        },
      })
    // someone without the secret cannot use up the store's budget
    for (let i = 0; i < 10; i++) expect((await hook('default', 'wrong')).statusCode).toBe(401)
    for (let i = 0; i < 3; i++) expect((await hook('default')).statusCode).toBe(200)
    const before = await rowCounts(env.app.handle)
    const refused = await hook('default')
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(await rowCounts(env.app.handle)).toEqual(before)
    expect((await hook('store-b')).statusCode).toBe(200)
    env.clock.advance(Number(refused.headers['retry-after']) * 1000)
    expect((await hook('default')).statusCode).toBe(200)
  })

  it("Shippo's tracking webhook counts against the store's budget too: 429 + Retry-After over it; a wrong token spends none", async () => {
    await start('3/min')
    for (const store of ['default', 'store-b']) {
      const res = await server.inject({
        method: 'PUT',
        url: '/api/v1/integrations/shippo',
        headers: { authorization: `Bearer ${await key(store, 'admin')}` },
        payload: { credentials: { api_token: 'shippo_test', webhook_token: `tok-${store}-0123456789abcdef` } },
      })
      expect(res.statusCode, res.body).toBe(200)
    }
    const hook = (store: string, token = `tok-${store}-0123456789abcdef`) =>
      server.inject({
        method: 'POST',
        url: `/webhooks/shippo/${store}?token=${token}`,
        payload: { event: 'track_updated', data: { tracking_number: `1Z${++n}`, tracking_status: { status: 'TRANSIT', status_date: '2026-03-02T09:00:00Z' } } },
      })
    for (let i = 0; i < 10; i++) expect((await hook('default', 'wrong')).statusCode).toBe(401)
    for (let i = 0; i < 3; i++) expect((await hook('default')).statusCode).toBe(200)
    const refused = await hook('default')
    expect(refused.statusCode, refused.body).toBe(429)
    expect(refused.json().error.code).toBe('rate_limited')
    const retryAfter = Number(refused.headers['retry-after'])
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers['retry-after']}`).toBe(true)
    // the wrong token is refused as before, over the budget or not
    expect((await hook('default', 'wrong')).statusCode).toBe(401)
    expect((await hook('store-b')).statusCode).toBe(200)
    env.clock.advance(retryAfter * 1000)
    expect((await hook('default')).statusCode).toBe(200)
  })

  it('unset means unlimited; a value that is not a rate stops start-up naming the variable', async () => {
    await start(undefined)
    const k = await key('default')
    for (let i = 0; i < 50; i++) expect((await send(k)).statusCode).toBe(202)
    const dir = env.config.dataDir
    for (const bad of ['lots', '10/fortnight', '-5', '1.5/s']) {
      await expect(loadConfig({ dataDir: dir }, { STOREFLOW_SECRET_KEY: 'k', STOREFLOW_INGEST_RATE_LIMIT: bad }, dir), bad).rejects.toThrow(
        /STOREFLOW_INGEST_RATE_LIMIT/,
      )
    }
  })
})
