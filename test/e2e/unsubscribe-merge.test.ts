import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { unsubscribeUrl } from '../../src/core/messaging/index.ts'
import { buildServer } from '../../src/http/server.ts'
import { createKey, createStore } from '../../src/store/stores.repo.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { rawHeader, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

/**
 * An unsubscribe survives a customer merge: a marketing mail goes to a customer known only by
 * email; the shop later sends the same person with its id, and the email-only profile is joined
 * into the id's. The one-click link in that earlier mail must still unsubscribe them, and the
 * next marketing mail must not go out. A link that names no customer is answered as such.
 */

const PUBLIC_URL = 'https://mail.shop.test'

const WELCOME = `
id: welcome
name: Welcome
trigger: { event: newsletter.subscribed }
steps:
  - action: send_email
    id: hello
    with: { category: marketing, subject: 'Welcome to the list', html: '<p>Glad to have you.</p>' }
`

const PROMO = `
id: promo
name: After an order
trigger: { event: order.paid }
steps:
  - action: send_email
    id: offer
    with: { category: marketing, subject: 'Something for next time', html: '<p>10% off your next order.</p>' }
`

let smtp: SmtpSink
beforeAll(async () => {
  smtp = await startSmtpSink()
})
afterAll(async () => {
  closeSmtpTransports()
  await smtp.close()
})

