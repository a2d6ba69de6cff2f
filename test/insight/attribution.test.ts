import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { SMTPServer } from 'smtp-server'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { buildServer } from '../../src/http/server.ts'
import { createKey, createStore } from '../../src/store/stores.repo.ts'
import { DIALECTS, createTestEnv, type DialectName, type TestEnv } from '../helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

/**
 * Insight's attribution and per-workflow counters, from a hand-built history sent through the
 * real ingest API, with mail going to a real SMTP sink and clicks through the tracking links in
 * it. The figures are read from the tables the analytics API answers from (attributions,
 * workflow_stats_daily): which orders are credited to which message, how much revenue, and how
 * many runs, sends, opens and clicks per workflow and step.
 */
const PUBLIC_URL = 'https://mail.shop.test'
const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.parse('2026-03-02T10:00:00Z')
const at = (ms: number) => new Date(T0 + ms).toISOString()

const NEWSLETTER = `
id: newsletter
name: Newsletter
trigger: { event: customer.created }
steps:
  - action: send_email
    id: hello
    with:
      category: transactional
      subject: 'Hello from {{ store.name }}'
      html: '<p><a href="https://shop.example/new">New in</a> <a href="https://shop.example/sale">Sale</a></p>'
  - wait: 1d
  - action: send_email
    id: reminder
    with:
      category: transactional
      subject: 'Still thinking? {{ store.name }}'
      html: '<p><a href="https://shop.example/cart">Your cart</a></p>'
`

interface Store {
  id: string
  admin: string
  ingest: string
}

let smtp: SmtpSink
beforeAll(async () => {
  smtp = await startSmtpSink()
})
afterAll(async () => {
  closeSmtpTransports()
  await smtp.close()
})
beforeEach(() => {
  smtp.received.length = 0
})

async function setUpStore(server: FastifyInstance, env: TestEnv, id: string, timezone?: string): Promise<Store> {
  const db = env.app.handle.db
  if (id !== 'default') await createStore(db, { id, name: `Store ${id}`, ...(timezone ? { timezone } : {}) }, env.clock.now())
  const admin = (await createKey(db, id, 'admin', env.clock.now())).key
  const ingest = (await createKey(db, id, 'ingest', env.clock.now())).key
  const auth = { authorization: `Bearer ${admin}` }
  const saved = await server.inject({ method: 'POST', url: '/api/v1/workflows', headers: { ...auth, 'content-type': 'application/yaml' }, payload: NEWSLETTER })
  expect(saved.statusCode).toBe(201)
  expect((await server.inject({ method: 'POST', url: '/api/v1/workflows/newsletter/activate', headers: auth })).statusCode).toBe(200)
  return { id, admin, ingest }
}

async function send(server: FastifyInstance, store: Store, events: unknown[], history = false): Promise<void> {
  const res = await server.inject({
    method: 'POST',
    url: `/api/v1/events${history ? '?history=true' : ''}`,
    headers: { authorization: `Bearer ${store.ingest}` },
    payload: { events },
  })
  expect(res.statusCode, res.body).toBe(202)
}

const customer = (_store: string) => ({ id: 'c-1', email: 'ada@example.com' })

function order(eventId: string, type: string, orderId: string, total: string, createdAt: string, extra: Record<string, unknown> = {}) {
  return {
    id: eventId,
    type,
    occurred_at: createdAt,
    data: { id: orderId, number: `#${orderId}`, currency: 'EUR', total_price: total, created_at: createdAt, customer: customer(''), ...extra },
  }
}

/** Store A's mail whose subject starts so (both stores mail the same address; B's subjects name store B). */
const mailsOfA = (subject: string) => smtp.received.filter((m) => m.subject?.startsWith(subject) && !m.subject.includes('store-b'))

