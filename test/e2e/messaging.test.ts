import { type AddressInfo, connect, createServer as createNetServer } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { ParsedMail } from 'mailparser'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { verifyClickToken } from '../../src/core/messaging/index.ts'
import { buildServer } from '../../src/http/server.ts'
import { createKey } from '../../src/store/stores.repo.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { rawHeader, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

/**
 * Messaging through the front door: events over HTTP, the real engine and database, mail handed
 * to a real SMTP server and read back with mailparser, tracking links and unsubscribe over HTTP.
 */

const PUBLIC_URL = 'https://mail.shop.test'

const ORDER_MAILS = `
id: order-mails
name: Order mails
trigger: { event: order.paid }
steps:
  - action: send_email
    id: promo
    with:
      category: marketing
      subject: 'Thanks {{ customer.first_name }}, order {{ order.number }} is paid'
      preheader: 'Something for next time'
      html: |
        <p>Hi {{ customer.first_name }},</p>
        <p>your order {{ order.number }} is on its way.</p>
        <p><a href="https://shop.example/orders/{{ order.id }}">See your order</a></p>
  - action: send_email
    id: receipt
    with:
      category: transactional
      subject: 'Receipt for order {{ order.number }}'
      html: '<p>Receipt for {{ order.number }}, total {{ order.total_price }}</p>'
`

const ON_CLICK = `
id: on-click
name: Clicked
trigger: { event: message.clicked }
steps:
  - action: log
    id: seen
    with: { message: 'clicked {{ event.data.url }} in {{ event.data.message_id }}' }
`

interface Ctx {
  env: TestEnv
  server: FastifyInstance
  keys: { ingest: string; admin: string; read: string }
}

async function setup(dialect: (typeof DIALECTS)[number], smtp: SmtpSink, clockAt?: string): Promise<Ctx> {
  const env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_PUBLIC_URL: PUBLIC_URL } })
  if (clockAt) env.clock.set(clockAt)
  const server = await buildServer(env.app)
  const now = env.clock.now()
  const db = env.app.handle.db
  const keys = {
    ingest: (await createKey(db, 'default', 'ingest', now)).key,
    admin: (await createKey(db, 'default', 'admin', now)).key,
    read: (await createKey(db, 'default', 'read', now)).key,
  }
  return { env, server, keys }
}

function api(ctx: Ctx) {
  const auth = (key: string) => ({ authorization: `Bearer ${key}` })
  return {
    // accepted, then routed: what the event causes is there when this resolves
    send: async (event: unknown) => {
      const res = await ctx.server.inject({ method: 'POST', url: '/api/v1/events', headers: auth(ctx.keys.ingest), payload: event as object })
      await ctx.env.app.engine.settle()
      return res
    },
    get: (url: string) => ctx.server.inject({ method: 'GET', url, headers: auth(ctx.keys.read) }),
    saveWorkflow: async (yaml: string) => {
      const res = await ctx.server.inject({
        method: 'POST',
        url: '/api/v1/workflows',
        headers: { ...auth(ctx.keys.admin), 'content-type': 'application/yaml' },
        payload: yaml,
      })
      if (res.statusCode === 201 || res.statusCode === 200) {
        const id = res.json().id as string
        expect((await ctx.server.inject({ method: 'POST', url: `/api/v1/workflows/${id}/activate`, headers: auth(ctx.keys.admin) })).statusCode).toBe(200)
      }
      return res
    },
    put: (url: string, payload: unknown) => ctx.server.inject({ method: 'PUT', url, headers: auth(ctx.keys.admin), payload: payload as object }),
  }
}

const customer = { id: 'cust-1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }

const orderPaid = (eventId: string, orderId: string, at: string, cust: Record<string, unknown> = customer) => ({
  id: eventId,
  type: 'order.paid',
  occurred_at: at,
  data: {
    id: orderId,
    number: `#${orderId}`,
    currency: 'USD',
    total_price: '45.00',
    line_items: [{ sku: 'TEE-1', quantity: 1, price: '45.00' }],
    customer: cust,
  },
})

/** The path (and query) of an absolute link on the public URL, for server.inject. */
function pathOf(link: string): string {
  const url = new URL(link)
  expect(url.origin).toBe(PUBLIC_URL)
  return url.pathname + url.search
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/<a\b[^>]*\shref="([^"]+)"/gi)].map((m) => m[1]!.replace(/&amp;/g, '&'))
}

