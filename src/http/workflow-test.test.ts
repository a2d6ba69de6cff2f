import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createKey, createStore } from '../store/stores.repo.ts'
import { createTestEnv, DIALECTS, type TestEnv } from '../../test/helpers/dialects.ts'
import { startHttpReceiver, type HttpReceiver } from '../../test/helpers/http-receiver.ts'
import { rowCounts } from '../../test/helpers/row-counts.ts'
import { startSmtpSink, type SmtpSink } from '../../test/helpers/smtp-sink.ts'
import { buildServer } from './server.ts'

/**
 * POST /api/v1/workflows/:id/test: one event through a stored workflow on a virtual clock, as
 * `storeflow simulate` does. What the user notices: the timeline and rendered messages in the
 * answer, and nothing else anywhere: every table's row count the same, no mail in the SMTP sink,
 * no request at the HTTP receiver.
 */

const journey = (receiver: string, subject: string) => `id: journey
name: Journey
trigger: { event: order.paid }
steps:
  - id: thanks
    action: send_email
    with: { template: thanks, category: transactional }
  - wait: 2d
  - id: hook
    action: http_request
    with: { url: '${receiver}/orders', body: { order: '{{ trigger.data.number }}' } }
  - if: 'trigger.data.total_price > 100.0'
    then:
      - exit: a big order
  - id: promo
    action: send_email
    with: { category: marketing, subject: '${subject}', html: '<p>More for {{ customer.first_name }}</p>' }
`

const paid = (id: string, total: string, acceptsMarketing = false) => ({
  id,
  type: 'order.paid',
  occurred_at: '2026-03-01T09:00:00Z',
  data: {
    id: `o-${id}`,
    number: '1001',
    currency: 'USD',
    total_price: total,
    customer: { id: 'c1', email: 'ann@example.com', first_name: '<b>Ann</b>', accepts_marketing: acceptsMarketing },
  },
})