/** The tracked links and open pixel of store A's mail with this subject, as paths. */
function trackingOf(subject: string): { pixel: string; clicks: string[] } {
  const [mail, ...others] = mailsOfA(subject)
  if (!mail || others.length > 0) throw new Error(`not one mail "${subject}" of store A`)
  const html = String(mail.html)
  const path = (link: string) => new URL(link.replace(/&amp;/g, '&')).pathname
  const clicks = [...html.matchAll(/<a\b[^>]*\shref="([^"]+\/t\/c\/[^"]+)"/gi)].map((m) => path(m[1]!))
  const pixel = /<img[^>]+src="([^"]+\/t\/o\/[^"]+)"/.exec(html)?.[1]
  if (!pixel || clicks.length === 0) throw new Error('mail without tracking')
  return { pixel: path(pixel), clicks }
}

type Counters = Record<string, number>

/** The counters of a store's workflow summed over days, per step ('' = the workflow). */
async function counters(env: TestEnv, storeId: string, workflowId = 'newsletter'): Promise<Map<string, Counters>> {
  const rows = await env.app.handle.db
    .selectFrom('workflow_stats_daily')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('workflow_id', '=', workflowId)
    .execute()
  const out = new Map<string, Counters>()
  for (const row of rows) {
    const sum = out.get(row.step_id) ?? {}
    for (const [k, v] of Object.entries(row)) if (!['store_id', 'workflow_id', 'step_id', 'day'].includes(k)) sum[k] = (sum[k] ?? 0) + Number(v)
    out.set(row.step_id, sum)
  }
  return out
}

async function dailyRevenue(env: TestEnv, storeId: string): Promise<Record<string, number>> {
  const rows = await env.app.handle.db
    .selectFrom('workflow_stats_daily')
    .select(['day', 'revenue_micros'])
    .where('store_id', '=', storeId)
    .where('step_id', '=', '')
    .execute()
  const out: Record<string, number> = {}
  for (const r of rows) if (Number(r.revenue_micros) !== 0) out[r.day] = (out[r.day] ?? 0) + Number(r.revenue_micros)
  return out
}

async function attributions(env: TestEnv, storeId: string) {
  const rows = await env.app.handle.db.selectFrom('attributions').selectAll().where('store_id', '=', storeId).orderBy('order_id').execute()
  const subjects = new Map(
    (await env.app.handle.db.selectFrom('messages').select(['id', 'subject']).where('store_id', '=', storeId).execute()).map((m) => [m.id, m.subject]),
  )
  return rows.map((r) => ({
    order: r.order_id,
    mail: subjects.get(r.message_id)?.startsWith('Hello') ? 'Hello' : subjects.get(r.message_id)?.startsWith('Still thinking?') ? 'Still thinking?' : null,
    step: r.step_id,
    workflow: r.workflow_id,
    touch: r.touch,
    ...(r.variant ? { variant: r.variant } : {}),
    amount: Number(r.amount_micros) / 1e6,
    refunded: Number(r.refunded_micros) / 1e6,
  }))
}

