import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { createKey } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

const WORKFLOW = `
id: thank-you
name: Thank you
trigger: { event: order.paid }
when: 'order.total_price >= 20.0'
steps:
  - action: tag_customer
    id: tag
    with: { tags: ['buyer'] }
  - if: 'customer.orders_count > 1'
    then:
      - action: tag_customer
        with: { tags: ['repeat'] }
  - action: log
    with: { message: 'Thanks {{ customer.first_name }} for order {{ order.number }}' }
`

const order = (id: string, eventId: string, total: string, extra: Record<string, unknown> = {}) => ({
  id: eventId,
  type: 'order.paid',
  occurred_at: '2026-03-02T09:00:00Z',
  data: {
    id,
    number: `#${id}`,
    currency: 'USD',
    total_price: total,
    line_items: [{ sku: 'TEE-1', quantity: 1, price: total }],
    customer: { id: 'cust-1', email: 'Ada@Example.com', first_name: 'Ada', accepts_marketing: true },
    ...extra,
  },
})

describe.each(DIALECTS)('HTTP API on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let ingestKey: string
  let adminKey: string
  let readKey: string

  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: {} })
    server = await buildServer(env.app)
    const now = env.clock.now()
    ingestKey = (await createKey(env.app.handle.db, 'default', 'ingest', now)).key
    adminKey = (await createKey(env.app.handle.db, 'default', 'admin', now)).key
    readKey = (await createKey(env.app.handle.db, 'default', 'read', now)).key
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/yaml' },
      payload: WORKFLOW,
    })
    expect(res.statusCode).toBe(201)
    expect(
      (await server.inject({ method: 'POST', url: '/api/v1/workflows/thank-you/activate', headers: { authorization: `Bearer ${adminKey}` } })).json().active,
    ).toBe(true)
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  const post = (payload: unknown, key = ingestKey, url = '/api/v1/events') =>
    server.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object })
  const get = (url: string, key = readKey) => server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })

  it('an event sent over HTTP starts the workflow and the run timeline shows each step', async () => {
    const res = await post(order('1001', 'evt-1', '45.00'))
    expect(res.statusCode).toBe(202)
    expect(res.json()).toEqual({ id: 'evt-1', duplicate: false })
    await env.app.engine.drain()
    const runs = (await get('/api/v1/runs?workflow=thank-you')).json()
    expect(runs.items).toHaveLength(1)
    expect(runs.items[0]).toMatchObject({
      workflow_id: 'thank-you',
      workflow_version: 1,
      status: 'completed',
      trigger_event_id: 'evt-1',
      customer_id: 'cust-1',
      customer_email: 'ada@example.com',
    })
    const run = (await get(`/api/v1/runs/${runs.items[0].id}`)).json()
    expect(run.steps.map((s: { id: string; type: string; status: string }) => `${s.id}:${s.type}:${s.status}`)).toEqual([
      'tag:tag_customer:completed',
      's2:if:completed',
      's3:log:completed',
    ])
    expect(run.steps[0]).toMatchObject({ attempts: 1, input: { tags: ['buyer'] }, output: { added: ['buyer'] } })
    expect(run.steps[1].output).toEqual({ result: false, branch: 'else' })
    expect(run.steps[2].output.message).toBe('Thanks Ada for order #1001')
    const customer = (await get('/api/v1/customers/cust-1')).json()
    expect(customer).toMatchObject({ id: 'cust-1', email: 'ada@example.com', orders_count: 1, total_spent: 45, tags: ['buyer'], accepts_marketing: true })
  })

  it('the same event id twice starts one run; the second answer says duplicate', async () => {
    expect((await post(order('1001', 'evt-1', '45.00'))).statusCode).toBe(202)
    const again = await post(order('1001', 'evt-1', '45.00'))
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ id: 'evt-1', duplicate: true })
    await env.app.engine.drain()
    expect((await get('/api/v1/runs')).json().items).toHaveLength(1)
  })

  it('a malformed event gets 400 naming the field, and nothing of its batch is stored', async () => {
    const bad = order('1002', 'evt-2', '10.00')
    ;(bad.data.line_items[0] as Record<string, unknown>).quantity = 'two'
    const res = await post({ events: [order('1003', 'evt-3', '30.00'), bad] })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('validation_failed')
    expect(res.json().error.message).toContain('events[1].data.line_items[0].quantity')
    expect(res.json().error.details.issues[0].path).toBe('events[1].data.line_items[0].quantity')
    expect((await get('/api/v1/events')).json().items).toHaveLength(0)

    const noType = await post({ id: 'x', data: {} })
    expect(noType.statusCode).toBe(400)
    expect(noType.json().error.message).toMatch(/^type: /)
    const badJson = await server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
      payload: '{"id": ',
    })
    expect(badJson.statusCode).toBe(400)
    expect(badJson.json().error.code).toBe('bad_request')
  })

  it('answers 413 over the body limit, 401 without a key, 403 with the wrong scope', async () => {
    const huge = order('1', 'big', '1.00', { note: 'x'.repeat(env.app.config.bodyLimit + 10) })
    const res = await post(huge)
    expect(res.statusCode).toBe(413)
    expect(res.json().error.code).toBe('payload_too_large')
    expect((await server.inject({ method: 'POST', url: '/api/v1/events', payload: order('1', 'a', '1') })).statusCode).toBe(401)
    expect((await post(order('1', 'a', '1'), readKey)).statusCode).toBe(403)
    expect((await post(order('1', 'a', '1'), adminKey)).statusCode).toBe(202)
  })

  it('history events update the view but start no runs', async () => {
    const res = await post({ events: [order('900', 'h-1', '100.00'), order('901', 'h-2', '50.00')] }, ingestKey, '/api/v1/events?history=true')
    expect(res.statusCode).toBe(202)
    await env.app.engine.drain()
    expect((await get('/api/v1/runs')).json().items).toHaveLength(0)
    expect((await get('/api/v1/customers/cust-1')).json()).toMatchObject({ orders_count: 2, total_spent: 150 })
    // the next live order is the customer's third: the repeat branch runs
    await post(order('902', 'live-1', '20.00'))
    await env.app.engine.drain()
    expect((await get('/api/v1/customers/cust-1')).json().tags).toEqual(['buyer', 'repeat'])
  })

  it('settings: GET has the defaults, PUT changes only the named keys and names a bad field', async () => {
    expect((await get('/api/v1/settings')).json()).toEqual({
      store_name: 'My store',
      cart_abandoned_after: '1h',
      frequency_cap: '16h',
      quiet_hours: { start: '21:00', end: '08:00' },
      attribution_window: '5d',
      attribution_opens: false,
      inactive_after: '90d',
      renewal_notice: '7d',
      shop_url: null,
      review_url: null,
      brand: { logo_url: null, logo_width: 160, logo_height: 48, primary_color: null, background_color: '#f4f4f5', footer_text: null },
    })
    const put = await server.inject({
      method: 'PUT',
      url: '/api/v1/settings',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { frequency_cap: '24h' },
    })
    expect(put.json().frequency_cap).toBe('24h')
    expect(put.json().inactive_after).toBe('90d')
    const bad = await server.inject({
      method: 'PUT',
      url: '/api/v1/settings',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { quiet_hours: { start: '25:00', end: '08:00' } },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.message).toContain('quiet_hours.start')
    expect((await server.inject({ method: 'PUT', url: '/api/v1/settings', headers: { authorization: `Bearer ${readKey}` }, payload: {} })).statusCode).toBe(403)
    // null switches a guardrail off
    const off = await server.inject({
      method: 'PUT',
      url: '/api/v1/settings',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { quiet_hours: null, frequency_cap: null },
    })
    expect(off.statusCode).toBe(200)
    expect(off.json()).toMatchObject({ quiet_hours: null, frequency_cap: null, inactive_after: '90d' })
  })

  it('a workflow whose condition does not compile is rejected naming the line', async () => {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/yaml' },
      payload: 'id: broken\nname: Broken\ntrigger: { event: order.paid }\nwhen: "order.total_price >"\nsteps:\n  - action: log\n    with: { message: hi }\n',
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.message).toMatch(/line 4 \(when\): condition does not compile/)
    const unknown = await server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/yaml' },
      payload: 'id: broken\nname: Broken\ntrigger: { event: order.paid }\nsteps:\n  - action: log\n    with: { message: hi }\n  - action: teleport\n',
    })
    expect(unknown.json().error.message).toMatch(/line 7 \(steps\[1\]\.action\): unknown action "teleport"/)
    expect((await get('/api/v1/workflows')).json().items.map((w: { id: string }) => w.id)).toEqual(['thank-you'])
  })

  it('runs pin their version; a cancelled run stops', async () => {
    await post(order('1', 'e-a', '25.00'))
    // routed before the new version is saved: its run keeps version 1
    await env.app.engine.settle()
    const v2 = WORKFLOW.replace("tags: ['buyer']", "tags: ['buyer-v2']").replace('steps:\n', 'steps:\n  - wait: 1d\n')
    const res = await server.inject({
      method: 'PUT',
      url: '/api/v1/workflows/thank-you',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/yaml' },
      payload: v2,
    })
    expect(res.json().version).toBe(2)
    await post(order('2', 'e-b', '25.00', { customer: { id: 'cust-2', email: 'b@example.com' } }))
    await env.app.engine.drain()
    const runs = (await get('/api/v1/runs')).json().items as Array<{ id: string; workflow_version: number; status: string }>
    expect(runs.map((r) => [r.workflow_version, r.status]).sort()).toEqual([
      [1, 'completed'],
      [2, 'waiting'],
    ])
    const waiting = runs.find((r) => r.status === 'waiting')!
    const cancelled = await server.inject({ method: 'POST', url: `/api/v1/runs/${waiting.id}/cancel`, headers: { authorization: `Bearer ${adminKey}` } })
    expect(cancelled.json().status).toBe('cancelled')
    env.clock.advance(2 * 86_400_000)
    await env.app.engine.drain()
    expect((await get(`/api/v1/runs/${waiting.id}`)).json().steps.map((s: { id: string }) => s.id)).toEqual(['s1'])
  })
})
