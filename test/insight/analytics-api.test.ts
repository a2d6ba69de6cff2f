import type { FastifyInstance } from 'fastify'
import type { ParsedMail } from 'mailparser'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { buildServer } from '../../src/http/server.ts'
import { createKey, createStore } from '../../src/store/stores.repo.ts'
import { DIALECTS, createTestEnv, type DialectName, type TestEnv } from '../helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

/**
 * The analytics API end to end over HTTP: a workflow mails real customers through a real SMTP
 * sink, customers open the pixel and click the tracked link in the mail they received, orders
 * come in through the events API, and the figures are read back from
 * GET /api/v1/analytics/workflows/:id and /analytics/overview, checked against sums worked out
 * by hand from what the test did. No counter row is written by the test.
 */
const PUBLIC_URL = 'https://mail.shop.test'
const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.parse('2026-03-02T10:00:00Z')
const at = (ms: number) => new Date(T0 + ms).toISOString()

const PROMO = `
id: promo
name: Spring promo
trigger: { event: customer.created }
steps:
  - action: send_email
    id: hello
    with:
      category: transactional
      subject: 'Spring at {{ store.name }}'
      html: '<p><a href="https://shop.example/spring">Spring</a></p>'
`

const TESTED = `
id: tested
name: Tested
trigger: { event: customer.created }
holdout: 50%
steps:
  - id: pick
    split:
      variants:
        - id: short
          weight: 1
          steps:
            - action: log
              with: { message: short }
        - id: long
          weight: 1
          steps:
            - action: log
              with: { message: long }
`

let smtp: SmtpSink
beforeAll(async () => {
  smtp = await startSmtpSink()
})
afterAll(async () => {
  // pooled SMTP connections are per process: closed first, the sink closes at once
  closeSmtpTransports()
  await smtp.close()
})
beforeEach(() => {
  smtp.received.length = 0
})

const email = (n: number) => `shopper-${n}@example.com`
const customer = (n: number) => ({ id: `cust-${n}`, email: email(n) })
const order = (eventId: string, type: string, orderId: string, n: number, total: string, createdAt: string, extra: Record<string, unknown> = {}) => ({
  id: eventId,
  type,
  occurred_at: createdAt,
  data: { id: orderId, number: `#${orderId}`, currency: 'USD', total_price: total, created_at: createdAt, customer: customer(n), ...extra },
})

function recipient(m: ParsedMail): string {
  return Array.isArray(m.to) ? m.to.map((t) => t.text).join(', ') : (m.to?.text ?? '')
}

/** The tracked link and open pixel of the one mail received by this address, as paths. */
function trackingFor(address: string): { pixel: string; click: string } {
  const mails = smtp.received.filter((m) => recipient(m).includes(address))
  if (mails.length !== 1) throw new Error(`${mails.length} mails to ${address}`)
  const html = String(mails[0]!.html)
  const path = (link: string) => {
    const u = new URL(link.replace(/&amp;/g, '&'))
    return u.pathname + u.search
  }
  const click = /<a\b[^>]*\shref="([^"]+\/t\/c\/[^"]+)"/i.exec(html)?.[1]
  const pixel = /<img[^>]+src="([^"]+\/t\/o\/[^"]+)"/i.exec(html)?.[1]
  if (!pixel || !click) throw new Error('mail without tracking')
  return { pixel: path(pixel), click: path(click) }
}