describe.each(DIALECTS)('attribution and workflow counters on %s', (dialect: DialectName) => {
  let env: TestEnv
  let server: FastifyInstance
  afterEach(async () => {
    await server?.close()
    await env?.cleanup()
  })

  it('credits orders to the latest click in the window, once, takes refunds back, and counts runs, sends, opens and clicks once', async () => {
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_PUBLIC_URL: PUBLIC_URL } })
    server = await buildServer(env.app)
    const a = await setUpStore(server, env, 'default')
    // store B: the same customer email and the same order ids; 14 hours ahead of UTC
    const b = await setUpStore(server, env, 'store-b', 'Pacific/Kiritimati')
    const hit = (path: string) => server.inject({ method: 'GET', url: path })

    // t0: the customer signs up in both stores; A's first send is refused once (451) and retried
    const attemptsBefore = smtp.attempts()
    smtp.refuse({ code: 451, message: 'try again later' })
    await send(server, a, [{ id: 'signup', type: 'customer.created', occurred_at: at(0), data: customer('a') }])
    await send(server, b, [{ id: 'signup', type: 'customer.created', occurred_at: at(0), data: customer('b') }])
    await env.app.engine.drain()
    for (let i = 0; i < 3 && smtp.received.filter((m) => m.subject?.startsWith('Hello')).length < 2; i++) {
      env.clock.advance(10 * 60_000)
      await env.app.engine.drain()
    }
    expect(smtp.received.filter((m) => m.subject?.startsWith('Hello'))).toHaveLength(2)
    // three attempts for two mails: one step was retried (and must be counted sent once)
    expect(smtp.attempts() - attemptsBefore).toBe(3)

    // t0+1h: A's customer opens the first mail (twice: a prefetch and the reader) and clicks both its links, one twice
    env.clock.set(new Date(T0 + HOUR))
    const hello = trackingOf('Hello')
    await hit(hello.pixel)
    await hit(hello.pixel)
    for (const link of [hello.clicks[0]!, hello.clicks[0]!, hello.clicks[1]!]) expect((await hit(link)).statusCode).toBe(302)
    await env.app.engine.drain()

    // t0+2h: an order after the first click → the first mail
    await send(server, a, [order('o7-created', 'order.created', 'o7', '7.00', at(2 * HOUR))])

    // t0+1d (A's a little later: its first send was retried): the reminder goes out in both
    // stores; A's customer clicks it at t0+1d+1h
    env.clock.set(new Date(T0 + DAY + 30 * 60_000))
    await env.app.engine.drain()
    expect(smtp.received.filter((m) => m.subject?.startsWith('Still thinking?'))).toHaveLength(2)
    env.clock.set(new Date(T0 + DAY + HOUR))
    const reminder = trackingOf('Still thinking?')
    expect((await hit(reminder.clicks[0]!)).statusCode).toBe(302)
    await env.app.engine.drain()

    // a history import: an order of t0+1d+2h, sent afterwards as history → the reminder
    await send(server, a, [order('o5-hist', 'order.paid', 'o5', '25.00', at(DAY + 2 * HOUR))], true)
    // t0+2d: o1, sent twice, then paid → the reminder, once
    const o1 = order('o1-created', 'order.created', 'o1', '100.00', at(2 * DAY))
    await send(server, a, [o1])
    await send(server, a, [o1])
    await send(server, a, [{ ...order('o1-paid', 'order.paid', 'o1', '100.00', at(2 * DAY)), occurred_at: at(2 * DAY + HOUR) }])
    // t0+3d: o3 (50.00) refunded 20.00 later; o4 (10.00) cancelled
    await send(server, a, [order('o3-created', 'order.created', 'o3', '50.00', at(3 * DAY))])
    await send(server, a, [order('o4-created', 'order.created', 'o4', '10.00', at(3 * DAY + HOUR))])
    await send(server, a, [{ ...order('o3-refund', 'order.refunded', 'o3', '50.00', at(3 * DAY), { refund_amount: '20.00' }), occurred_at: at(5 * DAY) }])
    await send(server, a, [{ ...order('o4-cancel', 'order.cancelled', 'o4', '10.00', at(3 * DAY + HOUR)), occurred_at: at(4 * DAY) }])
    // t0+8d: more than 5 days (the window) after the last click → nobody's
    await send(server, a, [order('o2-created', 'order.created', 'o2', '80.00', at(8 * DAY))])
    // store B: the same ids; its customer never clicked B's mail, and a click event sent to B naming
    // A's message touches nothing of A's
    const aMessage = await env.app.handle.db
      .selectFrom('messages')
      .select('id')
      .where('store_id', '=', 'default')
      .where('step_key', '=', 'reminder')
      .executeTakeFirstOrThrow()
    await send(server, b, [
      {
        id: 'forged-click',
        type: 'message.clicked',
        occurred_at: at(2 * DAY - HOUR),
        data: { message_id: aMessage.id, workflow_id: 'newsletter', customer: customer('b') },
      },
    ])
    await send(server, b, [o1, order('o3-created', 'order.created', 'o3', '50.00', at(3 * DAY))])
    await env.app.engine.drain()

    expect(await attributions(env, 'default')).toEqual([
      { order: 'o1', mail: 'Still thinking?', step: 'reminder', workflow: 'newsletter', touch: 'click', amount: 100, refunded: 0 },
      { order: 'o3', mail: 'Still thinking?', step: 'reminder', workflow: 'newsletter', touch: 'click', amount: 50, refunded: 20 },
      { order: 'o4', mail: 'Still thinking?', step: 'reminder', workflow: 'newsletter', touch: 'click', amount: 10, refunded: 10 },
      { order: 'o5', mail: 'Still thinking?', step: 'reminder', workflow: 'newsletter', touch: 'click', amount: 25, refunded: 0 },
      { order: 'o7', mail: 'Hello', step: 'hello', workflow: 'newsletter', touch: 'click', amount: 7, refunded: 0 },
    ])
    expect(await attributions(env, 'store-b')).toEqual([])

    const statsA = await counters(env, 'default')
    expect(statsA.get('')).toMatchObject({
      runs_started: 1,
      runs_completed: 1,
      runs_exited: 0,
      runs_failed: 0,
      sent: 2,
      delivered: 2,
      bounced: 0,
      opened: 2,
      clicked: 2,
      orders: 5,
      revenue_micros: (100 + 30 + 0 + 25 + 7) * 1e6,
    })
    expect(statsA.get('hello')).toMatchObject({ runs_started: 0, sent: 1, delivered: 1, opened: 1, clicked: 1, orders: 1, revenue_micros: 7e6 })
    expect(statsA.get('reminder')).toMatchObject({ sent: 1, delivered: 1, opened: 1, clicked: 1, orders: 4, revenue_micros: 155e6 })
    // revenue on the day of each order; o3's refund (on day 5) comes off day 3's
    expect(await dailyRevenue(env, 'default')).toEqual({ '2026-03-02': 7e6, '2026-03-03': 25e6, '2026-03-04': 100e6, '2026-03-05': 30e6 })

    // store B: its own run and mail, nothing of A's clicks or orders; its days are Kiritimati's (UTC+14)
    const statsB = await counters(env, 'store-b')
    expect(statsB.get('')).toMatchObject({ runs_started: 1, runs_completed: 1, sent: 2, opened: 0, clicked: 0, orders: 0, revenue_micros: 0 })
    const daysB = await env.app.handle.db
      .selectFrom('workflow_stats_daily')
      .select(['day', 'sent'])
      .where('store_id', '=', 'store-b')
      .where('step_id', '=', 'hello')
      .execute()
    expect(daysB.map((r) => [r.day, Number(r.sent)])).toEqual([['2026-03-03', 1]])
  })
})

