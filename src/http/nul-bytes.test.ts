import { describe, expect, it } from 'vitest'
import { useApiEnv } from '../../test/helpers/api-env.ts'
import { DIALECTS } from '../../test/helpers/dialects.ts'
import { rowCounts } from '../../test/helpers/row-counts.ts'

/**
 * PostgreSQL refuses the NUL character in text and JSON (error 22021), SQLite keeps it: a NUL in
 * an event's data, a path parameter or a query parameter must be a 400 naming where it is on both,
 * never a 500 from the database, and nothing of the request is stored.
 */

const NUL = '\u0000'
const event = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'customer.updated',
  occurred_at: '2026-03-02T09:00:00Z',
  data: { id: 'c-1', email: 'ada@example.com', accepts_marketing: true, ...extra },
})

describe.each(DIALECTS)('the NUL character on %s', (dialect) => {
  const api = useApiEnv(dialect)

  const post = (payload: unknown) => api.server.inject({ method: 'POST', url: '/api/v1/events', headers: api.headers, payload: payload as object })

  it('in a value, a key or an id of an event: 400 naming the field, nothing stored', async () => {
    const before = await rowCounts(api.env.app.handle)
    for (const [payload, field] of [
      [event('e-1', { first_name: `Ada${NUL}` }), 'data.first_name'],
      [event('e-2', { note_attributes: { [`k${NUL}`]: 'v' } }), 'data.note_attributes'],
      [event(`e-3${NUL}`), 'id'],
      [{ events: [event('e-4'), event('e-5', { tags: ['a', `b${NUL}`] })] }, 'events[1].data.tags[1]'],
    ] as const) {
      const res = await post(payload)
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().error.message).toContain(field)
      expect(res.json().error.message).toMatch(/NUL/)
    }
    expect(await rowCounts(api.env.app.handle)).toEqual(before)
    // the same event without it is accepted
    expect((await post(event('e-1', { first_name: 'Ada' }))).statusCode).toBe(202)
  })

  it('in a path or query parameter: 400 naming the parameter, never a 500', async () => {
    for (const url of [
      '/api/v1/customers/%00',
      '/api/v1/runs/r%00',
      '/api/v1/workflows/w%00',
      '/api/v1/events?customer=%00',
      '/api/v1/runs?workflow=a%00b',
      '/api/v1/customers/42%00/export',
    ]) {
      const res = await api.server.inject({ method: 'GET', url, headers: api.headers })
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400)
      expect(res.json().error.message, url).toMatch(/NUL/)
    }
  })

  it('a workflow, a message template, settings, a connector: 400 naming the NUL, never 500', async () => {
    const headers = api.headers
    const workflow = { id: 'w1', name: `Thanks${NUL}`, trigger: { event: 'order.paid' }, steps: [{ action: 'log', with: { message: 'hi' } }] }
    for (const req of [
      { method: 'POST' as const, url: '/api/v1/workflows', payload: workflow },
      { method: 'PUT' as const, url: '/api/v1/message-templates/promo', payload: { subject: `Hi${NUL}`, html: '<p>x</p>' } },
      { method: 'PUT' as const, url: '/api/v1/settings', payload: { mail_from: `a${NUL}@example.com` } },
      { method: 'POST' as const, url: '/api/v1/connectors', payload: { platform: 'woocommerce', secrets: [`s${NUL}`] } },
    ]) {
      const res = await api.server.inject({ ...req, headers })
      expect(res.statusCode, `${req.method} ${req.url}: ${res.body}`).toBe(400)
      expect(res.json().error.message).toMatch(/NUL/)
    }
  })
})
