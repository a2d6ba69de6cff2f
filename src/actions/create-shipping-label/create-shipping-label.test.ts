import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestEnv, DIALECTS, type TestEnv } from '../../../test/helpers/dialects.ts'
import { installWorkflow } from '../../../test/helpers/workflows.ts'
import { parseEvent } from '../../contracts/events.ts'
import { buildServer } from '../../http/server.ts'
import { createKey, createStore } from '../../store/stores.repo.ts'

/**
 * A Shippo stand-in on 127.0.0.1 that follows https://docs.goshippo.com: `Authorization:
 * ShippoToken <token>` or 401 `{ detail }`; POST /shipments/ needs address_from, address_to,
 * parcels and async false and answers rates; POST /transactions/ buys a rate (metadata kept);
 * GET /transactions/?rate= lists what was bought with it. `answers` forces the next answers of a
 * path (429 with Retry-After, 503); `chargeThenFail` buys the label and then answers 503.
 */
async function startShippo(tokens: string[]) {
  const requests: Array<{ method: string; path: string; auth: string | undefined; body: any }> = []
  const purchases: Array<{ object_id: string; rate: string; metadata: string; tracking_number: string; token: string }> = []
  const answers: Record<string, Array<{ status: number; headers?: Record<string, string>; body: unknown }>> = {}
  const state = { chargeThenFail: 0 }
  const RATES = [
    {
      object_id: 'rate_slow',
      amount: '4.10',
      currency: 'USD',
      provider: 'USPS',
      servicelevel: { name: 'Ground Advantage', token: 'usps_ground_advantage' },
      estimated_days: 5,
    },
    { object_id: 'rate_mid', amount: '7.90', currency: 'USD', provider: 'UPS', servicelevel: { name: 'Ground', token: 'ups_ground' }, estimated_days: 3 },
    {
      object_id: 'rate_fast',
      amount: '24.00',
      currency: 'USD',
      provider: 'FedEx',
      servicelevel: { name: 'Priority Overnight', token: 'fedex_priority_overnight' },
      estimated_days: 1,
    },
  ]
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    })
  const server = createServer(async (req, res) => {
    const raw = await read(req)
    const url = new URL(req.url ?? '/', 'http://x')
    const body = raw ? JSON.parse(raw) : null
    const auth = req.headers.authorization
    requests.push({ method: req.method ?? '', path: url.pathname + url.search, auth, body })
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload))
    const token = auth?.startsWith('ShippoToken ') ? auth.slice('ShippoToken '.length) : null
    if (!token || !tokens.includes(token)) return send(401, { detail: 'Invalid token.' })
    const forced = answers[`${req.method} ${url.pathname}`]?.shift()
    if (forced) return send(forced.status, forced.body, forced.headers)
    if (req.method === 'POST' && url.pathname === '/shipments/') {
      if (!body?.address_from || !body?.address_to?.country || !Array.isArray(body?.parcels) || body.parcels.length === 0 || body.async !== false)
        return send(400, { address_to: ['This field is required.'] })
      return send(201, { object_id: 'shp_1', status: 'SUCCESS', rates: RATES, messages: [] })
    }
    if (req.method === 'POST' && url.pathname === '/transactions/') {
      if (!RATES.some((r) => r.object_id === body?.rate) || !body?.label_file_type) return send(400, { rate: ['Invalid rate.'] })
      const n = purchases.length + 1
      const t = { object_id: `txn_${n}`, rate: body.rate, metadata: body.metadata ?? '', tracking_number: `9400TRACK${n}`, token }
      purchases.push(t)
      if (state.chargeThenFail > 0) {
        state.chargeThenFail--
        return send(503, { detail: 'Service temporarily unavailable.' })
      }
      return send(201, { ...t, status: 'SUCCESS', label_url: `https://shippo-delivery.example/label_${n}.pdf`, messages: [] })
    }
    if (req.method === 'GET' && url.pathname === '/transactions/') {
      const rate = url.searchParams.get('rate')
      const results = purchases
        .filter((p) => p.rate === rate && p.token === token)
        .map((p) => ({ ...p, status: 'SUCCESS', label_url: `https://shippo-delivery.example/label_${p.object_id.slice(4)}.pdf` }))
      return send(200, { next: null, previous: null, results })
    }
    send(404, { detail: 'Not found.' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, requests, purchases, answers, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const LABEL_WORKFLOW = `
id: ship
name: Label on payment
trigger: { event: order.paid }
steps:
  - action: create_shipping_label
    id: label
    with: { max_days: 3 }
`

const SHIP_FROM = { name: 'Mug Shop', street1: '215 Clayton St.', city: 'San Francisco', state: 'CA', zip: '94117', country: 'US' }
const PARCEL = { length: '10', width: '10', height: '10', distance_unit: 'cm', weight: '500', mass_unit: 'g' }

describe.each(DIALECTS)('create_shipping_label and the Shippo tracking webhook on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let shippo: Awaited<ReturnType<typeof startShippo>>
  const admin: Record<string, string> = {}

  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    server = await buildServer(env.app)
    shippo = await startShippo(['shippo_test_a', 'shippo_test_b'])
    await createStore(env.app.handle.db, { id: 'b' }, env.clock.now())
    for (const store of ['default', 'b']) admin[store] = (await createKey(env.app.handle.db, store, 'admin', env.clock.now())).key
  })
  afterEach(async () => {
    await server.close()
    await shippo.close()
    await env.cleanup()
  })

  const integrate = async (store: string, token: string, webhookToken = `whtok-${store}-0123456789abcdef`) => {
    const res = await server.inject({
      method: 'PUT',
      url: '/api/v1/integrations/shippo',
      headers: { authorization: `Bearer ${admin[store]}` },
      payload: {
        api_url: shippo.url,
        credentials: { api_token: token, webhook_token: webhookToken },
        config: { ship_from: SHIP_FROM, default_parcel: PARCEL },
      },
    })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }
  const paid = async (store: string, orderId: string) => {
    const parsed = parseEvent(
      {
        id: `paid-${store}-${orderId}`,
        type: 'order.paid',
        store,
        data: {
          id: orderId,
          currency: 'USD',
          total_price: '40.00',
          financial_status: 'paid',
          customer: { id: 'c1', email: 'c1@example.com' },
          shipping_address: {
            first_name: 'Ada',
            last_name: 'Byron',
            address1: '1 Main St',
            city: 'Austin',
            province_code: 'TX',
            zip: '78701',
            country_code: 'US',
          },
        },
      },
      { store, now: env.clock.now() },
    )
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.settle()
    await env.app.engine.drain()
  }
  const step = async (store: string, stepId = 'label') => {
    const row = await env.app.handle.db
      .selectFrom('run_steps')
      .selectAll()
      .where('store_id', '=', store)
      .where('step_id', '=', stepId)
      .executeTakeFirstOrThrow()
    return { ...row, output: row.output ? JSON.parse(row.output) : null }
  }

  it("buys the cheapest rate that arrives in time, with each store's own token; a store without the integration fails clearly", async () => {
    const view = await integrate('default', 'shippo_test_a')
    expect(view).toMatchObject({ kind: 'shippo', credentials_set: ['api_token', 'webhook_token'], api_url_overridden: true })
    expect(JSON.stringify(view)).not.toContain('shippo_test_a')
    await integrate('b', 'shippo_test_b')
    await createStore(env.app.handle.db, { id: 'c' }, env.clock.now())
    for (const store of ['default', 'b', 'c']) await installWorkflow(env.app, LABEL_WORKFLOW, { store })
    await paid('default', '1001')
    await paid('b', '1001')
    await paid('c', '1001')

    expect(await step('default')).toMatchObject({
      status: 'completed',
      output: {
        carrier: 'UPS',
        service: 'Ground',
        amount: '7.90',
        currency: 'USD',
        estimated_days: 3,
        tracking_number: '9400TRACK1',
        label_url: 'https://shippo-delivery.example/label_1.pdf',
      },
    })
    expect((await step('b')).output).toMatchObject({ carrier: 'UPS', tracking_number: '9400TRACK2' })
    // each store's requests carried its own token, never the other's
    const shipments = shippo.requests.filter((r) => r.path === '/shipments/')
    expect(shipments.map((r) => r.auth)).toEqual(['ShippoToken shippo_test_a', 'ShippoToken shippo_test_b'])
    expect(shipments[0]!.body).toMatchObject({
      address_from: SHIP_FROM,
      address_to: { name: 'Ada Byron', street1: '1 Main St', city: 'Austin', state: 'TX', zip: '78701', country: 'US', email: 'c1@example.com' },
      parcels: [PARCEL],
      async: false,
    })
    const txns = shippo.requests.filter((r) => r.path === '/transactions/')
    expect(txns.map((r) => [r.auth, r.body.rate, r.body.label_file_type])).toEqual([
      ['ShippoToken shippo_test_a', 'rate_mid', 'PDF_4x6'],
      ['ShippoToken shippo_test_b', 'rate_mid', 'PDF_4x6'],
    ])
    const c = await step('c')
    expect(c.status).toBe('failed')
    expect(c.error).toContain('no shippo integration')
    expect(shippo.requests).toHaveLength(4)
  })

  it('a credential with a line break or of absurd length is a 400 naming it, not a step failing later on every run', async () => {
    const put = (credentials: Record<string, string>) =>
      server.inject({
        method: 'PUT',
        url: '/api/v1/integrations/shippo',
        headers: { authorization: `Bearer ${admin.default}` },
        payload: { api_url: shippo.url, credentials, config: { ship_from: SHIP_FROM, default_parcel: PARCEL } },
      })
    for (const [credentials, field] of [
      [{ api_token: 'shippo_test_a\r\nX-Injected: 1', webhook_token: 'whtok' }, 'credentials.api_token'],
      [{ api_token: 'shippo_test_a', webhook_token: 'wh\u0007tok' }, 'credentials.webhook_token'],
      [{ api_token: 'shippo_test_a', webhook_token: 'short-token' }, 'credentials.webhook_token'],
      [{ api_token: 'x'.repeat(5000), webhook_token: 'whtok' }, 'credentials.api_token'],
    ] as const) {
      const res = await put(credentials)
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().error.details.field).toBe(field)
      // the answer names the field, never echoes the secret
      expect(res.body).not.toContain('shippo_test_a')
    }
    const listed = await server.inject({ method: 'GET', url: '/api/v1/integrations', headers: { authorization: `Bearer ${admin.default}` } })
    expect(listed.json().items).toEqual([])
  })

  it('a deliver_by that is not a calendar date fails the step naming it before Shippo is asked anything', async () => {
    await integrate('default', 'shippo_test_a')
    await installWorkflow(
      env.app,
      `
id: ship
name: Label by the promised date
trigger: { event: order.paid }
steps:
  - action: create_shipping_label
    id: label
    with: { deliver_by: '{{ trigger.data.promised }}' }
`,
    )
    const parsed = parseEvent(
      {
        id: 'paid-bad-date',
        type: 'order.paid',
        store: 'default',
        data: { id: '1002', currency: 'USD', total_price: '1.00', promised: '2026-13-45', shipping_address: { country_code: 'US', zip: '78701' } },
      },
      { store: 'default', now: env.clock.now() },
    )
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.settle()
    await env.app.engine.drain()
    const label = await step('default')
    expect(label.status).toBe('failed')
    expect(label.error).toContain('deliver_by')
    expect(label.error).not.toContain('NaN')
    expect(shippo.requests).toEqual([])
  })

  it('401 fails the step for good naming the token; 429 waits for Retry-After on the clock; an outage after the charge does not buy twice', async () => {
    await integrate('default', 'shippo_revoked')
    await installWorkflow(env.app, LABEL_WORKFLOW)
    await paid('default', '2001')
    const refused = await step('default')
    expect(refused).toMatchObject({ status: 'failed', attempts: 1 })
    expect(refused.error).toContain('refused the credentials (401: Invalid token.)')
    expect(refused.error).toContain('api_token')

    await integrate('default', 'shippo_test_a')
    shippo.answers['POST /shipments/'] = [
      { status: 429, headers: { 'retry-after': '120' }, body: { detail: 'Request was throttled. Expected available in 120 seconds.' } },
    ]
    shippo.state.chargeThenFail = 1
    await paid('default', '2002')
    const steps = async () =>
      (await env.app.handle.db.selectFrom('run_steps').selectAll().where('step_id', '=', 'label').orderBy('started_at').execute()).filter(
        (s) => s.status !== 'failed',
      )
    let [throttled] = await steps()
    expect(throttled).toMatchObject({ status: 'retrying', attempts: 1 })
    expect(throttled!.error).toContain('429')
    expect(new Date(throttled!.wake_at!).getTime() - env.clock.now().getTime()).toBe(120_000)
    env.clock.set(new Date(env.clock.now().getTime() + 119_999))
    await env.app.engine.drain()
    const asked = () => shippo.requests.filter((r) => r.path === '/shipments/' && r.auth === 'ShippoToken shippo_test_a')
    expect(asked()).toHaveLength(1)
    env.clock.set(new Date(throttled!.wake_at!))
    await env.app.engine.drain()
    // the rates came, the label was charged, then Shippo answered 503: retry
    ;[throttled] = await steps()
    expect(throttled).toMatchObject({ status: 'retrying', attempts: 2 })
    expect(throttled!.error).toContain('503')
    expect(shippo.purchases).toHaveLength(1)
    env.clock.set(new Date(throttled!.wake_at!))
    await env.app.engine.drain()
    ;[throttled] = await steps()
    expect(throttled!.status).toBe('completed')
    expect(JSON.parse(throttled!.output!)).toMatchObject({
      tracking_number: '9400TRACK1',
      label_url: 'https://shippo-delivery.example/label_1.pdf',
      amount: '7.90',
    })
    // found by the rate and the step's metadata: still one label; rates were asked twice (throttled, then answered), not a third time
    expect(shippo.purchases).toHaveLength(1)
    expect(shippo.purchases[0]!.metadata).toMatch(/:label$/)
    expect(shippo.requests.filter((r) => r.path.startsWith('/transactions/?rate=rate_mid'))).toHaveLength(1)
    expect(asked()).toHaveLength(2)
  })

  it('track_updated becomes shipment.updated on the order with its ETA, once per update; a wrong token or another store’s is 401', async () => {
    await integrate('default', 'shippo_test_a', 'tok-a-0123456789abcdef')
    await integrate('b', 'shippo_test_b', 'tok-b-0123456789abcdef')
    await installWorkflow(env.app, LABEL_WORKFLOW)
    await installWorkflow(
      env.app,
      `
id: eta
name: Tell the ETA
trigger: { event: shipment.updated }
steps:
  - action: log
    id: said
    with: { message: '{{ event.data.status }} {{ order.estimated_delivery_at }} {{ order.shipment_status }}' }
`,
    )
    await paid('default', '3001')
    const trackingNumber = (await step('default')).output.tracking_number as string
    const delivery = (status: string, eta: string, date: string, substatus?: string) => ({
      event: 'track_updated',
      test: true,
      data: {
        carrier: 'ups',
        tracking_number: trackingNumber,
        eta,
        servicelevel: { token: 'ups_ground', name: 'Ground' },
        tracking_status: {
          status,
          status_details: 'Your shipment has departed from the origin.',
          status_date: date,
          object_id: `ts_${date}`,
          ...(substatus ? { substatus: { code: substatus, text: '', action_required: false } } : {}),
        },
      },
    })
    const post = (url: string, payload: Record<string, unknown>) => server.inject({ method: 'POST', url, payload })

    expect((await post('/webhooks/shippo/default', delivery('TRANSIT', '2026-03-09T18:00:00Z', '2026-03-05T10:00:00Z'))).statusCode).toBe(401)
    expect(
      (await post('/webhooks/shippo/default?token=tok-b-0123456789abcdef', delivery('TRANSIT', '2026-03-09T18:00:00Z', '2026-03-05T10:00:00Z'))).statusCode,
    ).toBe(401)
    // B's own token on B's URL: B has no label with this number, nothing happens in either store
    const toB = await post('/webhooks/shippo/b?token=tok-b-0123456789abcdef', delivery('TRANSIT', '2026-03-09T18:00:00Z', '2026-03-05T10:00:00Z'))
    expect(toB.json()).toMatchObject({ accepted: false })

    const first = await post('/webhooks/shippo/default?token=tok-a-0123456789abcdef', delivery('TRANSIT', '2026-03-09T18:00:00Z', '2026-03-05T10:00:00Z'))
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json()).toMatchObject({ accepted: true, duplicate: false })
    const again = await post('/webhooks/shippo/default?token=tok-a-0123456789abcdef', delivery('TRANSIT', '2026-03-09T18:00:00Z', '2026-03-05T10:00:00Z'))
    expect(again.json()).toMatchObject({ accepted: true, duplicate: true })
    await env.app.engine.settle()
    await env.app.engine.drain()
    const later = () => env.clock.set(new Date(env.clock.now().getTime() + 60_000))
    later()
    await post('/webhooks/shippo/default?token=tok-a-0123456789abcdef', delivery('TRANSIT', '2026-03-10T18:00:00Z', '2026-03-09T07:00:00Z', 'out_for_delivery'))
    await env.app.engine.settle()
    await env.app.engine.drain()
    // a late delivery of an older update (status_date before the newest): an event, but the view keeps the newest
    later()
    await post('/webhooks/shippo/default?token=tok-a-0123456789abcdef', delivery('TRANSIT', '2026-03-20T18:00:00Z', '2026-03-06T10:00:00Z'))
    await env.app.engine.settle()
    await env.app.engine.drain()

    const events = await env.app.handle.db
      .selectFrom('events')
      .select(['store_id', 'type', 'data'])
      .where('type', '=', 'shipment.updated')
      .orderBy('occurred_at')
      .execute()
    expect(events.map((e) => [e.store_id, JSON.parse(e.data)])).toEqual([
      [
        'default',
        { order_id: '3001', status: 'in_transit', carrier: 'ups', tracking_number: trackingNumber, estimated_delivery_at: '2026-03-09T18:00:00.000Z' },
      ],
      [
        'default',
        { order_id: '3001', status: 'in_transit', carrier: 'ups', tracking_number: trackingNumber, estimated_delivery_at: '2026-03-20T18:00:00.000Z' },
      ],
      [
        'default',
        { order_id: '3001', status: 'out_for_delivery', carrier: 'ups', tracking_number: trackingNumber, estimated_delivery_at: '2026-03-10T18:00:00.000Z' },
      ],
    ])
    const said = (await env.app.handle.db.selectFrom('run_steps').select('output').where('step_id', '=', 'said').orderBy('started_at').execute()).map((r) =>
      JSON.parse(r.output!),
    )
    expect(said.map((o) => o.message)).toEqual([
      'in_transit 2026-03-09T18:00:00.000Z in_transit',
      'out_for_delivery 2026-03-10T18:00:00.000Z out_for_delivery',
      'in_transit 2026-03-10T18:00:00.000Z out_for_delivery',
    ])
  })
})
