import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ACCESS_TOKEN, STORE_HASH, startBigCommerceApi, type BigCommerceApiServer } from '../../../test/helpers/bigcommerce-api.ts'
import { DIALECTS, createTestEnv, type DialectName, type TestEnv } from '../../../test/helpers/dialects.ts'
import { apiClient, fakeResolver, startRecorder, type ApiClient, type Recorder } from '../../../test/helpers/outbound.ts'
import type { Resolver } from '../../lib/guarded-request.ts'
import { fixture, standardWebhookSignature } from '../testing.ts'

/**
 * SSRF through the BigCommerce connector: the connector's API URL is the
 * tenant's to choose, so every fetch it makes goes through the guarded client. Deliveries arrive
 * signed at POST /webhooks/bigcommerce/default; hits are counted by the servers themselves, and
 * what a store could read back is read through the HTTP API.
 */

const SECRET = 'bc-storeflow-client-secret'
// only the API serves this address: the webhook payload names the order and nothing else
const FETCHED_ONLY = 'jane.doe@example.com'

let bc: BigCommerceApiServer
beforeAll(async () => {
  bc = await startBigCommerceApi()
})
afterAll(() => bc.close())
beforeEach(() => bc.reset())

let env: TestEnv | null = null
let api: ApiClient | null = null
afterEach(async () => {
  await api?.server.close()
  await env?.cleanup()
  env = null
  api = null
})

async function start(options: { dialect?: DialectName; env?: Record<string, string>; resolveHost?: Resolver; apiUrl: string }) {
  env = await createTestEnv(options.dialect ?? 'sqlite', { env: options.env ?? {}, ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}) })
  api = await apiClient(env)
  const added = await api.call('POST', '/api/v1/connectors', {
    platform: 'bigcommerce',
    secrets: [SECRET],
    api_url: options.apiUrl,
    access_token: ACCESS_TOKEN,
  })
  expect(added.statusCode).toBe(201)
  return { env, api, connectorId: added.json().id as string }
}

async function deliver(client: ApiClient, e: TestEnv, file = 'store-order-created.json') {
  const body = fixture('bigcommerce', file)
  const id = `msg_${file}`
  const ts = Math.floor(e.clock.now().getTime() / 1000)
  return client.server.inject({
    method: 'POST',
    url: '/webhooks/bigcommerce/default',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': standardWebhookSignature(Buffer.from(SECRET), id, ts, body),
    },
    payload: body,
  })
}

/** The delivery failed visibly (list, health) and nothing the fetch could have brought is readable. */
async function expectFailedDelivery(client: ApiClient, connectorId: string, error: RegExp) {
  const deliveries = await client.call('GET', '/api/v1/deliveries')
  const [failed] = deliveries.json().items
  expect(failed).toMatchObject({ status: 'failed', topic: 'store/order/created' })
  expect(failed.error).toMatch(error)
  expect((await client.call('GET', `/api/v1/connectors/${connectorId}/health`)).json()).toMatchObject({ deliveries_24h: 1, failures_24h: 1 })
  const events = await client.call('GET', '/api/v1/events')
  expect(events.statusCode).toBe(200)
  expect(events.json().items).toEqual([])
  const one = await client.call('GET', `/api/v1/deliveries/${failed.id}`)
  for (const body of [deliveries.body, events.body, one.body]) expect(body).not.toContain(FETCHED_ONLY)
}

