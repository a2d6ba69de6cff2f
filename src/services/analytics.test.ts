import { describe, expect, it } from 'vitest'
import { useApiEnv } from '../../test/helpers/api-env.ts'
import { DIALECTS } from '../../test/helpers/dialects.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import type { App } from '../main.ts'
import { createKey, createStore } from '../store/stores.repo.ts'

/**
 * Analytics through the front door: runs made by the real engine from ingested events (a
 * workflow with `holdout: 50%` and a split), orders projected from order events, and the report
 * recomputed here from the rows the engine wrote.
 */

const T0 = '2026-03-02T10:00:00.000Z'
const DAY_MS = 86_400_000
const at = (days: number) => new Date(Date.parse(T0) + days * DAY_MS).toISOString()

const WORKFLOW = `id: welcome
name: Welcome series
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
const PLAIN = `id: plain
name: Plain
trigger: { event: customer.created }
steps:
  - action: log
    with: { message: hi }
`

/**
 * READING FIXTURE, not a stand-in for the engine: counter rows written straight into
 * workflow_stats_daily, for the pure reading edge cases (sums past 2^53 millionths, days without
 * rows, ranges). Used only in a test where no event is sent, so no engine activity writes
 * counters beside them. The counters the engine writes are tested end to end in
 * test/insight/analytics-api.test.ts and test/insight/attribution.test.ts.
 */
async function readingFixtureCounters(
  app: App,
  rows: Array<{ store?: string; workflow: string; step?: string; day: string } & Record<string, number | string>>,
) {
  const zero = {
    runs_started: 0,
    runs_completed: 0,
    runs_exited: 0,
    runs_failed: 0,
    sent: 0,
    delivered: 0,
    opened: 0,
    clicked: 0,
    unsubscribed: 0,
    bounced: 0,
    orders: 0,
    revenue_micros: 0,
  }
  for (const { store, workflow, step, day, ...counts } of rows) {
    await app.handle.db
      .insertInto('workflow_stats_daily')
      .values({ ...zero, ...counts, store_id: store ?? 'default', workflow_id: workflow, step_id: step ?? '', day })
      .execute()
  }
}

describe.each(DIALECTS)('analytics on %s', (dialect) => {
  const api = useApiEnv(dialect)

  const send = async (events: unknown[], headers: Record<string, string> = api.headers) => {
    for (let i = 0; i < events.length; i += 100) {
      const res = await api.server.inject({ method: 'POST', url: '/api/v1/events', headers, payload: { events: events.slice(i, i + 100) } })
      expect(res.statusCode, res.body).toBeLessThan(300)
    }
    await api.env.app.engine.drain()
  }
  const get = async (url: string, headers: Record<string, string> = api.headers) => {
    const res = await api.server.inject({ method: 'GET', url, headers })
    return { status: res.statusCode, body: res.json() as Record<string, any> }
  }
  const customer = (n: number, store = 'default') => ({
    id: `c-${store}-${n}`,
    type: 'customer.created',
    store,
    occurred_at: api.env.clock.now().toISOString(),
    data: { id: `cust-${n}`, email: `cust-${n}@example.com` },
  })
  const order = (id: string, n: number, total: number, when: string, store = 'default') => ({
    id: `o-${store}-${id}`,
    type: 'order.created',
    store,
    occurred_at: when,
    data: { id, customer: { id: `cust-${n}`, email: `cust-${n}@example.com` }, currency: 'USD', total_price: total, created_at: when },
  })

  /** Customers 0..n-1 enter at T0; customer i orders (i % 7 + 1) × 10.5 a day later when i % 3 = 0, 9 days later (after the 5d window) when i % 3 = 1, and every 5th one ordered before entering. */
  async function enter(n: number) {
    await installWorkflow(api.env.app, WORKFLOW)
    await send(Array.from({ length: n }, (_, i) => order(`early-${i}`, i, 99, at(-2))).filter((_, i) => i % 5 === 0))
    await send(Array.from({ length: n }, (_, i) => customer(i)))
    api.env.clock.set(new Date(at(1)))
    await send(
      Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 3 === 0)
        .map((i) => order(`soon-${i}`, i, ((i % 7) + 1) * 10.5, at(1))),
    )
    api.env.clock.set(new Date(at(9)))
    await send(
      Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 3 === 1)
        .map((i) => order(`late-${i}`, i, 500, at(9))),
    )
  }

  /** The groups as the rows the engine wrote say: each entered customer, its group and variant, and its in-window revenue. */
  async function groupsFromRows(n: number) {
    const db = api.env.app.handle.db
    const runs = await db
      .selectFrom('runs')
      .select(['id', 'customer_key', 'holdout'])
      .where('store_id', '=', 'default')
      .where('workflow_id', '=', 'welcome')
      .execute()
    expect(runs).toHaveLength(n)
    const steps = await db.selectFrom('run_steps').select(['run_id', 'output']).where('type', '=', 'split').execute()
    const variantOf = new Map(steps.map((s) => [s.run_id, (JSON.parse(s.output!) as { variant: string }).variant]))
    const customers = await db.selectFrom('customers').select(['key', 'external_id']).where('store_id', '=', 'default').execute()
    const indexOf = new Map(customers.map((c) => [c.key, Number(c.external_id!.slice('cust-'.length))]))
    const groups: Record<string, { customers: number; conversions: number; revenue: number }> = {}
    const add = (name: string, i: number) => {
      const g = groups[name] ?? { customers: 0, conversions: 0, revenue: 0 }
      groups[name] = g
      g.customers += 1
      if (i % 3 === 0) {
        g.conversions += 1
        g.revenue += ((i % 7) + 1) * 10.5
      }
    }
    for (const r of runs) {
      const i = indexOf.get(r.customer_key!)!
      add(r.holdout === 1 ? 'control' : 'treated', i)
      if (r.holdout === 0) add(variantOf.get(r.id)!, i)
    }
    return groups
  }

  it('the holdout report: treated and control from the real runs, outcomes from the orders within the window after entry', async () => {
    const n = 330
    await enter(n)
    const expected = await groupsFromRows(n)
    expect(expected.control!.customers).toBeGreaterThan(100)
    expect(expected.treated!.customers).toBeGreaterThan(100)
    const { status, body } = await get('/api/v1/analytics/workflows/welcome?from=2026-03-02&to=2026-03-02')
    expect(status, JSON.stringify(body)).toBe(200)
    expect(body.from).toBe('2026-03-02')
    expect(body.attribution_window).toBe('5d')
    for (const name of ['treated', 'control'] as const) {
      const g = body.holdout[name]
      expect(g.customers, name).toBe(expected[name]!.customers)
      expect(g.conversions, name).toBe(expected[name]!.conversions)
      expect(g.revenue, name).toBeCloseTo(expected[name]!.revenue, 2)
      expect(g.conversion).toBeCloseTo(expected[name]!.conversions / expected[name]!.customers, 5)
      // the report rounds money per customer to the cent: within half a cent of the exact figure
      expect(Math.abs(g.revenue_per_customer - expected[name]!.revenue / expected[name]!.customers)).toBeLessThanOrEqual(0.005 + 1e-9)
    }
    // ~55 conversions per group of ~165: enough for an estimate
    expect(body.holdout.enough_data).toBe(true)
    expect(typeof body.holdout.lift).toBe('number')
    expect(body.holdout.ci95[0]).toBeLessThanOrEqual(body.holdout.lift)
    expect(body.holdout.ci95[1]).toBeGreaterThanOrEqual(body.holdout.lift)
    // the split: the variants the runs took, each under the minimum sample of 100
    expect(body.variants.map((v: { id: string }) => v.id)).toEqual(['short', 'long'])
    for (const v of body.variants) {
      expect(v.customers, v.id).toBe(expected[v.id]!.customers)
      expect(v.conversions, v.id).toBe(expected[v.id]!.conversions)
      expect(v.revenue, v.id).toBeCloseTo(expected[v.id]!.revenue, 2)
    }
    expect(body.split).toMatchObject({ step_id: 'pick', enough_data: false, leader: null, winner: null, comparisons: null })

    // a shorter window counts fewer: none of the orders a day later is inside 1h
    expect((await api.server.inject({ method: 'PUT', url: '/api/v1/settings', headers: api.headers, payload: { attribution_window: '1h' } })).statusCode).toBe(
      200,
    )
    const short = await get('/api/v1/analytics/workflows/welcome?from=2026-03-02&to=2026-03-02')
    expect(short.body.attribution_window).toBe('1h')
    expect(short.body.holdout.treated).toMatchObject({ customers: expected.treated!.customers, conversions: 0, revenue: 0 })
    expect(short.body.holdout).toMatchObject({ enough_data: false, lift: null, ci95: null })

    // a range without entries: empty groups, no estimate
    const none = await get('/api/v1/analytics/workflows/welcome?from=2026-03-03&to=2026-03-05')
    expect(none.body.holdout).toMatchObject({ treated: { customers: 0 }, control: { customers: 0 }, enough_data: false, lift: null })
  }, 120_000)

  it('under the minimum sample: the group figures, enough_data false and no lift; a workflow without holdout or split answers null for both', async () => {
    await installWorkflow(api.env.app, PLAIN)
    await enter(40)
    const expected = await groupsFromRows(40)
    const { body } = await get('/api/v1/analytics/workflows/welcome?from=2026-03-02&to=2026-03-02')
    expect(body.holdout.treated.customers + body.holdout.control.customers).toBe(40)
    expect(body.holdout.control.customers).toBe(expected.control!.customers)
    expect(body.holdout).toMatchObject({ enough_data: false, lift: null, ci95: null, revenue_difference: null, conversion_difference: null })
    // the current version decides: without its holdout the report has none; the split's variants stay
    await installWorkflow(api.env.app, WORKFLOW.replace('holdout: 50%\n', ''))
    const removed = await get('/api/v1/analytics/workflows/welcome?from=2026-03-02&to=2026-03-02')
    expect(removed.body.holdout).toBeNull()
    expect(removed.body.variants.reduce((n: number, v: { customers: number }) => n + v.customers, 0)).toBe(expected.treated!.customers)
    const plain = await get('/api/v1/analytics/workflows/plain?from=2026-03-02&to=2026-03-02')
    expect(plain.status).toBe(200)
    expect(plain.body).toMatchObject({ holdout: null, variants: null, split: null })
  }, 60_000)

  it('a customer in both groups (the share changed between versions) counts in the group of their first run, outcomes from that entry', async () => {
    await enter(60)
    // everyone enters again under a version holding out everybody: half of them are now in both groups
    await installWorkflow(api.env.app, WORKFLOW.replace('holdout: 50%', 'holdout: 100%'))
    api.env.clock.set(new Date(at(0.5)))
    await send(Array.from({ length: 60 }, (_, i) => ({ ...customer(i), id: `again-${i}` })))
    const db = api.env.app.handle.db
    const runs = await db
      .selectFrom('runs')
      .select(['customer_key', 'holdout', 'started_at'])
      .where('workflow_id', '=', 'welcome')
      .orderBy('started_at')
      .execute()
    expect(runs).toHaveLength(120)
    const first = new Map<string, number>()
    for (const r of runs) if (!first.has(r.customer_key!)) first.set(r.customer_key!, r.holdout)
    const customers = await db.selectFrom('customers').select(['key', 'external_id']).where('store_id', '=', 'default').execute()
    const indexOf = new Map(customers.map((c) => [c.key, Number(c.external_id!.slice('cust-'.length))]))
    const expected = { treated: { customers: 0, conversions: 0 }, control: { customers: 0, conversions: 0 } }
    for (const [key, holdout] of first) {
      const g = holdout === 1 ? expected.control : expected.treated
      g.customers += 1
      // the first entry was at T0: the orders a day later are within 5 days of it
      if (indexOf.get(key)! % 3 === 0) g.conversions += 1
    }
    expect(expected.treated.customers).toBeGreaterThan(10)
    const { body } = await get('/api/v1/analytics/workflows/welcome?from=2026-03-02&to=2026-03-02')
    expect(body.holdout.treated).toMatchObject(expected.treated)
    expect(body.holdout.control).toMatchObject(expected.control)
    // every treated customer here is in both groups: their variant is not told apart, so they are in no variant's figures
    expect(body.variants.reduce((n: number, v: { customers: number }) => n + v.customers, 0)).toBe(0)
    expect(body.split.customers_in_several_variants).toBe(0)
  }, 60_000)

  it('reading counters: totals, per step, a daily series with every day of the range (zeros included), and the overview per workflow', async () => {
    await installWorkflow(api.env.app, WORKFLOW)
    await installWorkflow(api.env.app, PLAIN)
    // no event in this test: the engine writes no counters, only the fixture's rows are there
    await readingFixtureCounters(api.env.app, [
      { workflow: 'welcome', day: '2026-02-27', runs_started: 4, runs_completed: 3, runs_failed: 1, sent: 4, delivered: 4, opened: 2, clicked: 1 },
      { workflow: 'welcome', day: '2026-03-01', runs_started: 2, runs_exited: 1, sent: 2, bounced: 1, unsubscribed: 1, orders: 1, revenue_micros: 12_340_000 },
      // beyond 2^53 millionths in one sum on PostgreSQL (numeric), exact to the cent
      { workflow: 'plain', day: '2026-03-01', runs_started: 1, sent: 1, orders: 2, revenue_micros: '9007199254740993' },
      { workflow: 'welcome', step: 'mail', day: '2026-03-01', sent: 2, opened: 1, orders: 1, revenue_micros: 12_340_000 },
      // outside the range
      { workflow: 'welcome', day: '2026-02-20', runs_started: 50, sent: 50 },
      // another store's counters for the same workflow id
      { store: 'other', workflow: 'welcome', day: '2026-03-01', runs_started: 70, sent: 70, revenue_micros: 5_000_000 },
    ])
    const { status, body } = await get('/api/v1/analytics/workflows/welcome?from=2026-02-26&to=2026-03-02')
    expect(status).toBe(200)
    expect(body.runs).toEqual({ started: 6, completed: 3, exited: 1, failed: 1 })
    expect(body.messages).toEqual({ sent: 6, delivered: 4, opened: 2, clicked: 1, unsubscribed: 1, bounced: 1 })
    expect(body.orders_attributed).toBe(1)
    expect(body.revenue_attributed).toBe(12.34)
    expect(body.steps).toEqual([
      { id: 'mail', sent: 2, delivered: 0, opened: 1, clicked: 0, unsubscribed: 0, bounced: 0, orders_attributed: 1, revenue_attributed: 12.34 },
    ])
    expect(body.daily).toEqual([
      { date: '2026-02-26', runs: 0, sent: 0, revenue: 0 },
      { date: '2026-02-27', runs: 4, sent: 4, revenue: 0 },
      { date: '2026-02-28', runs: 0, sent: 0, revenue: 0 },
      { date: '2026-03-01', runs: 2, sent: 2, revenue: 12.34 },
      { date: '2026-03-02', runs: 0, sent: 0, revenue: 0 },
    ])

    const overview = await get('/api/v1/analytics/overview?from=2026-02-26&to=2026-03-02')
    expect(overview.status).toBe(200)
    expect(overview.body.runs.started).toBe(7)
    expect(overview.body.orders_attributed).toBe(3)
    expect(overview.body.revenue_attributed).toBe(Number('9007199267.080993'))
    expect(overview.body.workflows).toEqual([
      { id: 'plain', name: 'Plain', runs: 1, sent: 1, orders_attributed: 2, revenue_attributed: 9_007_199_254.740993 },
      { id: 'welcome', name: 'Welcome series', runs: 6, sent: 6, orders_attributed: 1, revenue_attributed: 12.34 },
    ])
    expect(overview.body.daily).toHaveLength(5)
    expect(overview.body.daily[3]).toEqual({ date: '2026-03-01', runs: 3, sent: 3, revenue: Number('9007199267.080993') })

    // the default range: the last 30 days in the store's time zone, today (2026-03-02) included
    const recent = await get('/api/v1/analytics/overview')
    expect(recent.body).toMatchObject({ from: '2026-02-01', to: '2026-03-02' })
    expect(recent.body.daily).toHaveLength(30)
    expect(recent.body.runs.started).toBe(57)
  })

  it('days are the store time zone: an ISO time counts as its day there, and the default range ends on the local today', async () => {
    await api.env.app.handle.db.updateTable('stores').set({ timezone: 'Pacific/Auckland' }).where('id', '=', 'default').execute()
    await installWorkflow(api.env.app, PLAIN)
    // 2026-03-02T10:00Z is 23:00 on 2 March in Auckland (UTC+13)
    const { body } = await get('/api/v1/analytics/workflows/plain')
    expect(body).toMatchObject({ to: '2026-03-02', from: '2026-02-01', timezone: 'Pacific/Auckland' })
    api.env.clock.set(new Date('2026-03-02T11:30:00Z'))
    expect((await get('/api/v1/analytics/workflows/plain')).body.to).toBe('2026-03-03')
    const iso = await get('/api/v1/analytics/workflows/plain?from=2026-03-01T12:00:00Z&to=2026-03-02T12:00:00Z')
    expect(iso.body).toMatchObject({ from: '2026-03-02', to: '2026-03-03' })
  })

  it('bad from/to answer 400 naming the field; an unknown workflow 404', async () => {
    await installWorkflow(api.env.app, PLAIN)
    const cases: Array<[string, string]> = [
      ['from=yesterday', 'from'],
      ['to=2026-02-30', 'to'],
      ['from=2026-13-01', 'from'],
      ['to=2026-12-32', 'to'],
      ['from=2026-03-05&to=2026-03-01', 'to'],
      ['from=2025-01-01&to=2026-03-01', 'from'],
      ['from=2026-01-01&from=2026-01-02', 'from'],
      ['to=2026-03-01T10:00:00', 'to'],
    ]
    for (const [query, field] of cases) {
      for (const url of [`/api/v1/analytics/workflows/plain?${query}`, `/api/v1/analytics/overview?${query}`]) {
        const res = await get(url)
        expect(res.status, url).toBe(400)
        expect(res.body.error.code, JSON.stringify(res.body)).toBe('validation_failed')
        expect(res.body.error.message).toContain(field)
        // a repeated parameter is refused before the route, by name in the message (http/server.ts)
        if (!query.includes(`${field}=2026-01-02`)) expect(res.body.error.details.field, url).toBe(field)
      }
    }
    // 366 days is the longest range
    expect((await get('/api/v1/analytics/overview?from=2025-03-02&to=2026-03-02')).status).toBe(200)
    const missing = await get('/api/v1/analytics/workflows/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('not_found')
  })

  it("store B's runs, orders and counters stay out of A's reports, and B's workflow is not A's", async () => {
    const db = api.env.app.handle.db
    await createStore(db, { id: 'other' }, api.env.clock.now())
    const other = { authorization: `Bearer ${(await createKey(db, 'other', 'admin', api.env.clock.now())).key}` }
    await installWorkflow(api.env.app, WORKFLOW, { store: 'other' })
    await installWorkflow(api.env.app, PLAIN.replace('id: plain', 'id: b-only'), { store: 'other' })
    await send(
      Array.from({ length: 30 }, (_, i) => customer(i, 'other')),
      other,
    )
    await send(
      Array.from({ length: 30 }, (_, i) => order(`b-${i}`, i, 40, at(0.5), 'other')),
      other,
    )
    // B's counters are the engine's own (30 runs started); none of them reach A's report
    await installWorkflow(api.env.app, WORKFLOW)
    const a = await get('/api/v1/analytics/workflows/welcome?from=2026-03-02&to=2026-03-02')
    expect(a.status).toBe(200)
    expect(a.body.runs.started).toBe(0)
    expect(a.body.holdout).toMatchObject({ treated: { customers: 0 }, control: { customers: 0 } })
    expect(a.body.variants.every((v: { customers: number }) => v.customers === 0)).toBe(true)
    expect((await get('/api/v1/analytics/workflows/b-only')).status).toBe(404)
    const overview = await get('/api/v1/analytics/overview?from=2026-03-02&to=2026-03-02')
    expect(overview.body.workflows.map((w: { id: string }) => w.id)).toEqual(['welcome'])
    expect(overview.body.revenue_attributed).toBe(0)
    // and B sees its own
    const b = await get('/api/v1/analytics/workflows/welcome?from=2026-03-02&to=2026-03-02', other)
    expect(b.body.holdout.treated.customers + b.body.holdout.control.customers).toBe(30)
    expect(b.body.runs.started).toBe(30)
  }, 60_000)
})