describe.each(DIALECTS)('unsubscribe across a customer merge on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  it('the one-click link from a mail sent before the merge unsubscribes the merged customer; the next marketing mail is not sent', async () => {
    smtp.received.length = 0
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_PUBLIC_URL: PUBLIC_URL } })
    server = await buildServer(env.app)
    const db = env.app.handle.db
    const now = env.clock.now()
    const admin = (await createKey(db, 'default', 'admin', now)).key
    const auth = { authorization: `Bearer ${admin}` }
    // accepted, then routed (the view and the runs follow the router)
    const send = async (event: unknown) => {
      const res = await server.inject({ method: 'POST', url: '/api/v1/events', headers: auth, payload: event as object })
      await env.app.engine.settle()
      return res
    }
    const profile = async () => (await server.inject({ method: 'GET', url: '/api/v1/customers/c-9', headers: auth })).json()
    for (const wf of [WELCOME, PROMO]) {
      const res = await server.inject({ method: 'POST', url: '/api/v1/workflows', headers: { ...auth, 'content-type': 'application/yaml' }, payload: wf })
      expect(res.statusCode).toBe(201)
      expect((await server.inject({ method: 'POST', url: `/api/v1/workflows/${res.json().id}/activate`, headers: auth })).statusCode).toBe(200)
    }

    // the shop knows the customer by id (no email yet); the newsletter form knows only the email
    expect(
      (await send({ id: 'c-created', type: 'customer.created', occurred_at: '2026-03-02T09:00:00Z', data: { id: 'c-9', first_name: 'Mia' } })).statusCode,
    ).toBe(202)
    expect(
      (await send({ id: 'signup', type: 'newsletter.subscribed', occurred_at: '2026-03-02T09:30:00Z', data: { customer: { email: 'mia@example.com' } } }))
        .statusCode,
    ).toBe(202)
    await env.app.engine.drain()
    const [welcome] = await smtp.waitForMessages(1)
    expect(welcome!.subject).toBe('Welcome to the list')
    const link = /^List-Unsubscribe:\s*<([^>]+)>$/i.exec(rawHeader(welcome!, 'list-unsubscribe') ?? '')?.[1] ?? ''
    expect(link.startsWith(`${PUBLIC_URL}/u/`)).toBe(true)
    const path = new URL(link).pathname

    // the shop now sends the id with the email: the email-only profile is joined into c-9's
    env.clock.advance(60_000)
    expect(
      (
        await send({
          id: 'c-updated',
          type: 'customer.updated',
          occurred_at: '2026-03-02T10:01:00Z',
          data: { id: 'c-9', email: 'mia@example.com', first_name: 'Mia' },
        })
      ).statusCode,
    ).toBe(202)
    expect(await profile()).toMatchObject({ id: 'c-9', email: 'mia@example.com', accepts_marketing: true, unsubscribed_at: null })
    const rows = await db.selectFrom('customers').select('key').where('store_id', '=', 'default').execute()
    expect(rows).toHaveLength(1)

    // the page behind the visible link still offers the button
    const page = await server.inject({ method: 'GET', url: path })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(`<form method="post" action="${path}">`)

    // one-click (RFC 8058) with the link from the mail's header
    env.clock.advance(60_000)
    const res = await server.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('Unsubscribed')
    expect(await profile()).toMatchObject({ accepts_marketing: false, unsubscribed_at: '2026-03-02T10:02:00.000Z' })

    // a day later (past the frequency cap and quiet hours) an order would bring a marketing mail: not to them
    env.clock.advance(86_400_000)
    expect(
      (
        await send({
          id: 'paid-1',
          type: 'order.paid',
          occurred_at: '2026-03-03T10:02:00Z',
          data: { id: 'o-1', currency: 'USD', total_price: '20.00', customer: { id: 'c-9', email: 'mia@example.com' } },
        })
      ).statusCode,
    ).toBe(202)
    await env.app.engine.drain()
    expect(smtp.received.map((m) => m.subject)).toEqual(['Welcome to the list'])
    const runs = (await server.inject({ method: 'GET', url: '/api/v1/runs?workflow=promo', headers: auth })).json().items
    expect(runs).toHaveLength(1)
    const steps = (await server.inject({ method: 'GET', url: `/api/v1/runs/${runs[0].id}`, headers: auth })).json().steps
    expect(steps[0]).toMatchObject({ id: 'offer', status: 'skipped', output: { skipped: true, reason: 'no_consent' } })
  })

  it('a link naming no customer of its store answers 404 on the page and on one-click, and records nothing', async () => {
    env = await createTestEnv(dialect, { env: { STOREFLOW_PUBLIC_URL: PUBLIC_URL } })
    server = await buildServer(env.app)
    const db = env.app.handle.db
    await createStore(db, { id: 'b' }, env.clock.now())
    const admin = (await createKey(db, 'default', 'admin', env.clock.now())).key
    const event = {
      id: 'c-created',
      type: 'customer.created',
      occurred_at: '2026-03-02T09:00:00Z',
      data: { id: 'c-9', email: 'mia@example.com', accepts_marketing: true },
    }
    expect((await server.inject({ method: 'POST', url: '/api/v1/events', headers: { authorization: `Bearer ${admin}` }, payload: event })).statusCode).toBe(202)
    await env.app.engine.settle()
    const { key } = await db.selectFrom('customers').select('key').where('external_id', '=', 'c-9').executeTakeFirstOrThrow()
    const before = await db.selectFrom('events').select('id').execute()

    // a key no customer has; and store B's link naming store A's customer
    for (const [store, customerKey] of [
      ['default', 'cus_nobody'],
      ['b', key],
    ] as const) {
      const path = new URL(unsubscribeUrl(PUBLIC_URL, env.config.secretKey, store, customerKey)).pathname
      const page = await server.inject({ method: 'GET', url: path })
      expect(page.statusCode).toBe(404)
      expect(page.body).not.toContain('<form')
      const post = await server.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      })
      expect(post.statusCode).toBe(404)
      expect(post.body).not.toContain('Unsubscribed')
    }
    expect(await db.selectFrom('events').select('id').execute()).toEqual(before)
    expect(await db.selectFrom('customers').select(['accepts_marketing', 'unsubscribed_at']).where('key', '=', key).executeTakeFirstOrThrow()).toEqual({
      accepts_marketing: 1,
      unsubscribed_at: null,
    })
  })
})
