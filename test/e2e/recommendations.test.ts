import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { parseEvent } from '../../src/contracts/events.ts'
import { buildServer } from '../../src/http/server.ts'
import { createKey, createStore } from '../../src/store/stores.repo.ts'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

/**
 * "Bought together" recommendations through the front door: order history sent as events,
 * GET /api/v1/customers/:id/recommendations, and the post-purchase cross-sell template's real email.
 */

const START = '2026-03-02T10:00:00Z'
const daysAgo = (env: TestEnv, days: number) => new Date(env.clock.now().getTime() - days * 86_400_000).toISOString()

type Line = { sku: string; title?: string; product_id?: string }
const order = (id: string, customer: Record<string, unknown> | null, lines: Line[], createdAt: string) => ({
  id,
  number: `#${id}`,
  currency: 'USD',
  total_price: '10.00',
  financial_status: 'paid',
  created_at: createdAt,
  line_items: lines.map((l) => ({ ...l, quantity: 1, price: '10.00' })),
  ...(customer ? { customer } : {}),
})
const who = (id: string) => ({ id, email: `${id}@example.com`, first_name: id, accepts_marketing: true })

interface Ctx {
  env: TestEnv
  server: FastifyInstance
  keys: { a: string; b: string }
}

async function ingest(ctx: Ctx, events: Array<{ id: string; type: string; occurred_at: string; data: unknown }>, store = 'default', historical = true) {
  const parsed = events.map((e) => {
    const p = parseEvent({ ...e, store }, { store, now: ctx.env.clock.now() })
    if (!p.ok) throw new Error(JSON.stringify(p.issues))
    return p.event
  })
  await ctx.env.app.engine.ingest(parsed, { historical, source: 'test' })
  await ctx.env.app.engine.settle()
  await ctx.env.app.engine.drain()
}