function bySubject(mails: ParsedMail[], prefix: string): ParsedMail {
  const mail = mails.find((m) => m.subject?.startsWith(prefix))
  if (!mail) throw new Error(`no mail with subject "${prefix}…" among: ${mails.map((m) => m.subject).join(' | ')}`)
  return mail
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

describe.each(DIALECTS)('messaging end to end on %s', (dialect) => {
  let ctx: Ctx
  afterEach(async () => {
    await ctx.server.close()
    await ctx.env.cleanup()
  })

  it('renders, delivers, tracks clicks and opens, and honours one-click unsubscribe', async () => {
    ctx = await setup(dialect, smtp)
    const { send, get, saveWorkflow } = api(ctx)
    const engine = ctx.env.app.engine
    expect((await saveWorkflow(ORDER_MAILS)).statusCode).toBe(201)
    expect((await saveWorkflow(ON_CLICK)).statusCode).toBe(201)

    expect((await send(orderPaid('paid-1', '1001', '2026-03-02T09:59:00Z'))).statusCode).toBe(202)
    await engine.drain()
    expect(smtp.received).toHaveLength(2)

    // --- the marketing mail, as the SMTP server received it
    const promo = bySubject(smtp.received, 'Thanks')
    expect(promo.subject).toBe('Thanks Ada, order #1001 is paid')
    expect(promo.to && !Array.isArray(promo.to) ? promo.to.value[0]?.address : null).toBe('ada@example.com')
    const html = String(promo.html)
    expect(html).toContain('Hi Ada,')
    expect(html).toContain('your order #1001 is on its way.')
    expect(html).toContain('Something for next time')
    expect(promo.text).toContain('Hi Ada,')
    expect(promo.text).toContain('your order #1001 is on its way.')
    expect(html).not.toContain('{{')
    // the order link goes through the click tracker; the original URL is not in the HTML as a link
    const links = hrefs(html)
    expect(links).not.toContain('https://shop.example/orders/1001')
    const tracked = links.filter((l) => l.startsWith(`${PUBLIC_URL}/t/c/`))
    expect(tracked).toHaveLength(1)
    // the visible unsubscribe link and the one-click headers
    const unsubscribeLinks = links.filter((l) => l.startsWith(`${PUBLIC_URL}/u/`))
    expect(unsubscribeLinks).toHaveLength(1)
    const listUnsubscribe = rawHeader(promo, 'List-Unsubscribe')
    expect(listUnsubscribe).toBe(`List-Unsubscribe: <${unsubscribeLinks[0]}>`)
    expect(rawHeader(promo, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
    const pixel = /<img[^>]+src="([^"]+\/t\/o\/[^"]+)"/.exec(html)?.[1]
    expect(pixel).toBeDefined()

    // --- the transactional mail: rendered, no unsubscribe headers or link
    const receipt = bySubject(smtp.received, 'Receipt')
    expect(receipt.subject).toBe('Receipt for order #1001')
    expect(String(receipt.html)).toContain('Receipt for #1001, total 45')
    expect(receipt.text).toContain('Receipt for #1001')
    expect(rawHeader(receipt, 'List-Unsubscribe')).toBeUndefined()
    expect(rawHeader(receipt, 'List-Unsubscribe-Post')).toBeUndefined()
    expect(hrefs(String(receipt.html)).some((l) => l.includes('/u/'))).toBe(false)
    // each step has its own stable Message-ID
    expect(promo.messageId).toMatch(/^<[0-9a-f]{64}@mail\.shop\.test>$/)
    expect(receipt.messageId).not.toBe(promo.messageId)

    // --- outbox rows say sent, linked to run and step
    const outbox = (await get('/api/v1/messages')).json().items as Array<Record<string, unknown>>
    expect(outbox).toHaveLength(2)
    const promoRow = outbox.find((m) => m.category === 'marketing')!
    expect(promoRow).toMatchObject({ status: 'sent', step: 'promo', workflow_id: 'order-mails', clicks: 0, opens: 0, message_id: promo.messageId })

    // --- a click: 302 to the original URL, counted, and a message.clicked event that starts on-click
    const click = await ctx.server.inject({ method: 'GET', url: pathOf(tracked[0]!) })
    expect(click.statusCode).toBe(302)
    expect(click.headers.location).toBe('https://shop.example/orders/1001')
    const afterClick = (await get('/api/v1/messages')).json().items.find((m: { id: string }) => m.id === promoRow.id)
    expect(afterClick.clicks).toBe(1)
    const clicked = (await get('/api/v1/events?type=message.clicked')).json().items
    expect(clicked).toHaveLength(1)
    expect(clicked[0].data).toMatchObject({
      message_id: promoRow.id,
      customer_id: 'cust-1',
      workflow_id: 'order-mails',
      url: 'https://shop.example/orders/1001',
    })
    await engine.drain()
    const clickRuns = (await get('/api/v1/runs?workflow=on-click')).json().items
    expect(clickRuns).toHaveLength(1)
    expect(clickRuns[0]).toMatchObject({ status: 'completed', customer_id: 'cust-1' })
    const clickRun = (await get(`/api/v1/runs/${clickRuns[0].id}`)).json()
    expect(clickRun.steps[0].output.message).toBe(`clicked https://shop.example/orders/1001 in ${promoRow.id}`)
    // a forged token is refused and counts nothing
    const forged = `${pathOf(tracked[0]!).slice(0, -3)}AAA`
    expect((await ctx.server.inject({ method: 'GET', url: forged })).statusCode).toBe(404)

    // --- the open pixel
    const open = await ctx.server.inject({ method: 'GET', url: pathOf(pixel!) })
    expect(open.statusCode).toBe(200)
    expect(open.headers['content-type']).toContain('image/gif')
    const afterOpen = (await get('/api/v1/messages')).json().items.find((m: { id: string }) => m.id === promoRow.id)
    expect(afterOpen).toMatchObject({ opens: 1, clicks: 1 })
    expect((await get('/api/v1/events?type=message.opened')).json().items).toHaveLength(1)

    // --- the visible link's page only asks: a mail scanner's GET must not unsubscribe
    const page = await ctx.server.inject({ method: 'GET', url: pathOf(unsubscribeLinks[0]!) })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(`<form method="post" action="${pathOf(unsubscribeLinks[0]!)}">`)
    expect((await get('/api/v1/customers/cust-1')).json()).toMatchObject({ accepts_marketing: true, unsubscribed_at: null })

    // --- one-click unsubscribe (RFC 8058) from the List-Unsubscribe header
    ctx.env.clock.advance(60_000)
    const unsubscribe = await ctx.server.inject({
      method: 'POST',
      url: pathOf(unsubscribeLinks[0]!),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    })
    expect(unsubscribe.statusCode).toBe(200)
    let profile = (await get('/api/v1/customers/cust-1')).json()
    expect(profile.unsubscribed_at).toBe('2026-03-02T10:01:00.000Z')
    expect(profile.accepts_marketing).toBe(false)
    const unsubscribed = (await get('/api/v1/events?type=newsletter.unsubscribed')).json().items
    expect(unsubscribed).toHaveLength(1)
    expect(unsubscribed[0].data.customer).toMatchObject({ id: 'cust-1', email: 'ada@example.com' })

    // a stale accepts_marketing: true from the shop does not resubscribe (docs/workflows.md, Guardrails)
    ctx.env.clock.advance(60_000)
    expect(
      (await send({ id: 'upd-1', type: 'customer.updated', occurred_at: '2026-03-02T10:02:00Z', data: { ...customer, first_name: 'Ada L.' } })).statusCode,
    ).toBe(202)
    profile = (await get('/api/v1/customers/cust-1')).json()
    expect(profile).toMatchObject({ first_name: 'Ada L.', accepts_marketing: false, unsubscribed_at: '2026-03-02T10:01:00.000Z' })

    // …so the next order's marketing mail is skipped for consent, while the receipt still goes out
    smtp.received.length = 0
    expect((await send(orderPaid('paid-2', '1002', '2026-03-02T10:02:30Z'))).statusCode).toBe(202)
    await engine.drain()
    expect(smtp.received.map((m) => m.subject)).toEqual(['Receipt for order #1002'])
    const run2 = (await get('/api/v1/runs?workflow=order-mails')).json().items.find((r: { trigger_event_id: string }) => r.trigger_event_id === 'paid-2')
    const run2Steps = (await get(`/api/v1/runs/${run2.id}`)).json().steps
    expect(run2Steps[0]).toMatchObject({ id: 'promo', status: 'skipped', output: { skipped: true, reason: 'no_consent' } })

    // an explicit newsletter.subscribed does resubscribe
    ctx.env.clock.advance(60_000)
    expect(
      (
        await send({
          id: 'sub-1',
          type: 'newsletter.subscribed',
          occurred_at: '2026-03-02T10:03:30Z',
          data: { customer: { id: 'cust-1', email: 'ada@example.com' } },
        })
      ).statusCode,
    ).toBe(202)
    profile = (await get('/api/v1/customers/cust-1')).json()
    expect(profile).toMatchObject({ accepts_marketing: true, unsubscribed_at: null })
  })

  it('SMTP 451 twice then 250: retried on the backoff, exactly one message arrives', async () => {
    ctx = await setup(dialect, smtp)
    const { send, get, saveWorkflow } = api(ctx)
    const { engine } = ctx.env.app
    expect((await saveWorkflow(RECEIPT_ONLY)).statusCode).toBe(201)
    const before = smtp.attempts()
    smtp.refuse({ code: 451, message: 'Try again later (greylisted)' }, { code: 451, message: 'Try again later (greylisted)' })
    expect((await send(orderPaid('paid-451', '2001', '2026-03-02T09:59:00Z'))).statusCode).toBe(202)

    const runId = (await get('/api/v1/runs?workflow=receipt-only')).json().items[0].id as string
    const timeline = async () => (await get(`/api/v1/runs/${runId}`)).json()
    for (const attempt of [1, 2]) {
      await engine.drain()
      const run = await timeline()
      expect(smtp.attempts() - before).toBe(attempt)
      expect(run.status).toBe('running')
      expect(run.steps[0]).toMatchObject({ id: 'receipt', status: 'retrying', attempts: attempt })
      expect(run.steps[0].error).toContain('SMTP 451')
      expect(run.steps[0].error).toContain('greylisted')
      const wakeAt = new Date(run.steps[0].wake_at as string)
      expect(wakeAt.getTime()).toBeGreaterThan(ctx.env.clock.now().getTime())
      // not due yet: nothing happens
      ctx.env.clock.set(new Date(wakeAt.getTime() - 1))
      await engine.drain()
      expect(smtp.attempts() - before).toBe(attempt)
      ctx.env.clock.set(wakeAt)
    }
    await engine.drain()
    expect(smtp.attempts() - before).toBe(3)
    expect(smtp.received).toHaveLength(1)
    expect(smtp.received[0]!.subject).toBe('Receipt for order #2001')
    const run = await timeline()
    expect(run.status).toBe('completed')
    expect(run.steps[0]).toMatchObject({
      id: 'receipt',
      status: 'completed',
      attempts: 3,
      output: { status: 'sent', delivery: 'smtp', possible_duplicate: false, already_sent: false },
    })
    expect(run.steps[0].output.smtp_response).toMatch(/^250/)
    const [message] = (await get('/api/v1/messages')).json().items
    expect(message).toMatchObject({ status: 'sent', error: null, message_id: smtp.received[0]!.messageId })
  })

  it('a hand-over cut off before the answer is resent once, flagged; after a second cut, never again: the server holds at most two copies', async () => {
    ctx = await setup(dialect, smtp)
    const { send, get, saveWorkflow } = api(ctx)
    const { engine } = ctx.env.app
    expect((await saveWorkflow(RECEIPT_ONLY)).statusCode).toBe(201)
    // the server takes the next two messages and closes the connection instead of answering
    smtp.dropConnectionAfterData(2)
    expect((await send(orderPaid('paid-cut', '2002', '2026-03-02T09:59:00Z'))).statusCode).toBe(202)
    const runId = (await get('/api/v1/runs?workflow=receipt-only')).json().items[0].id as string
    const timeline = async () => (await get(`/api/v1/runs/${runId}`)).json()
    for (let i = 0; i < 6; i++) {
      await engine.drain()
      const run = await timeline()
      if (run.status !== 'running') break
      ctx.env.clock.set(new Date(run.steps[0].wake_at as string))
    }
    const run = await timeline()
    expect(run.status).toBe('completed')
    expect(run.steps[0]).toMatchObject({ id: 'receipt', status: 'completed', attempts: 3, output: { possible_duplicate: true, already_sent: true } })
    // counted at the server: two copies of the one message, not three
    const subject = 'Receipt for order #2002'
    expect(smtp.received.filter((m) => m.subject === subject)).toHaveLength(2)
    const [message] = (await get('/api/v1/messages')).json().items
    expect(message.status).toBe('sent')
    expect(message.error).toMatch(/^unconfirmed: 2 hand-overs got no answer \(2 cut off by the connection\)/)
  })

  it('an SMTP server that cannot be reached at all is no hand-over: once it is back, one copy, not flagged', async () => {
    // a port nothing listens on for the first three attempts; then a relay on it to the sink
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const free = (probe.address() as AddressInfo).port
        probe.close(() => resolve(free))
      })
    })
    const sinkPort = Number(new URL(smtp.url).port)
    ctx = await setup(dialect, { ...smtp, url: `smtp://127.0.0.1:${port}` })
    const { send, get, saveWorkflow } = api(ctx)
    const { engine } = ctx.env.app
    expect((await saveWorkflow(RECEIPT_ONLY)).statusCode).toBe(201)
    expect((await send(orderPaid('paid-down', '2003', '2026-03-02T09:59:00Z'))).statusCode).toBe(202)
    const runId = (await get('/api/v1/runs?workflow=receipt-only')).json().items[0].id as string
    const timeline = async () => (await get(`/api/v1/runs/${runId}`)).json()
    for (let i = 0; i < 3; i++) {
      await engine.drain()
      const run = await timeline()
      expect(run.steps[0]).toMatchObject({ status: 'retrying', attempts: i + 1 })
      ctx.env.clock.set(new Date(run.steps[0].wake_at as string))
    }
    const relay = createNetServer((client) => {
      const upstream = connect(sinkPort, '127.0.0.1')
      client.pipe(upstream).pipe(client)
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
    })
    await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve))
    try {
      await engine.drain()
      const run = await timeline()
      expect(run.steps[0]).toMatchObject({ status: 'completed', output: { possible_duplicate: false, already_sent: false } })
      expect(smtp.received.filter((m) => m.subject === 'Receipt for order #2003')).toHaveLength(1)
    } finally {
      closeSmtpTransports()
      await new Promise<void>((resolve) => relay.close(() => resolve()))
    }
  })

  it('SMTP 550: the step fails permanently with the server reply on the timeline', async () => {
    ctx = await setup(dialect, smtp)
    const { send, get, saveWorkflow } = api(ctx)
    expect((await saveWorkflow(RECEIPT_ONLY)).statusCode).toBe(201)
    const before = smtp.attempts()
    smtp.refuse({ code: 550, message: 'Mailbox unavailable: no such user here' })
    expect((await send(orderPaid('paid-550', '2002', '2026-03-02T09:59:00Z'))).statusCode).toBe(202)
    await ctx.env.app.engine.drain()
    // a permanent failure is not retried, however far the clock moves
    ctx.env.clock.advance(24 * 3600_000)
    await ctx.env.app.engine.drain()
    expect(smtp.attempts() - before).toBe(1)
    expect(smtp.received).toHaveLength(0)
    const runId = (await get('/api/v1/runs?workflow=receipt-only')).json().items[0].id as string
    const run = (await get(`/api/v1/runs/${runId}`)).json()
    expect(run.status).toBe('failed')
    expect(run.steps[0]).toMatchObject({ id: 'receipt', status: 'failed', attempts: 1 })
    expect(run.steps[0].error).toContain('SMTP 550')
    expect(run.steps[0].error).toContain('Mailbox unavailable: no such user here')
    const [message] = (await get('/api/v1/messages')).json().items
    expect(message.status).toBe('failed')
    expect(message.error).toContain('Mailbox unavailable: no such user here')
  })

  it("frequency cap and quiet hours hold across two workflows, on the customer's clock; transactional mail is exempt", async () => {
    // 2026-03-02 10:00 in New York (EST, UTC-5)
    ctx = await setup(dialect, smtp, '2026-03-02T15:00:00Z')
    const { send, get, saveWorkflow } = api(ctx)
    const { engine } = ctx.env.app
    const clock = ctx.env.clock
    expect((await saveWorkflow(GUARD_A)).statusCode).toBe(201)
    expect((await saveWorkflow(GUARD_B)).statusCode).toBe(201)
    const nyCustomer = { ...customer, timezone: 'America/New_York' }
    const subjects = () => smtp.received.map((m) => m.subject).sort()
    const runOf = async (workflow: string, trigger: string) => {
      const item = (await get(`/api/v1/runs?workflow=${workflow}`)).json().items.find((r: { trigger_event_id: string }) => r.trigger_event_id === trigger)
      return (await get(`/api/v1/runs/${item.id}`)).json()
    }

    // 10:00 local: workflow A sends its marketing mail (and its receipt)
    expect((await send(orderPaid('a-1', '3001', clock.now().toISOString(), nyCustomer))).statusCode).toBe(202)
    await engine.drain()
    expect(subjects()).toEqual(['A promo #3001', 'A receipt #3001'])

    // 12:00 local: workflow B's marketing mail is capped (16 h default); its transactional one goes
    smtp.received.length = 0
    clock.advance(2 * 3600_000)
    expect(
      (
        await send({
          id: 'b-1',
          type: 'order.fulfilled',
          occurred_at: clock.now().toISOString(),
          data: { order_id: '3001', carrier: 'UPS', customer: nyCustomer },
        })
      ).statusCode,
    ).toBe(202)
    await engine.drain()
    expect(subjects()).toEqual(['B shipped #3001'])
    const runB = await runOf('guard-b', 'b-1')
    expect(runB.status).toBe('completed')
    const review = runB.steps.find((s: { id: string }) => s.id === 'review')
    expect(review).toMatchObject({ status: 'skipped', output: { skipped: true, reason: 'frequency_cap', until: '2026-03-03T07:00:00.000Z' } })
    const skipped = (await get('/api/v1/messages?status=skipped')).json().items
    expect(skipped).toHaveLength(1)
    expect(skipped[0]).toMatchObject({ workflow_id: 'guard-b', step: 'review', category: 'marketing', error: 'frequency_cap' })

    // 22:30 local the next day (cap long lifted): the promo is deferred to 08:00 local, the receipt is not
    smtp.received.length = 0
    clock.set('2026-03-04T03:30:00Z')
    expect((await send(orderPaid('a-2', '3002', clock.now().toISOString(), nyCustomer))).statusCode).toBe(202)
    await engine.drain()
    expect(subjects()).toEqual(['A receipt #3002'])
    let runA2 = await runOf('guard-a', 'a-2')
    expect(runA2.status).toBe('waiting')
    expect(runA2.wake_at).toBe('2026-03-04T13:00:00.000Z') // 08:00 in New York
    expect(runA2.steps.find((s: { id: string }) => s.id === 'promo')).toMatchObject({
      status: 'waiting',
      wake_at: '2026-03-04T13:00:00.000Z',
      error: 'quiet_hours',
    })
    const deferred = (await get('/api/v1/messages?status=deferred')).json().items
    expect(deferred).toHaveLength(1)
    expect(deferred[0]).toMatchObject({ workflow_id: 'guard-a', step: 'promo' })

    // a minute before 08:00 local: still waiting
    clock.set('2026-03-04T12:59:00Z')
    await engine.drain()
    expect(subjects()).toEqual(['A receipt #3002'])
    // 08:00 local: delivered, not dropped
    clock.set('2026-03-04T13:00:00Z')
    await engine.drain()
    expect(subjects()).toEqual(['A promo #3002', 'A receipt #3002'])
    runA2 = await runOf('guard-a', 'a-2')
    expect(runA2.status).toBe('completed')
    expect(runA2.steps.find((s: { id: string }) => s.id === 'promo')).toMatchObject({ status: 'completed', output: { status: 'sent', delivery: 'smtp' } })
    const promo = (await get('/api/v1/messages')).json().items.find((m: { id: string }) => m.id === deferred[0].id)
    expect(promo).toMatchObject({ status: 'sent', sent_at: '2026-03-04T13:00:00.000Z' })
  })

  it('a Liquid error is refused when a template or a workflow is saved, naming the line; a stored template renders', async () => {
    ctx = await setup(dialect, smtp)
    const { send, get, put, saveWorkflow } = api(ctx)

    const broken = await put('/api/v1/message-templates/thank-you', {
      subject: 'Thanks {{ customer.first_name }}',
      html: '<p>Hi {{ customer.first_name }}</p>\n<p>Your order</p>\n{% if order.total_price > 100 %}<p>Big one!</p>',
    })
    expect(broken.statusCode).toBe(400)
    const error = broken.json().error
    expect(error.code).toBe('validation_failed')
    expect(error.message).toMatch(/^html: /)
    expect(error.message).toContain('line 3')
    expect(error.details).toMatchObject({ field: 'html', line: 3 })
    expect((await get('/api/v1/message-templates')).json().items).toHaveLength(0)

    const brokenWorkflow = await saveWorkflow(`
id: broken-mail
name: Broken mail
trigger: { event: order.paid }
steps:
  - action: send_email
    with:
      category: transactional
      subject: 'Order {{ order.number }}'
      html: |
        <p>Hi {{ customer.first_name }}</p>
        {% iff order.number %}<p>{{ order.number }}</p>
`)
    expect(brokenWorkflow.statusCode).toBe(400)
    const wfError = brokenWorkflow.json().error
    expect(wfError.code).toBe('validation_failed')
    // the file's line of the html field, and the line inside the template
    expect(wfError.message).toContain('line 10 (steps[0].with.html)')
    expect(wfError.message).toContain('line 2: tag "iff" not found')
    expect(wfError.details.problems[0]).toMatchObject({ line: 10 })
    expect((await get('/api/v1/workflows')).json().items).toHaveLength(0)

    // a good template is stored, and a workflow naming it renders it
    const saved = await put('/api/v1/message-templates/thank-you', {
      subject: 'Thanks {{ customer.first_name }} for {{ order.number }}',
      preheader: 'From all of us',
      html: '<p>Dear {{ customer.first_name }},</p>\n{% if order.total_price > 40 %}<p>A big order: {{ order.total_price }}!</p>{% endif %}',
    })
    expect(saved.statusCode).toBe(200)
    expect(
      (
        await saveWorkflow(`
id: stored-template
name: Stored template
trigger: { event: order.paid }
steps:
  - action: send_email
    with: { template: thank-you, category: transactional }
`)
      ).statusCode,
    ).toBe(201)
    expect((await send(orderPaid('paid-tpl', '4001', '2026-03-02T09:59:00Z'))).statusCode).toBe(202)
    await ctx.env.app.engine.drain()
    expect(smtp.received).toHaveLength(1)
    const mail = smtp.received[0]!
    expect(mail.subject).toBe('Thanks Ada for #4001')
    expect(String(mail.html)).toContain('Dear Ada,')
    expect(String(mail.html)).toContain('A big order: 45')
    expect(String(mail.html)).toContain('From all of us')
    expect(mail.text).toContain('Dear Ada,')
  })

  it("a customer's text is shown as text in mail, never as markup; only the store's own links are tracked", async () => {
    ctx = await setup(dialect, smtp)
    const { send, get, saveWorkflow } = api(ctx)
    expect((await saveWorkflow(HOSTILE_NAMES)).statusCode).toBe(201)
    const hostile = {
      id: 'cust-evil',
      email: 'eve@example.com',
      first_name: PAYLOAD,
      last_name: `${PAYLOAD}\r\nBcc: victim@elsewhere.example`,
      accepts_marketing: true,
    }
    const event = orderPaid('paid-evil', '5001', '2026-03-02T09:59:00Z', hostile)
    const order = {
      ...event,
      data: {
        ...event.data,
        line_items: [{ sku: 'TEE-1', title: PAYLOAD, quantity: 1, price: '45.00' }],
        shipping_address: { address1: PAYLOAD, country_code: 'US' },
      },
    }
    expect((await send(order)).statusCode).toBe(202)
    await ctx.env.app.engine.drain()
    expect(smtp.received).toHaveLength(2)

    const inline = bySubject(smtp.received, 'Order #5001 for')
    const confirmation = bySubject(smtp.received, 'Order #5001 confirmed')
    for (const mail of [inline, confirmation]) {
      const html = String(mail.html)
      // no element made of the customer's text: no link to evil.example, its text shown escaped
      expect(html).not.toMatch(/<a\b[^>]*evil\.example/i)
      expect(html).not.toMatch(/<a\b[^>]*>Claim your refund<\/a>/i)
      expect(hrefs(html).some((h) => h.includes('evil.example'))).toBe(false)
      expect(html).toContain('&lt;a href=')
      expect(mail.text).toContain(PAYLOAD)
      expect(mail.text).not.toContain('[https://evil.example')
      // only the customer is a recipient, whatever their name says
      expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((v) => v.address) : null).toEqual(['eve@example.com'])
      expect(mail.bcc).toBeUndefined()
      expect(mail.headers.has('bcc')).toBe(false)
    }
    // the subject is plain text: the name as typed, not HTML-escaped, its line break folded so no header follows it
    expect(inline.subject).toBe(`Order #5001 for ${PAYLOAD} ${PAYLOAD} Bcc: victim@elsewhere.example`)
    // the inline body shows the name, the last name and the street as text
    const inlineHtml = String(inline.html)
    expect(inline.text).toContain(`Hi ${PAYLOAD}`)
    expect(inline.text).toContain(`We ship to ${PAYLOAD}`)
    // the built-in confirmation shows the name and the line item as text
    expect(confirmation.text?.toLowerCase()).toContain(`thank you, ${PAYLOAD}!`.toLowerCase()) // html-to-text capitalises headings
    expect(confirmation.text).toContain(`1 × ${PAYLOAD}`)
    expect(String(confirmation.html)).toContain('$45.00')

    // the store's HTML (raw, on purpose) is live; the tracked links are the store's, and only they
    expect(inlineHtml).toMatch(/<a href="[^"]+">Our sale<\/a>/)
    const secret = ctx.env.config.secretKey
    const tracked = [inline, confirmation].flatMap((m) => hrefs(String(m.html)).filter((l) => l.startsWith(`${PUBLIC_URL}/t/c/`)))
    const targets = tracked.map((l) => verifyClickToken(secret, l.split('/t/c/')[1]!)?.url)
    expect(targets.sort()).toEqual(['https://shop.example/orders/5001', 'https://shop.example/sale'])
    for (const link of tracked) {
      const res = await ctx.server.inject({ method: 'GET', url: pathOf(link) })
      expect(res.statusCode).toBe(302)
      expect(res.headers.location).not.toContain('evil.example')
    }
    // the outbox keeps the same escaped HTML
    const outbox = (await get('/api/v1/messages')).json().items as Array<{ html: string }>
    for (const row of outbox) expect(row.html).not.toMatch(/<a\b[^>]*evil\.example/i)
  })

  it('a recipient must be one address: a list or a header smuggled into `to` is refused at save, and at send when it comes from data', async () => {
    ctx = await setup(dialect, smtp)
    const { send, get, saveWorkflow } = api(ctx)
    // written into the workflow: refused when saved, naming the field
    const saved = await saveWorkflow(`
id: many-recipients
name: Many recipients
trigger: { event: order.paid }
steps:
  - action: send_email
    with: { category: transactional, to: 'ada@example.com,victim@elsewhere.example,<x@y.example>', subject: 'Hi', html: '<p>Hi</p>' }
`)
    expect(saved.statusCode).toBe(400)
    expect(saved.json().error.message).toContain('steps[0].with.to')
    expect((await get('/api/v1/workflows')).json().items).toHaveLength(0)

    // rendered from event data: the step fails naming the field, and nothing is sent
    expect((await saveWorkflow(GIFT_NOTE)).statusCode).toBe(201)
    const event = orderPaid('paid-gift', '6001', '2026-03-02T09:59:00Z')
    const gift = { ...event, data: { ...event.data, gift_to: 'Eve <eve@example.com>\r\nBcc: victim@elsewhere.example' } }
    expect((await send(gift)).statusCode).toBe(202)
    await ctx.env.app.engine.drain()
    expect(smtp.received).toHaveLength(0)
    const runId = (await get('/api/v1/runs?workflow=gift-note')).json().items[0].id as string
    const run = (await get(`/api/v1/runs/${runId}`)).json()
    expect(run.status).toBe('failed')
    expect(run.steps[0]).toMatchObject({ id: 'gift', status: 'failed', attempts: 1 })
    expect(run.steps[0].error).toMatch(/\bto\b.*is not one email address/)

    // a display name with the address is still fine
    const ok = { ...event, id: 'paid-gift-2', data: { ...event.data, id: '6002', number: '#6002', gift_to: 'Eve Example <eve@example.com>' } }
    expect((await send(ok)).statusCode).toBe(202)
    await ctx.env.app.engine.drain()
    expect(smtp.received).toHaveLength(1)
    expect(smtp.received[0]!.to && !Array.isArray(smtp.received[0]!.to) ? smtp.received[0]!.to.value : null).toEqual([
      { name: 'Eve Example', address: 'eve@example.com' },
    ])
  })
})