const PROMO = `
id: promo
name: Promo
trigger: { event: customer.created }
steps:
  - id: subject_test
    split:
      variants:
        - id: a
          weight: 50
          steps:
            - action: send_email
              id: offer
              with:
                category: marketing
                subject: 'Offer from {{ store.name }}'
                html: '<p><a href="https://shop.example/offer">Offer</a></p>'
        - id: b
          weight: 50
          steps:
            - action: send_email
              id: offer_b
              with:
                category: marketing
                subject: 'Offer (10% off) from {{ store.name }}'
                html: '<p><a href="https://shop.example/offer">Offer</a></p>'
`

describe.each(DIALECTS)('opens and unsubscribes on %s', (dialect: DialectName) => {
  let env: TestEnv
  let server: FastifyInstance
  afterEach(async () => {
    await server?.close()
    await env?.cleanup()
  })

  it('an open credits an order only once the store counts opens; an unsubscribe through the link counts once for its step', async () => {
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_PUBLIC_URL: PUBLIC_URL } })
    server = await buildServer(env.app)
    const db = env.app.handle.db
    const admin = (await createKey(db, 'default', 'admin', env.clock.now())).key
    const store: Store = { id: 'default', admin, ingest: admin }
    const auth = { authorization: `Bearer ${admin}` }
    const put = await server.inject({ method: 'PUT', url: '/api/v1/settings', headers: auth, payload: { frequency_cap: null, quiet_hours: null } })
    expect(put.statusCode, put.body).toBe(200)
    expect(put.json()).toMatchObject({ attribution_opens: false })
    expect(
      (await server.inject({ method: 'POST', url: '/api/v1/workflows', headers: { ...auth, 'content-type': 'application/yaml' }, payload: PROMO })).statusCode,
    ).toBe(201)
    expect((await server.inject({ method: 'POST', url: '/api/v1/workflows/promo/activate', headers: auth })).statusCode).toBe(200)

    await send(server, store, [{ id: 'signup', type: 'customer.created', occurred_at: at(0), data: { ...customer('a'), accepts_marketing: true } }])
    await env.app.engine.drain()
    const [mail] = smtp.received.filter((m) => m.subject?.startsWith('Offer'))
    expect(mail).toBeDefined()
    const html = String(mail!.html)
    const pixel = new URL(/<img[^>]+src="([^"]+\/t\/o\/[^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&')).pathname
    const unsubscribe = new URL(/href="([^"]+\/u\/[^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&')).pathname

    // t0+1h: opened (no click); an order at t0+2h is nobody's while opens do not count
    env.clock.set(new Date(T0 + HOUR))
    await server.inject({ method: 'GET', url: pixel })
    await env.app.engine.drain()
    await send(server, store, [order('p1', 'order.created', 'p1', '12.00', at(2 * HOUR))])
    await env.app.engine.drain()
    expect(await attributions(env, 'default')).toEqual([])

    // the store counts opens from now on: the next order is the open's
    const opens = await server.inject({ method: 'PUT', url: '/api/v1/settings', headers: auth, payload: { attribution_opens: true } })
    expect(opens.json()).toMatchObject({ attribution_opens: true, attribution_window: '5d' })
    await send(server, store, [order('p2', 'order.created', 'p2', '30.00', at(3 * HOUR))])
    await env.app.engine.drain()
    // credited to the variant the run's split chose, and to that variant's step
    const runs = (await server.inject({ method: 'GET', url: '/api/v1/runs?workflow=promo', headers: auth })).json().items as Array<{ id: string }>
    expect(runs).toHaveLength(1)
    const run = (await server.inject({ method: 'GET', url: `/api/v1/runs/${runs[0]!.id}`, headers: auth })).json()
    const variant = (run.steps as Array<{ id: string; output: { variant?: string } }>).find((s) => s.id === 'subject_test')?.output.variant
    expect(['a', 'b']).toContain(variant)
    const step = variant === 'a' ? 'offer' : 'offer_b'
    expect((await attributions(env, 'default')).map((r) => [r.order, r.step, r.variant, r.touch, r.amount])).toEqual([['p2', step, variant, 'open', 30]])

    // the unsubscribe link, used twice (the page's form, then the mail client's one-click)
    for (let i = 0; i < 2; i++) {
      const res = await server.inject({
        method: 'POST',
        url: unsubscribe,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      })
      expect(res.statusCode).toBeLessThan(300)
    }
    await env.app.engine.drain()
    const customerRow = await db.selectFrom('customers').select('unsubscribed_at').where('external_id', '=', 'c-1').executeTakeFirstOrThrow()
    expect(customerRow.unsubscribed_at).not.toBeNull()
    const stats = await counters(env, 'default', 'promo')
    expect(stats.get(step)).toMatchObject({ sent: 1, opened: 1, clicked: 0, unsubscribed: 1, orders: 1, revenue_micros: 30e6 })
    expect(stats.get('')).toMatchObject({ runs_started: 1, runs_completed: 1, sent: 1, opened: 1, unsubscribed: 1, orders: 1 })
  })
})

