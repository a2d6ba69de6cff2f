import type { FastifyInstance } from 'fastify'
import type { ParsedMail } from 'mailparser'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
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
    send: (event: unknown) => ctx.server.inject({ method: 'POST', url: '/api/v1/events', headers: auth(ctx.keys.ingest), payload: event as object }),
    get: (url: string) => ctx.server.inject({ method: 'GET', url, headers: auth(ctx.keys.read) }),
    saveWorkflow: async (yaml: string) => {
      const res = await ctx.server.inject({ method: 'POST', url: '/api/v1/workflows', headers: { ...auth(ctx.keys.admin), 'content-type': 'application/yaml' }, payload: yaml })
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
  data: { id: orderId, number: `#${orderId}`, currency: 'USD', total_price: '45.00', line_items: [{ sku: 'TEE-1', quantity: 1, price: '45.00' }], customer: cust },
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
    expect(clicked[0].data).toMatchObject({ message_id: promoRow.id, customer_id: 'cust-1', workflow_id: 'order-mails', url: 'https://shop.example/orders/1001' })
    await engine.drain()
    const clickRuns = (await get('/api/v1/runs?workflow=on-click')).json().items
    expect(clickRuns).toHaveLength(1)
    expect(clickRuns[0]).toMatchObject({ status: 'completed', customer_id: 'cust-1' })
    const clickRun = (await get(`/api/v1/runs/${clickRuns[0].id}`)).json()
    expect(clickRun.steps[0].output.message).toBe(`clicked https://shop.example/orders/1001 in ${promoRow.id}`)
    // a forged token is refused and counts nothing
    const forged = pathOf(tracked[0]!).slice(0, -3) + 'AAA'
    expect((await ctx.server.inject({ method: 'GET', url: forged })).statusCode).toBe(404)

    // --- the open pixel
    const open = await ctx.server.inject({ method: 'GET', url: pathOf(pixel!) })
    expect(open.statusCode).toBe(200)
    expect(open.headers['content-type']).toContain('image/gif')
    const afterOpen = (await get('/api/v1/messages')).json().items.find((m: { id: string }) => m.id === promoRow.id)
    expect(afterOpen).toMatchObject({ opens: 1, clicks: 1 })
    expect((await get('/api/v1/events?type=message.opened')).json().items).toHaveLength(1)

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

    // a stale accepts_marketing: true from the shop does not resubscribe (PRODUCT.md §4)
    ctx.env.clock.advance(60_000)
    expect((await send({ id: 'upd-1', type: 'customer.updated', occurred_at: '2026-03-02T10:02:00Z', data: { ...customer, first_name: 'Ada L.' } })).statusCode).toBe(202)
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
    expect((await send({ id: 'sub-1', type: 'newsletter.subscribed', occurred_at: '2026-03-02T10:03:30Z', data: { customer: { id: 'cust-1', email: 'ada@example.com' } } })).statusCode).toBe(202)
    profile = (await get('/api/v1/customers/cust-1')).json()
    expect(profile).toMatchObject({ accepts_marketing: true, unsubscribed_at: null })
  })
})