const PAYLOAD = '<a href="https://evil.example/refund">Claim your refund</a>'

const HOSTILE_NAMES = `
id: hostile-names
name: Names from the shop
trigger: { event: order.paid }
steps:
  - action: send_email
    id: inline
    with:
      category: marketing
      subject: 'Order {{ order.number }} for {{ customer.first_name }} {{ customer.last_name }}'
      html: |
        <p>Hi {{ customer.first_name }} {{ customer.last_name }},</p>
        <p>We ship to {{ order.shipping_address.address1 }}.</p>
        <p><a href="https://shop.example/orders/{{ order.id }}">See your order</a></p>
        {{ vars.banner | raw }}
      vars:
        banner: '<p><a href="https://shop.example/sale">Our sale</a></p>'
  - action: send_email
    id: confirmation
    with: { template: order-confirmation, category: transactional }
`

const GIFT_NOTE = `
id: gift-note
name: Gift note
trigger: { event: order.paid }
steps:
  - action: send_email
    id: gift
    with: { category: transactional, to: '{{ event.data.gift_to }}', subject: 'A gift for you', html: '<p>Someone sent you a gift</p>' }
`

const RECEIPT_ONLY = `
id: receipt-only
name: Receipt only
trigger: { event: order.paid }
steps:
  - action: send_email
    id: receipt
    with: { category: transactional, subject: 'Receipt for order {{ order.number }}', html: '<p>Thanks for {{ order.number }}</p>' }
`

const GUARD_A = `
id: guard-a
name: Guardrails A
trigger: { event: order.paid }
steps:
  - action: send_email
    id: receipt
    with: { category: transactional, subject: 'A receipt {{ order.number }}', html: '<p>Receipt {{ order.number }}</p>' }
  - action: send_email
    id: promo
    with: { category: marketing, subject: 'A promo {{ order.number }}', html: '<p>Hi {{ customer.first_name }}, more for you</p>' }
`

const GUARD_B = `
id: guard-b
name: Guardrails B
trigger: { event: order.fulfilled }
steps:
  - action: send_email
    id: shipped
    with: { category: transactional, subject: 'B shipped {{ order.number }}', html: '<p>Shipped with {{ event.data.carrier }}</p>' }
  - action: send_email
    id: review
    with: { category: marketing, subject: 'B review {{ order.number }}', html: '<p>How was it?</p>' }
`
