import { beforeEach, describe, expect, it } from 'vitest'
import { useApiEnv } from '../../test/helpers/api-env.ts'
import { DIALECTS } from '../../test/helpers/dialects.ts'

/**
 * Shapes of a request no handler expects, found by an attacker's review: a query parameter given
 * twice (Fastify makes it a list, which reached the database as a row value: 500) and a JSON body
 * nested hundreds of thousands of levels (the workflow route's JSON.stringify overflowed: 500).
 * Both are the client's mistake: 400 naming the parameter or the limit, on every route.
 */
describe.each(DIALECTS)('request shapes on %s', (dialect) => {
  const api = useApiEnv(dialect)

  it('a query parameter given twice: 400 naming it', async () => {
    for (const url of [
      '/api/v1/runs?workflow=a&workflow=b',
      '/api/v1/runs?status=running&status=failed',
      '/api/v1/events?type=a.b&type=c.d',
      '/api/v1/events?customer=1&customer=2',
      '/api/v1/messages?status=sent&status=queued',
      '/api/v1/deliveries?status=failed&status=processed',
      '/api/v1/workflows/w?version=1&version=2',
    ]) {
      const res = await api.server.inject({ method: 'GET', url, headers: api.headers })
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400)
      expect(res.json().error.message, url).toMatch(/more than once/)
    }
  })

  it('an event sent as text or as a form: 400 saying to send JSON', async () => {
    const event = JSON.stringify({ id: 'e-1', type: 'customer.created', data: { id: 'c-1', email: 'ada@example.com', accepts_marketing: false } })
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await api.server.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: { authorization: `Bearer ${api.admin}`, 'content-type': type },
        payload: event,
      })
      expect(res.statusCode, type).toBe(400)
      expect(res.json().error.message, type).toContain('Content-Type: application/json')
    }
  })

  it('values no handler can take are refused, naming the field, not answered as if absent', async () => {
    const admin = { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' }
    const runs = await api.server.inject({ method: 'GET', url: '/api/v1/runs?status=flying', headers: api.headers })
    expect(runs.statusCode, runs.body).toBe(400)
    expect(runs.json().error.message).toBe('status must be one of running, waiting, completed, exited, failed, cancelled')
    const event = { id: 'e-h', type: 'customer.created', data: { id: 'c-h', email: 'h@example.com' } }
    const history = await api.server.inject({ method: 'POST', url: '/api/v1/events?history=maybe', headers: admin, payload: event })
    expect(history.statusCode, history.body).toBe(400)
    expect(history.json().error.message).toBe('history: must be true or false (1 or 0), got "maybe"')
    // a JSON string is JSON: the answer says what is wrong with it, not that the content type is
    const text = await api.server.inject({ method: 'POST', url: '/api/v1/events', headers: admin, payload: '"hi"' })
    expect(text.statusCode, text.body).toBe(400)
    expect(text.json().error.message).toBe('body: must be one event object or { "events": [...] }; got a JSON string')
    // a field of several types says which, and whether it was missing (zod alone says "Invalid input")
    for (const [payload, path, message] of [
      [{ type: 'order.paid', data: { id: '1' } }, 'id', 'required: a string or a number'],
      [{ id: {}, type: 'customer.created', data: { id: '1' } }, 'id', 'must be a string or a number; got object'],
      [
        { id: 'e-t', type: 'order.paid', data: { id: '1', currency: 'USD', total_price: true } },
        'data.total_price',
        'must be a number or a string; got boolean',
      ],
      [{ events: 'x' }, 'events', 'expected an array'],
      [{ id: 1.5, type: 'customer.created', data: { id: '1' } }, 'id', 'must be a string or a whole number; got number'],
    ] as const) {
      const res = await api.server.inject({ method: 'POST', url: '/api/v1/events', headers: admin, payload })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().error.details.issues, JSON.stringify(payload)).toContainEqual({ path, message })
    }
    // a new workflow's id has at most 64 characters
    const longId = await api.server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/yaml' },
      payload: `id: ${'w'.repeat(65)}\nname: W\ntrigger: { event: order.paid }\nsteps:\n  - action: log\n    with: { message: x }\n`,
    })
    expect(longId.statusCode, longId.body).toBe(400)
    expect(longId.json().error).toMatchObject({ message: 'id: at most 64 characters', details: { field: 'id' } })
    // settings of null, or no body at all: 400, not a silent no-op
    for (const request of [{ headers: admin, payload: 'null' }, { headers: { authorization: `Bearer ${api.admin}` } }]) {
      const settings = await api.server.inject({ method: 'PUT', url: '/api/v1/settings', ...request })
      expect(settings.statusCode, settings.body).toBe(400)
      expect(settings.json().error.message).toMatch(/^body: /)
    }
    // nothing of it was stored
    const stored = await api.server.inject({ method: 'GET', url: '/api/v1/events', headers: api.headers })
    expect(stored.json().items ?? stored.json().data ?? stored.json()).toEqual([])
  })

  it('an event time in the years 0000–0099 is kept as sent (not read as 19xx)', async () => {
    const admin = { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' }
    for (const [id, at, kept] of [
      ['e-y0', '0000-03-01T00:00:00Z', '0000-03-01T00:00:00.000Z'],
      ['e-y99', '0099-12-31T23:00:00-02:00', '0100-01-01T01:00:00.000Z'],
    ] as const) {
      const res = await api.server.inject({
        method: 'POST',
        url: '/api/v1/events?history=true',
        headers: admin,
        payload: { id, type: 'customer.created', occurred_at: at, data: { id: `c-${id}`, email: `${id}@example.com` } },
      })
      expect(res.statusCode, res.body).toBe(202)
      const row = await api.env.app.handle.db.selectFrom('events').select('occurred_at').where('id', '=', id).executeTakeFirstOrThrow()
      expect(row.occurred_at).toBe(kept)
    }
  })

  it('an event time more than a year ahead of the clock is refused, naming occurred_at; days ahead are taken', async () => {
    const admin = { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' }
    const at = (ms: number) => new Date(api.env.clock.now().getTime() + ms).toISOString()
    const post = (id: string, occurred_at: string, first_name: string) =>
      api.server.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: admin,
        payload: { id, type: 'customer.updated', occurred_at, data: { id: 'c-f', email: 'f@example.com', first_name } },
      })
    const future = await post('e-far', '9999-12-31T23:59:59Z', 'Future')
    expect(future.statusCode, future.body).toBe(400)
    expect(future.json().error.details.issues[0]).toMatchObject({ path: 'occurred_at', message: expect.stringMatching(/^is more than 366 days after now/) })
    expect((await post('e-ahead', at(367 * 86_400_000), 'Ahead')).statusCode).toBe(400)
    // minutes ahead (a shop's clock): taken, and a later profile still wins over it
    expect((await post('e-skew', at(5 * 60_000), 'Skew')).statusCode).toBe(202)
    api.env.clock.advance(10 * 60_000)
    expect((await post('e-now', at(0), 'Now')).statusCode).toBe(202)
    await api.env.app.engine.settle()
    const customer = await api.server.inject({ method: 'GET', url: '/api/v1/customers/c-f', headers: api.headers })
    expect(customer.json()).toMatchObject({ first_name: 'Now' })
  })

  it('a prototype key is refused naming the object that holds it, on the JSON routes; plain JSON errors stay as they were', async () => {
    const admin = { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' }
    for (const [url, method, payload, message] of [
      ['/api/v1/events', 'POST', '{"id":"p1","type":"order.paid","data":{"id":"1","__proto__":{"x":1}}}', 'data: a key "__proto__" is refused'],
      [
        '/api/v1/events',
        'POST',
        '{"events":[{"id":"p2","type":"customer.created","data":{"id":"2","customer":{"constructor":{"prototype":{}}}}}]}',
        'events[0].data.customer: a key "constructor" is refused',
      ],
      ['/api/v1/settings', 'PUT', '{"__proto__":{"frequency_cap":"1h"}}', 'body: a key "__proto__" is refused'],
      ['/api/v1/events', 'POST', '{"id":"p3",', 'body is not valid JSON'],
    ] as const) {
      const res = await api.server.inject({ method, url, headers: admin, payload })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().error).toMatchObject({ code: 'bad_request', message: expect.stringContaining(message) })
    }
    // deep down (where the depth limit refuses the body anyway) the key is not looked for: the plain
    // refusal, from a walk that never goes past the limit (a body near 1 MiB of nesting took 17 s
    // when each level copied its path); within the limit, the path is named, cut to 200 characters
    const deep = `${'{"a":'.repeat(170_000)}{"__proto__":1}${'}'.repeat(170_000)}`
    const refused = await api.server.inject({ method: 'POST', url: '/api/v1/events', headers: admin, payload: deep })
    expect(refused.statusCode).toBe(400)
    expect(refused.json().error.message).toContain('body is not valid JSON')
    const long = `{"id":"p4","type":"customer.created","data":${'{"abcdefghij":'.repeat(40)}{"__proto__":1}${'}'.repeat(40)}}`
    const named = await api.server.inject({ method: 'POST', url: '/api/v1/events', headers: admin, payload: long })
    expect(named.json().error.message).toMatch(/^data\.abcdefghij\.abcdefghij.{150,200}…: a key "__proto__" is refused/)
    const stored = await api.env.app.handle.db.selectFrom('events').select('id').execute()
    expect(stored).toEqual([])
  })

  it('a URL that is not valid percent-encoding: 400 in the API error shape', async () => {
    for (const url of ['/api/v1/customers/%ff', '/api/v1/customers/%C0%80']) {
      const res = await api.server.inject({ method: 'GET', url, headers: api.headers })
      expect(res.statusCode, url).toBe(400)
      expect(res.json().error, url).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/percent-encoded/) })
    }
  })

  it('a JSON body nested far too deep: 400 naming the limit, on every route that takes a body', async () => {
    const deep = `${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}`
    for (const [method, url] of [
      ['POST', '/api/v1/workflows'],
      ['PUT', '/api/v1/settings'],
      ['PUT', '/api/v1/message-templates/x'],
      ['POST', '/api/v1/connectors'],
      ['POST', '/api/v1/events'],
    ] as const) {
      const res = await api.server.inject({ method, url, headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' }, payload: deep })
      expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 300)}`).toBe(400)
      expect(res.json().error.message, url).toMatch(/deep/)
    }
  })
})

describe.each(DIALECTS)('the small lists page like every list, on %s', (dialect) => {
  const api = useApiEnv(dialect)
  const get = (url: string) => api.server.inject({ method: 'GET', url, headers: api.headers })
  beforeEach(async () => {
    for (const id of ['w1', 'w2', 'w3']) {
      const res = await api.server.inject({
        method: 'POST',
        url: '/api/v1/workflows',
        headers: api.headers,
        payload: { id, name: id, trigger: { event: 'order.paid' }, steps: [{ action: 'log', with: { message: 'hi' } }] },
      })
      expect(res.statusCode, res.body).toBe(201)
    }
  })

  it('workflows, message templates and connectors: limit and cursor checked and followed', async () => {
    for (const list of ['workflows', 'message-templates', 'connectors']) {
      for (const bad of ['limit=-1', 'limit=abc', 'limit=1000000', 'cursor=garbage']) {
        const res = await get(`/api/v1/${list}?${bad}`)
        expect(res.statusCode, `${list}?${bad}: ${res.body}`).toBe(400)
        expect(res.json().error.message).toMatch(bad.startsWith('limit') ? /^limit/ : /^cursor/)
      }
    }
    const first = (await get('/api/v1/workflows?limit=2')).json()
    expect(first.items.map((w: { id: string }) => w.id)).toEqual(['w1', 'w2'])
    const second = (await get(`/api/v1/workflows?limit=2&cursor=${first.next_cursor}`)).json()
    expect(second).toMatchObject({ items: [{ id: 'w3' }], next_cursor: null })
  })
})