describe.each(DIALECTS)('a BigCommerce API URL on a private address, on %s', (dialect) => {
  it('without STOREFLOW_ALLOW_PRIVATE_HTTP=1 the API server gets no request, the delivery fails naming the fix, and no fetched field is readable', async () => {
    const { api: client, env: e, connectorId } = await start({ dialect, apiUrl: bc.apiUrl })
    expect(bc.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/stores\//)
    const res = await deliver(client, e)
    expect(res.statusCode).toBe(503)
    expect(res.json().error.message).toMatch(/127\.0\.0\.1 is a private or loopback address; set STOREFLOW_ALLOW_PRIVATE_HTTP=1/)
    expect(bc.requests).toHaveLength(0)
    await expectFailedDelivery(client, connectorId, /private or loopback address/)
  })
})

describe('the BigCommerce connector goes through the guarded client', () => {
  it('allowed by the operator, the same local API is reached (the refusal above is the guard, not the setup)', async () => {
    const { api: client, env: e } = await start({ env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' }, apiUrl: bc.apiUrl })
    const res = await deliver(client, e)
    expect(res.statusCode).toBe(200)
    expect(bc.requests.length).toBeGreaterThan(0)
    expect((await client.call('GET', '/api/v1/events')).body).toContain(FETCHED_ONLY)
  })

  it('a public-looking host name that resolves to 127.0.0.1 is refused after lookup; allowed, the same name reaches the server', async () => {
    const port = new URL(bc.apiUrl).port
    const resolveHost = fakeResolver({ 'api.shop-example.com': ['127.0.0.1'] })
    const apiUrl = `http://api.shop-example.com:${port}/stores/${STORE_HASH}`
    const { api: client, env: e, connectorId } = await start({ apiUrl, resolveHost })
    const res = await deliver(client, e)
    expect(res.statusCode).toBe(503)
    expect(res.json().error.message).toMatch(/api\.shop-example\.com resolves to 127\.0\.0\.1, a private or loopback address/)
    expect(bc.requests).toHaveLength(0)
    expect(resolveHost.calls).toContain('api.shop-example.com')
    await expectFailedDelivery(client, connectorId, /private or loopback address/)
    await api!.server.close()
    await e.cleanup()

    // control: the name leads to the local server only through the injected answer
    const allowed = await start({ env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' }, apiUrl, resolveHost })
    expect((await deliver(allowed.api, allowed.env)).statusCode).toBe(200)
    expect(bc.requests.length).toBeGreaterThan(0)
  })

  describe('with private addresses allowed (the servers here are local)', () => {
    const servers: Recorder[] = []
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()))
    })
    const allow = { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' }

    it('a redirect is refused: its target is never reached', async () => {
      const redirector = await startRecorder((res, hit) => res.writeHead(302, { location: `${bc.apiUrl.replace(/\/stores\/.*$/, '')}${hit.path}` }).end())
      servers.push(redirector)
      const { api: client, env: e, connectorId } = await start({ env: allow, apiUrl: `${redirector.url}/stores/${STORE_HASH}` })
      const res = await deliver(client, e)
      expect(res.statusCode).toBe(503)
      expect(redirector.hits).toHaveLength(1)
      expect(bc.requests).toHaveLength(0)
      await expectFailedDelivery(client, connectorId, /answered 302, a redirect to http:\/\/127\.0\.0\.1:\d+; redirects are not followed/)
    })

    it('a 50 MB answer is cut off at the size cap: the server never gets to send it all, nothing of it is kept', async () => {
      const total = 50 * 1024 * 1024
      let sent = 0
      let hungUp = false
      const flood = await startRecorder((res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        const chunk = Buffer.from(`{"id":250,"email":"${FETCHED_ONLY}","pad":"${'x'.repeat(64 * 1024)}"}`)
        const pump = () => {
          while (!hungUp && sent < total) {
            sent += chunk.length
            if (!res.write(chunk)) return
          }
          if (sent >= total) res.end()
        }
        res.on('drain', pump)
        res.on('close', () => {
          hungUp = true
        })
        pump()
      })
      servers.push(flood)
      const { api: client, env: e, connectorId } = await start({ env: allow, apiUrl: `${flood.url}/stores/${STORE_HASH}` })
      const res = await deliver(client, e)
      expect(res.statusCode).toBe(503)
      await expectFailedDelivery(client, connectorId, /larger than the \d+-byte limit/)
      await expect.poll(() => hungUp).toBe(true)
      expect(sent).toBeLessThan(total)
    })

    it('a server that never finishes answering hits the configured time cap', async () => {
      const slow = await startRecorder((res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"id":250,')
      })
      servers.push(slow)
      const {
        api: client,
        env: e,
        connectorId,
      } = await start({ env: { ...allow, STOREFLOW_HTTP_TIMEOUT_MS: '300' }, apiUrl: `${slow.url}/stores/${STORE_HASH}` })
      const res = await deliver(client, e)
      expect(res.statusCode).toBe(503)
      expect(slow.hits).toHaveLength(1)
      await expectFailedDelivery(client, connectorId, /within the 300 ms time limit/)
    })
  })
})