for (const dialect of DIALECTS) {
  describe(`POST /api/v1/workflows/:id/test (${dialect})`, () => {
    let env: TestEnv
    let server: FastifyInstance
    let sink: SmtpSink
    let receiver: HttpReceiver
    let admin: { authorization: string }
    let read: { authorization: string }

    beforeEach(async () => {
      sink = await startSmtpSink()
      receiver = await startHttpReceiver()
      env = await createTestEnv(dialect, { env: { SMTP_URL: sink.url, STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
      server = await buildServer(env.app)
      const now = env.clock.now()
      admin = { authorization: `Bearer ${(await createKey(env.app.handle.db, 'default', 'admin', now)).key}` }
      read = { authorization: `Bearer ${(await createKey(env.app.handle.db, 'default', 'read', now)).key}` }
      const put = await server.inject({
        method: 'PUT',
        url: '/api/v1/message-templates/thanks',
        headers: admin,
        payload: { subject: 'Thanks {{ customer.first_name }} for order {{ trigger.data.number }}', html: '<p>Dear {{ customer.first_name }}</p>' },
      })
      expect(put.statusCode, put.body).toBe(200)
      for (const subject of ['First {{ customer.first_name }}', 'Second {{ customer.first_name }}']) {
        const saved = await server.inject({
          method: 'POST',
          url: '/api/v1/workflows',
          headers: { ...admin, 'content-type': 'application/yaml' },
          payload: journey(receiver.url, subject),
        })
        expect([200, 201], saved.body).toContain(saved.statusCode)
      }
      // active, so that a real run would start if the simulation leaked into the store
      expect((await server.inject({ method: 'POST', url: '/api/v1/workflows/journey/activate', headers: admin })).statusCode).toBe(200)
    })
    afterEach(async () => {
      await server.close()
      await env.cleanup()
      await sink.close()
      await receiver.close()
    })

    const test = (payload: unknown, headers = admin, id = 'journey') =>
      server.inject({ method: 'POST', url: `/api/v1/workflows/${id}/test`, headers, payload: payload as object })

    it('an event: the timeline on the virtual clock, the message rendered with the store template, the guarded request and marketing mail not performed; nothing stored or sent', async () => {
      const before = await rowCounts(env.app.handle)
      const res = await test({ event: paid('evt-sim-1', '45.00') })
      expect(res.statusCode, res.body).toBe(200)
      const out = res.json()
      expect(Object.keys(out)).toEqual(['started', 'run_status', 'reason', 'steps', 'messages'])
      expect(out).toMatchObject({ started: true, run_status: 'completed', reason: null })
      const steps = out.steps as Array<{ id: string; type: string; status: string; at: string; note: string; output: unknown }>
      expect(steps.map((s) => [s.id, s.type, s.status, s.at])).toEqual([
        ['thanks', 'send_email', 'completed', '2026-03-01T09:00:00.000Z'],
        [expect.any(String), 'wait', 'completed', '2026-03-03T09:00:00.000Z'],
        ['hook', 'http_request', 'completed', '2026-03-03T09:00:00.000Z'],
        [expect.any(String), 'if', 'completed', '2026-03-03T09:00:00.000Z'],
        ['promo', 'send_email', 'skipped', '2026-03-03T09:00:00.000Z'],
      ])
      expect(steps[1]!.note).toBe('waited until 2026-03-03T09:00:00.000Z')
      // the guarded request: named, not made
      expect(steps[2]!.note).toBe(`not performed in a simulation: POST ${receiver.url}/orders`)
      expect(steps[2]!.output).toEqual({ status: 0, headers: {}, body: { dry_run: true, method: 'POST', url: `${receiver.url}/orders` } })
      expect(steps[3]!.note).toBe('else')
      // the guardrail: no marketing consent
      expect(steps[4]!.output).toEqual({ skipped: true, reason: 'no_consent', message_id: null })
      expect(out.messages).toEqual([{ to: 'ann@example.com', subject: 'Thanks <b>Ann</b> for order 1001', html: expect.any(String) }])
      expect(out.messages[0].html).toContain('Dear &lt;b&gt;Ann&lt;/b&gt;')
      expect(out.messages[0].html).not.toContain('<b>Ann</b>')

      await env.app.engine.drain()
      expect(await rowCounts(env.app.handle)).toEqual(before)
      expect(sink.attempts()).toBe(0)
      expect(receiver.requests).toEqual([])
    })

    it('the exit applies on the virtual clock; with consent the marketing mail is rendered, not sent', async () => {
      const big = await test({ event: paid('evt-sim-big', '450.00') })
      expect(big.statusCode, big.body).toBe(200)
      expect(big.json()).toMatchObject({ run_status: 'exited' })
      const bigSteps = big.json().steps as Array<{ type: string; note: string; output: unknown }>
      expect(bigSteps.map((s) => s.type)).toEqual(['send_email', 'wait', 'http_request', 'if', 'exit'])
      expect(bigSteps[4]!.output).toEqual({ reason: 'a big order' })

      // no occurred_at: the virtual clock starts at the server's
      const { occurred_at: _, ...undated } = paid('evt-sim-undated', '45.00')
      const now = await test({ event: undated })
      expect(now.statusCode, now.body).toBe(200)
      expect(now.json().steps[0].at).toBe('2026-03-02T10:00:00.000Z')

      const consent = await test({ event: paid('evt-sim-consent', '45.00', true) })
      expect(consent.statusCode, consent.body).toBe(200)
      expect((consent.json().messages as Array<{ subject: string }>).map((m) => m.subject)).toEqual(['Thanks <b>Ann</b> for order 1001', 'Second <b>Ann</b>'])
      await env.app.engine.drain()
      expect(sink.attempts()).toBe(0)
      expect(receiver.requests).toEqual([])
    })

    it('event_id: a stored event of the store, through the current or a given version; nothing stored', async () => {
      const sent = await server.inject({ method: 'POST', url: '/api/v1/events?history=true', headers: admin, payload: paid('evt-stored', '45.00', true) })
      expect(sent.statusCode, sent.body).toBe(202)
      await env.app.engine.drain()
      const before = await rowCounts(env.app.handle)

      const current = await test({ event_id: 'evt-stored' })
      expect(current.statusCode, current.body).toBe(200)
      expect(current.json().steps[0].at).toBe('2026-03-01T09:00:00.000Z')
      expect(current.json().messages.map((m: { subject: string }) => m.subject)).toEqual(['Thanks <b>Ann</b> for order 1001', 'Second <b>Ann</b>'])
      const first = await test({ event_id: 'evt-stored', version: 1, at: '2026-04-01T00:00:00Z' })
      expect(first.statusCode, first.body).toBe(200)
      expect(first.json().steps[0].at).toBe('2026-04-01T00:00:00.000Z')
      expect(first.json().messages.map((m: { subject: string }) => m.subject)).toEqual(['Thanks <b>Ann</b> for order 1001', 'First <b>Ann</b>'])

      await env.app.engine.drain()
      expect(await rowCounts(env.app.handle)).toEqual(before)
      expect(sink.attempts()).toBe(0)
      expect(receiver.requests).toEqual([])
    })

    it('an event the trigger does not take: no run, and the reason', async () => {
      const res = await test({ event: { id: 'evt-c', type: 'customer.created', data: { id: 'c1', email: 'ann@example.com' } } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toEqual({
        started: false,
        run_status: null,
        reason: 'the workflow starts on order.paid, the event is customer.created',
        steps: [],
        messages: [],
      })
    })

    it('bad input is a 400 naming the field; unknown workflows, versions and events are 404; a read key is 403; nothing stored', async () => {
      await createStore(env.app.handle.db, { id: 'other', name: 'Other' }, env.clock.now())
      const otherKey = { authorization: `Bearer ${(await createKey(env.app.handle.db, 'other', 'admin', env.clock.now())).key}` }
      const otherEvent = await server.inject({ method: 'POST', url: '/api/v1/events', headers: otherKey, payload: paid('evt-other', '45.00') })
      expect(otherEvent.statusCode, otherEvent.body).toBe(202)
      await env.app.engine.drain()
      const before = await rowCounts(env.app.handle)

      const refused = async (payload: unknown, field: string) => {
        const res = await test(payload)
        expect(res.statusCode, res.body).toBe(400)
        expect(res.json().error.code).toBe('validation_failed')
        expect(res.json().error.message.startsWith(`${field}: `), res.body).toBe(true)
      }
      await refused({}, 'event')
      await refused({ event: paid('e1', '45.00'), event_id: 'evt-other' }, 'event_id')
      await refused({ event: 'order.paid' }, 'event')
      await refused({ event_id: 42 }, 'event_id')
      await refused({ event: { ...paid('e1', '45.00'), type: undefined } }, 'event.type')
      await refused({ event: { ...paid('e1', '45.00'), data: { ...paid('e1', '45.00').data, total_price: 'lots' } } }, 'event.data.total_price')
      await refused({ event: { ...paid('e1', '45.00'), store: 'other' } }, 'event.store')
      await refused({ event: paid('e1', '45.00'), version: 0 }, 'version')
      await refused({ event: paid('e1', '45.00'), at: 'tomorrow' }, 'at')
      await refused({ event: paid('e1', '45.00'), customer: { first_name: 'Zed' } }, 'customer')
      const text = await server.inject({
        method: 'POST',
        url: '/api/v1/workflows/journey/test',
        headers: { ...admin, 'content-type': 'text/plain' },
        payload: 'hi',
      })
      expect(text.statusCode, text.body).toBe(400)
      expect(text.json().error.message).toMatch(/^body: /)

      const missing = async (payload: unknown, id = 'journey') => {
        const res = await test(payload, admin, id)
        expect(res.statusCode, res.body).toBe(404)
        expect(res.json().error.code).toBe('not_found')
      }
      await missing({ event: paid('e1', '45.00') }, 'no-such-workflow')
      await missing({ event: paid('e1', '45.00'), version: 9 })
      await missing({ event_id: 'no-such-event' })
      // another store's event is not this store's
      await missing({ event_id: 'evt-other' })

      expect((await test({ event: paid('e1', '45.00') }, read)).statusCode).toBe(403)

      await env.app.engine.drain()
      expect(await rowCounts(env.app.handle)).toEqual(before)
      expect(sink.attempts()).toBe(0)
      expect(receiver.requests).toEqual([])
    })
  })
}