const get = (ctx: Ctx, url: string, key = ctx.keys.a) => ctx.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
const recs = async (ctx: Ctx, customer: string, query = '') => {
  const res = await get(ctx, `/api/v1/customers/${customer}/recommendations${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as { items: Array<{ sku: string; product_id: string | null; title: string; score: number }>; next_cursor: null }
}

/**
 * Store `default`:
 *   o1 ada: TEE, HAT            (ada's own: TEE and HAT are excluded for her)
 *   o2 bob: TEE, MUG
 *   o3 cat: TEE, MUG, CAP, BAG  (BAG: inventory level 0 → out of stock)
 *   o4 dan: HAT, SOCK           (SOCK: variant inventory_quantity 0 → out of stock)
 *   o5 eve: MUG, PIN
 *   o6 guest: PIN
 *   o7 fay: PIN
 *   o8 gus: TEE, RING, cancelled (counts for nothing)
 *   o9 hal: OLD, 120 days ago   (outside the popularity window)
 *   o10 ivy: SOLO               (nothing co-purchased with SOLO)
 * Store `b`: ada (same id) bought TEE with SECRET, and SECRET is everywhere there.
 */
async function seed(ctx: Ctx) {
  const env = ctx.env
  const at = daysAgo(env, 10)
  const events: Array<{ id: string; type: string; occurred_at: string; data: unknown }> = [
    {
      id: 'p-mug',
      type: 'product.updated',
      occurred_at: at,
      data: { id: 'prod-mug', title: 'Mug <b>Big</b> & Co', variants: [{ id: 'v-mug', sku: 'MUG', price: '9.00', inventory_quantity: 3 }] },
    },
    {
      id: 'p-sock',
      type: 'product.updated',
      occurred_at: at,
      data: { id: 'prod-sock', title: 'Socks', variants: [{ id: 'v-sock', sku: 'SOCK', price: '5.00', inventory_quantity: 0 }] },
    },
    { id: 'stock-bag', type: 'inventory.updated', occurred_at: at, data: { sku: 'BAG', location_id: 'loc-1', available: 0 } },
  ]
  const orders: Array<[string, Record<string, unknown> | null, Line[], number]> = [
    [
      'o1',
      who('ada'),
      [
        { sku: 'TEE', title: 'Tee' },
        { sku: 'HAT', title: 'Hat' },
      ],
      9,
    ],
    [
      'o2',
      who('bob'),
      [
        { sku: 'TEE', title: 'Tee' },
        { sku: 'MUG', title: 'old mug title' },
      ],
      8,
    ],
    ['o3', who('cat'), [{ sku: 'TEE' }, { sku: 'MUG' }, { sku: 'CAP', title: 'Cap <i>&</i> Co', product_id: 'prod-cap' }, { sku: 'BAG', title: 'Bag' }], 7],
    ['o4', who('dan'), [{ sku: 'HAT' }, { sku: 'SOCK' }], 6],
    ['o5', who('eve'), [{ sku: 'MUG' }, { sku: 'PIN', title: 'Pin' }], 5],
    ['o6', null, [{ sku: 'PIN', title: 'Pin' }], 4],
    ['o7', who('fay'), [{ sku: 'PIN', title: 'Pin' }], 3],
    ['o8', who('gus'), [{ sku: 'TEE' }, { sku: 'RING', title: 'Ring' }], 2],
    ['o9', who('hal'), [{ sku: 'OLD', title: 'Old' }], 120],
    ['o10', who('ivy'), [{ sku: 'SOLO', title: 'Solo' }], 1],
  ]
  for (const [id, customer, lines, days] of orders) {
    const when = daysAgo(env, days)
    events.push({ id: `paid-${id}`, type: 'order.paid', occurred_at: when, data: order(id, customer, lines, when) })
  }
  events.push({
    id: 'cancel-o8',
    type: 'order.cancelled',
    occurred_at: daysAgo(env, 1),
    data: { ...order('o8', who('gus'), [{ sku: 'TEE' }, { sku: 'RING' }], daysAgo(env, 2)), cancelled_at: daysAgo(env, 1) },
  })
  await ingest(ctx, events)
  const b = daysAgo(env, 5)
  await ingest(
    ctx,
    [
      { id: 'b1', type: 'order.paid', occurred_at: b, data: order('b1', who('ada'), [{ sku: 'TEE' }], b) },
      { id: 'b2', type: 'order.paid', occurred_at: b, data: order('b2', who('zed'), [{ sku: 'TEE' }, { sku: 'SECRET', title: 'B secret' }], b) },
      { id: 'b3', type: 'order.paid', occurred_at: b, data: order('b3', who('yan'), [{ sku: 'SECRET', title: 'B secret' }], b) },
    ],
    'b',
  )
}

let smtp: SmtpSink
beforeAll(async () => {
  smtp = await startSmtpSink()
})
afterAll(async () => {
  closeSmtpTransports()
  await smtp.close()
})

describe.each(DIALECTS)('recommendations on %s', (dialect) => {
  const ctx = {} as Ctx
  beforeEach(async () => {
    smtp.received.length = 0
    ctx.env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url } })
    ctx.env.clock.set(START)
    const db = ctx.env.app.handle.db
    await createStore(db, { id: 'b', name: 'Shop B' }, ctx.env.clock.now())
    ctx.server = await buildServer(ctx.env.app)
    ctx.keys = {
      a: (await createKey(db, 'default', 'read', ctx.env.clock.now())).key,
      b: (await createKey(db, 'b', 'read', ctx.env.clock.now())).key,
    }
    await seed(ctx)
  })
  afterEach(async () => {
    await ctx.server.close()
    await ctx.env.cleanup()
  })

  it('ranks co-purchases first, then popular SKUs, leaving out what the customer bought and what is out of stock', async () => {
    // ada bought TEE and HAT. Scanned orders with TEE or HAT (not hers, not cancelled): o2, o3, o4 → basis 3.
    // MUG in o2, o3: 0.5 + 0.5 * 2/3 = 0.8333; CAP in o3: 0.5 + 0.5 * 1/3 = 0.6667; BAG and SOCK out of stock; RING only in a cancelled order.
    // Popular (last 90 days, not hers: o2..o7, o10 → 7 orders): PIN in 3 → 0.5 * 3/7 = 0.2143, SOLO in 1 → 0.0714; OLD is 120 days old.
    const body = await recs(ctx, 'ada')
    expect(body).toEqual({
      items: [
        { sku: 'MUG', product_id: 'prod-mug', title: 'Mug <b>Big</b> & Co', score: 0.8333 },
        { sku: 'CAP', product_id: 'prod-cap', title: 'Cap <i>&</i> Co', score: 0.6667 },
        { sku: 'PIN', product_id: null, title: 'Pin', score: 0.2143 },
        { sku: 'SOLO', product_id: null, title: 'Solo', score: 0.0714 },
      ],
      next_cursor: null,
    })
    // the limit cuts the list, best first; the customer's key and email name her too
    expect((await recs(ctx, 'ada', '?limit=2')).items.map((r) => r.sku)).toEqual(['MUG', 'CAP'])
    expect((await recs(ctx, 'ada@example.com', '?limit=1')).items.map((r) => r.sku)).toEqual(['MUG'])
  })

  it('falls back to the most popular SKUs when nothing was bought with what the customer bought', async () => {
    // ivy bought SOLO only. Recent orders not hers: o1..o7 → 7 (o8 cancelled, o9 too old).
    // TEE 3 (o1, o2, o3) → 0.2143; MUG 3 → 0.2143; PIN 3 → 0.2143; HAT 2 → 0.1429; CAP 1 → 0.0714; BAG, SOCK out of stock.
    const body = await recs(ctx, 'ivy')
    expect(body.items.map((r) => [r.sku, r.score])).toEqual([
      ['MUG', 0.2143],
      ['PIN', 0.2143],
      ['TEE', 0.2143],
      ['HAT', 0.1429],
      ['CAP', 0.0714],
    ])
    expect(body.items[2]).toEqual({ sku: 'TEE', product_id: null, title: 'Tee', score: 0.2143 })
  })

  it("walls store B off: B's orders never show in A, and A's customer is unknown to B's key", async () => {
    const a = await recs(ctx, 'ada')
    expect(a.items.map((r) => r.sku)).not.toContain('SECRET')
    // in B, ada (same shop id) gets only B's SKUs
    const b = await get(ctx, '/api/v1/customers/ada/recommendations', ctx.keys.b)
    expect(b.statusCode).toBe(200)
    expect(b.json().items).toEqual([{ sku: 'SECRET', product_id: null, title: 'B secret', score: 1 }])
    // ivy exists only in A
    const ivyInB = await get(ctx, '/api/v1/customers/ivy/recommendations', ctx.keys.b)
    expect(ivyInB.statusCode).toBe(404)
  })

  it('answers 404 for an unknown customer and 400 naming limit for a bad limit', async () => {
    const unknown = await get(ctx, '/api/v1/customers/nobody/recommendations')
    expect(unknown.statusCode).toBe(404)
    for (const bad of ['0', '51', 'x', '2.5', '-1', '']) {
      const res = await get(ctx, `/api/v1/customers/ada/recommendations?limit=${bad}`)
      expect(res.statusCode, bad).toBe(400)
      expect(res.body, bad).toContain('limit')
    }
  })

  it('the post-purchase cross-sell template mails the recommended titles, HTML-escaped', async () => {
    const db = ctx.env.app.handle.db
    const admin = (await createKey(db, 'default', 'admin', ctx.env.clock.now())).key
    const yaml = readFileSync(new URL('../../templates/workflows/post-purchase-cross-sell.yaml', import.meta.url), 'utf8')
    const saved = await ctx.server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/yaml' },
      payload: yaml,
    })
    expect(saved.statusCode, saved.body).toBe(201)
    const activated = await ctx.server.inject({
      method: 'POST',
      url: `/api/v1/workflows/${saved.json().id}/activate`,
      headers: { authorization: `Bearer ${admin}` },
    })
    expect(activated.statusCode, activated.body).toBe(200)

    // ada buys again (a live order: it starts the run); a week later the mail goes out
    const now = ctx.env.clock.now().toISOString()
    await ingest(
      ctx,
      [{ id: 'paid-o11', type: 'order.paid', occurred_at: now, data: order('o11', who('ada'), [{ sku: 'TEE', title: 'Tee' }], now) }],
      'default',
      false,
    )
    expect(smtp.received).toHaveLength(0)
    ctx.env.clock.advance(7 * 86_400_000 + 60_000)
    await ctx.env.app.engine.drain()
    const [mail] = await smtp.waitForMessages(1)
    expect(mail!.to).toMatchObject({ value: [{ address: 'ada@example.com' }] })
    const html = String(mail!.html)
    expect(html).toContain('Mug &lt;b&gt;Big&lt;/b&gt; &amp; Co')
    expect(html).toContain('Cap &lt;i&gt;&amp;&lt;/i&gt; Co')
    expect(html).toContain('Pin')
    expect(html).not.toContain('<b>Big')
    expect(html).not.toContain('Tee</li>')
    expect(html).not.toContain('Socks')
    expect(mail!.text).toContain('Mug <b>Big</b> & Co')
  })
})