const FRAGILE = `
id: fragile
name: Fragile
trigger: { event: order.paid }
steps:
  - action: notify_team
    id: tell
    with: { text: 'order {{ order.number }}' }
`

describe.each(DIALECTS)('a failed run retried on %s', (dialect: DialectName) => {
  let env: TestEnv
  let server: FastifyInstance
  afterEach(async () => {
    await server?.close()
    await env?.cleanup()
  })

  it('is failed once in the counters, however often it is retried and fails again', async () => {
    env = await createTestEnv(dialect)
    server = await buildServer(env.app)
    const admin = (await createKey(env.app.handle.db, 'default', 'admin', env.clock.now())).key
    const auth = { authorization: `Bearer ${admin}` }
    expect(
      (await server.inject({ method: 'POST', url: '/api/v1/workflows', headers: { ...auth, 'content-type': 'application/yaml' }, payload: FRAGILE }))
        .statusCode,
    ).toBe(201)
    expect((await server.inject({ method: 'POST', url: '/api/v1/workflows/fragile/activate', headers: auth })).statusCode).toBe(200)
    // no team webhook is configured: notify_team fails at once, for good
    await send(server, { id: 'default', admin, ingest: admin }, [order('paid', 'order.paid', 'f1', '5.00', at(0))])
    await env.app.engine.drain()
    const [run] = (await server.inject({ method: 'GET', url: '/api/v1/runs?workflow=fragile', headers: auth })).json().items as Array<{
      id: string
      status: string
    }>
    expect(run?.status).toBe('failed')
    expect((await counters(env, 'default', 'fragile')).get('')).toMatchObject({ runs_started: 1, runs_failed: 1, runs_completed: 0 })

    for (let i = 0; i < 2; i++) {
      expect((await server.inject({ method: 'POST', url: `/api/v1/runs/${run!.id}/retry`, headers: auth })).statusCode).toBeLessThan(300)
      await env.app.engine.drain()
      expect((await server.inject({ method: 'GET', url: `/api/v1/runs/${run!.id}`, headers: auth })).json().status).toBe('failed')
    }
    expect((await counters(env, 'default', 'fragile')).get('')).toMatchObject({ runs_started: 1, runs_failed: 1, runs_completed: 0, sent: 0 })
  })
})