describe.each(DIALECTS)('the analytics API over HTTP on %s', (dialect: DialectName) => {
  let env: TestEnv
  let server: FastifyInstance
  afterEach(async () => {
    await server?.close()
    await env?.cleanup()
  })

  async function keys(store: string) {
    const db = env.app.handle.db
    const now = env.clock.now()
    return {
      admin: { authorization: `Bearer ${(await createKey(db, store, 'admin', now)).key}` },
      read: { authorization: `Bearer ${(await createKey(db, store, 'read', now)).key}` },
      ingest: { authorization: `Bearer ${(await createKey(db, store, 'ingest', now)).key}` },
    }
  }
  async function install(yaml: string, id: string, admin: Record<string, string>) {
    const saved = await server.inject({ method: 'POST', url: '/api/v1/workflows', headers: { ...admin, 'content-type': 'application/yaml' }, payload: yaml })
    expect(saved.statusCode, saved.body).toBe(201)
    expect((await server.inject({ method: 'POST', url: `/api/v1/workflows/${id}/activate`, headers: admin })).statusCode).toBe(200)
  }
  async function post(ingest: Record<string, string>, events: unknown[]) {
    for (let i = 0; i < events.length; i += 100) {
      const res = await server.inject({ method: 'POST', url: '/api/v1/events', headers: ingest, payload: { events: events.slice(i, i + 100) } })
      expect(res.statusCode, res.body).toBe(202)
    }
    await env.app.engine.drain()
  }
  async function get(url: string, headers: Record<string, string>) {
    const res = await server.inject({ method: 'GET', url, headers })
    return { status: res.statusCode, body: res.json() as Record<string, any> }
  }

  it('runs, mail, opens, clicks and attributed orders of one workflow, per step and per day; store B sees none of it; read key yes, ingest key 403', async () => {
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_PUBLIC_URL: PUBLIC_URL } })
    server = await buildServer(env.app)
    const a = await keys('default')
    await createStore(env.app.handle.db, { id: 'store-b', name: 'Store B' }, env.clock.now())
    const b = await keys('store-b')
    await install(PROMO, 'promo', a.admin)
    await install(PROMO, 'promo', b.admin)

    // t0: six customers sign up in A; each gets one mail
    const N = 6
    await post(
      a.ingest,
      Array.from({ length: N }, (_, i) => ({ id: `signup-${i}`, type: 'customer.created', occurred_at: at(0), data: customer(i) })),
    )
    expect(smtp.received.filter((m) => m.subject?.startsWith('Spring'))).toHaveLength(N)

    // t0+1h: customers 0..3 click the link in their mail (customer 0 twice); customer 4 only opens it
    env.clock.set(new Date(T0 + HOUR))
    for (const i of [0, 0, 1, 2, 3]) expect((await server.inject({ method: 'GET', url: trackingFor(email(i)).click })).statusCode).toBe(302)
    expect((await server.inject({ method: 'GET', url: trackingFor(email(4)).pixel })).statusCode).toBe(200)
    await env.app.engine.drain()

    // orders: 0 at t0+2h (20.00) and 1 at t0+1d (30.50), both within the 5d window after the click;
    // 3 at t0+3h (40.00) then refunded 10.00; 2 at t0+6d, more than 5 days after its click;
    // 4 (opened only: opens do not credit by default) and 5 (no touch) order too
    env.clock.set(new Date(T0 + 7 * DAY))
    await post(a.ingest, [
      order('o0', 'order.created', 'ord-0', 0, '20.00', at(2 * HOUR)),
      order('o1', 'order.created', 'ord-1', 1, '30.50', at(DAY)),
      order('o3', 'order.created', 'ord-3', 3, '40.00', at(3 * HOUR)),
      order('o2', 'order.created', 'ord-2', 2, '80.00', at(6 * DAY)),
      order('o4', 'order.created', 'ord-4', 4, '15.00', at(2 * HOUR)),
      order('o5', 'order.created', 'ord-5', 5, '12.00', at(2 * HOUR)),
    ])
    await post(a.ingest, [{ ...order('o3-refund', 'order.refunded', 'ord-3', 3, '40.00', at(3 * HOUR), { refund_amount: '10.00' }), occurred_at: at(4 * DAY) }])
    // store B: the same order ids and customers, no mail and no click of its own
    await post(b.ingest, [order('o0', 'order.created', 'ord-0', 0, '20.00', at(2 * HOUR)), order('o1', 'order.created', 'ord-1', 1, '30.50', at(DAY))])

    // hand-computed: ord-0 20.00 + ord-1 30.50 + ord-3 (40.00 − 10.00) = 80.50, three orders
    const revenue = 20 + 30.5 + (40 - 10)
    const url = '/api/v1/analytics/workflows/promo?from=2026-03-01&to=2026-03-08'
    const report = await get(url, a.admin)
    expect(report.status, JSON.stringify(report.body)).toBe(200)
    expect(report.body).toMatchObject({ workflow: { id: 'promo', name: 'Spring promo' }, from: '2026-03-01', to: '2026-03-08', attribution_window: '5d' })
    expect(report.body.runs).toEqual({ started: N, completed: N, exited: 0, failed: 0 })
    // a click implies an open: opened = 4 clickers + 1 pixel
    expect(report.body.messages).toEqual({ sent: N, delivered: N, opened: 5, clicked: 4, unsubscribed: 0, bounced: 0 })
    expect(report.body.orders_attributed).toBe(3)
    expect(report.body.revenue_attributed).toBe(revenue)
    expect(report.body.steps).toEqual([
      { id: 'hello', sent: N, delivered: N, opened: 5, clicked: 4, unsubscribed: 0, bounced: 0, orders_attributed: 3, revenue_attributed: revenue },
    ])
    expect(report.body.daily).toHaveLength(8)
    // 2 March: the six runs and mails, ord-0 and ord-3 net of its refund; 3 March: ord-1
    expect(report.body.daily[1]).toEqual({ date: '2026-03-02', runs: N, sent: N, revenue: 20 + 30 })
    expect(report.body.daily[2]).toEqual({ date: '2026-03-03', runs: 0, sent: 0, revenue: 30.5 })
    expect(report.body.daily.reduce((s: number, d: { revenue: number }) => s + d.revenue, 0)).toBe(revenue)
    expect(report.body).toMatchObject({ holdout: null, variants: null, split: null })

    const overview = await get('/api/v1/analytics/overview?from=2026-03-01&to=2026-03-08', a.admin)
    expect(overview.status).toBe(200)
    expect(overview.body.runs).toEqual({ started: N, completed: N, exited: 0, failed: 0 })
    expect(overview.body.orders_attributed).toBe(3)
    expect(overview.body.revenue_attributed).toBe(revenue)
    expect(overview.body.workflows).toEqual([{ id: 'promo', name: 'Spring promo', runs: N, sent: N, orders_attributed: 3, revenue_attributed: revenue }])
    expect(overview.body.daily[1]).toEqual({ date: '2026-03-02', runs: N, sent: N, revenue: 50 })

    // a read key reads the same; an ingest key may not
    const read = await get(url, a.read)
    expect(read.status).toBe(200)
    expect(read.body).toEqual(report.body)
    expect((await get(url, a.ingest)).status).toBe(403)
    expect((await get('/api/v1/analytics/overview', a.ingest)).status).toBe(403)

    // store B, same workflow id, same order ids: none of A's figures
    const inB = await get(url, b.read)
    expect(inB.status).toBe(200)
    expect(inB.body.runs).toEqual({ started: 0, completed: 0, exited: 0, failed: 0 })
    expect(inB.body.messages).toMatchObject({ sent: 0, opened: 0, clicked: 0 })
    expect(inB.body).toMatchObject({ orders_attributed: 0, revenue_attributed: 0 })
    expect(inB.body.steps.every((s: { sent: number }) => s.sent === 0)).toBe(true)
    const overviewB = await get('/api/v1/analytics/overview?from=2026-03-01&to=2026-03-08', b.read)
    expect(overviewB.body).toMatchObject({ orders_attributed: 0, revenue_attributed: 0, runs: { started: 0 } })
  }, 60_000)

  it('a holdout of 50% over a few hundred customers: enough_data, groups as the runs say; the split reports each variant', async () => {
    env = await createTestEnv(dialect)
    server = await buildServer(env.app)
    const a = await keys('default')
    await install(TESTED, 'tested', a.admin)
    // 320 customers through ingest; every second one orders (i % 7 + 1) × 10 a day after entering
    const N = 320
    await post(
      a.ingest,
      Array.from({ length: N }, (_, i) => ({ id: `signup-${i}`, type: 'customer.created', occurred_at: at(0), data: customer(i) })),
    )
    env.clock.set(new Date(T0 + DAY))
    const buyers = Array.from({ length: N }, (_, i) => i).filter((i) => i % 2 === 0)
    const amount = (i: number) => ((i % 7) + 1) * 10
    await post(
      a.ingest,
      buyers.map((i) => order(`o${i}`, 'order.created', `ord-${i}`, i, amount(i).toFixed(2), at(DAY))),
    )

    // the groups as the engine's runs say, the variant from each run's split step
    const db = env.app.handle.db
    const rows = await db
      .selectFrom('runs')
      .select(['id', 'customer_key', 'holdout'])
      .where('store_id', '=', 'default')
      .where('workflow_id', '=', 'tested')
      .execute()
    expect(rows).toHaveLength(N)
    const customers = await db.selectFrom('customers').select(['key', 'external_id']).where('store_id', '=', 'default').execute()
    const indexOf = new Map(customers.map((c) => [c.key, Number(c.external_id!.slice('cust-'.length))]))
    const steps = await db.selectFrom('run_steps').select(['run_id', 'output']).where('type', '=', 'split').execute()
    const variantOf = new Map(steps.map((s) => [s.run_id, (JSON.parse(s.output!) as { variant: string }).variant]))
    const groups: Record<string, { customers: number; conversions: number; revenue: number }> = {}
    const add = (name: string, i: number) => {
      const g = groups[name] ?? { customers: 0, conversions: 0, revenue: 0 }
      groups[name] = g
      g.customers += 1
      if (i % 2 === 0) {
        g.conversions += 1
        g.revenue += amount(i)
      }
    }
    for (const r of rows) {
      const i = indexOf.get(r.customer_key!)!
      add(r.holdout === 1 ? 'control' : 'treated', i)
      if (r.holdout === 0) add(variantOf.get(r.id)!, i)
    }
    expect(groups.control!.customers).toBeGreaterThanOrEqual(100)
    expect(groups.treated!.customers).toBeGreaterThanOrEqual(100)

    const { status, body } = await get('/api/v1/analytics/workflows/tested?from=2026-03-02&to=2026-03-02', a.admin)
    expect(status, JSON.stringify(body)).toBe(200)
    expect(body.runs.started).toBe(N)
    expect(body.holdout.treated.customers + body.holdout.control.customers).toBe(N)
    for (const name of ['treated', 'control'] as const) {
      expect(body.holdout[name].customers, name).toBe(groups[name]!.customers)
      expect(body.holdout[name].conversions, name).toBe(groups[name]!.conversions)
      expect(body.holdout[name].revenue, name).toBeCloseTo(groups[name]!.revenue, 2)
    }
    expect(body.holdout.enough_data).toBe(true)
    expect(typeof body.holdout.lift).toBe('number')
    expect(body.variants.map((v: { id: string }) => v.id)).toEqual(['short', 'long'])
    for (const v of body.variants) {
      expect(v.customers, v.id).toBe(groups[v.id]!.customers)
      expect(v.conversions, v.id).toBe(groups[v.id]!.conversions)
      expect(v.revenue, v.id).toBeCloseTo(groups[v.id]!.revenue, 2)
    }
    expect(body.variants.reduce((n: number, v: { customers: number }) => n + v.customers, 0)).toBe(groups.treated!.customers)
    expect(body.split.step_id).toBe('pick')
  }, 120_000)
})