describe.each(DIALECTS)('a bounce on %s', (dialect: DialectName) => {
  let env: TestEnv
  let server: FastifyInstance
  let refusing: SMTPServer
  afterEach(async () => {
    await server?.close()
    await env?.cleanup()
    await new Promise<void>((r) => refusing.close(() => r()))
  })

  it('is sent and bounced, not delivered, for its step and workflow; the run failed', async () => {
    // a server that refuses the recipient at RCPT TO: a hard bounce
    refusing = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (_address, _session, callback) => callback(Object.assign(new Error('No such user'), { responseCode: 550 })),
    })
    refusing.on('error', () => undefined)
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r))
    closeSmtpTransports()
    env = await createTestEnv(dialect, {
      env: { SMTP_URL: `smtp://127.0.0.1:${(refusing.server.address() as AddressInfo).port}`, STOREFLOW_PUBLIC_URL: PUBLIC_URL },
    })
    server = await buildServer(env.app)
    const store = await setUpStore(server, env, 'default')
    await send(server, store, [{ id: 'signup', type: 'customer.created', occurred_at: at(0), data: customer('a') }])
    await env.app.engine.drain()
    const message = await env.app.handle.db.selectFrom('messages').select('status').where('store_id', '=', 'default').executeTakeFirstOrThrow()
    expect(message.status).toBe('bounced')
    const stats = await counters(env, 'default')
    expect(stats.get('hello')).toMatchObject({ sent: 1, delivered: 0, bounced: 1 })
    expect(stats.get('')).toMatchObject({ runs_started: 1, runs_failed: 1, runs_completed: 0, sent: 1, delivered: 0, bounced: 1 })
    closeSmtpTransports()
  })
})
