import { describe, expect, it } from 'vitest'
import { type Cohort, type CohortQuery, cohortFromRuns } from '../../src/store/analytics.repo.ts'
import { cohort, rebuildWorkflowEntries } from '../../src/store/workflow-entries.repo.ts'
import { useApiEnv } from '../helpers/api-env.ts'
import { DIALECTS } from '../helpers/dialects.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * Insight's cohort aggregate (workflow_entries, migration 0026) against the truth: the engine
 * makes the runs from ingested events and the projection the orders, and after every change the
 * holdout/split cohort read from the entries must equal the one derived from the runs and orders
 * themselves (cohortFromRuns), for ranges that cut through customers' repeated entries; the
 * report follows a new order, a refund, a cancellation and a new entrant at once; and the
 * migration's rebuild from runs makes exactly the rows the live writes made.
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

/** A cohort in a form that compares: group sizes by (group, variant, several), buyers by customer. */
function normal(c: Cohort) {
  const sizes: Record<string, number> = {}
  for (const g of c.groups) {
    const key = `${g.holdout ? 'control' : 'treated'}|${g.variant ?? '-'}|${g.several_variants ? 'several' : 'one'}`
    sizes[key] = (sizes[key] ?? 0) + g.customers
  }
  for (const key of Object.keys(sizes)) if (sizes[key] === 0) delete sizes[key]
  const buyers = c.buyers
    .map((b) => ({ ...b, revenue: Math.round(b.revenue * 100) / 100 }))
    .sort((x, y) => (x.customer_key < y.customer_key ? -1 : x.customer_key > y.customer_key ? 1 : 0))
  return { sizes, buyers }
}

describe.each(DIALECTS)('the cohort aggregate on %s', (dialect) => {
  const api = useApiEnv(dialect)

  const send = async (events: unknown[]) => {
    for (let i = 0; i < events.length; i += 100) {
      const res = await api.server.inject({ method: 'POST', url: '/api/v1/events', headers: api.headers, payload: { events: events.slice(i, i + 100) } })
      expect(res.statusCode, res.body).toBeLessThan(300)
    }
    await api.env.app.engine.drain()
  }
  const get = async (url: string) => {
    const res = await api.server.inject({ method: 'GET', url, headers: api.headers })
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as Record<string, any>
  }
  const customer = (n: number, id = `c-${n}-${api.env.clock.now().getTime()}`) => ({
    id,
    type: 'customer.created',
    occurred_at: api.env.clock.now().toISOString(),
    data: { id: `cust-${n}`, email: `cust-${n}@example.com` },
  })
  const order = (id: string, n: number, total: number, when: string, type = 'order.created', extra: Record<string, unknown> = {}) => ({
    id: `${type}-${id}-${when}`,
    type,
    occurred_at: when,
    data: { id, customer: { id: `cust-${n}`, email: `cust-${n}@example.com` }, currency: 'USD', total_price: total, created_at: when, ...extra },
  })
  const clockTo = (days: number) => api.env.clock.set(new Date(at(days)))

  /** The cohort both ways for each range (days from T0, [from, to) in whole days), and the window in ms. */
  async function expectAgreement(ranges: Array<[number, number]>, windowMs: number, splitStepId: string | undefined = 'pick') {
    const { db, dialect: d } = api.env.app.handle
    for (const [from, to] of ranges) {
      const q: CohortQuery = { workflowId: 'welcome', fromAt: at(from - 0.5), toAt: at(to - 0.5), windowMs, splitStepId }
      const derived = normal(await cohortFromRuns(db, d, 'default', q))
      // counted by group (any variants) and by sums over the split's variant ids, as the report does
      expect(normal(await cohort(db, d, 'default', q)), `${from}..${to}`).toEqual(derived)
      expect(normal(await cohort(db, d, 'default', { ...q, splitVariants: ['short', 'long'] })), `${from}..${to} by sums`).toEqual(derived)
    }
  }

  it('after every change the cohort from the entries equals the one from the runs and orders, for ranges through repeated entries', async () => {
    await installWorkflow(api.env.app, WORKFLOW)
    const n = 60
    clockTo(0)
    await send(Array.from({ length: n }, (_, i) => customer(i)))
    // a third enter again on day 3, a fifth on day 6 (some of them both)
    clockTo(3)
    await send(
      Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 3 === 0)
        .map((i) => customer(i)),
    )
    // orders: a day after the first entry, 4 days after (within 5 d of day 0, and of day 3), 8 days after
    clockTo(8)
    await send([
      ...Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 2 === 0)
        .map((i) => order(`a-${i}`, i, 10 + i, at(1))),
      ...Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 4 === 1)
        .map((i) => order(`b-${i}`, i, 100 + i, at(4))),
      ...Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 5 === 2)
        .map((i) => order(`c-${i}`, i, 7.5, at(7.9))),
    ])
    const ranges: Array<[number, number]> = [
      [0, 1],
      [0, 4],
      [1, 4],
      [3, 7],
      [0, 9],
      [6, 9],
      [4, 6],
    ]
    await expectAgreement(ranges, 5 * DAY_MS)
    await expectAgreement(ranges, 5 * DAY_MS, undefined)

    // a refund and a cancellation change the outcomes of the entries before them
    clockTo(9)
    await send([
      order('a-0', 0, 10, at(9), 'order.refunded', { refund_amount: '4.00' }),
      order('a-2', 2, 12, at(9), 'order.cancelled', { cancelled_at: at(9) }),
    ])
    await expectAgreement(ranges, 5 * DAY_MS)

    // the share changes: a version holding out everybody, entered on day 6 by a fifth (both groups now)
    await installWorkflow(api.env.app, WORKFLOW.replace('holdout: 50%', 'holdout: 100%'))
    clockTo(6)
    await send(
      Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 5 === 0)
        .map((i) => customer(i)),
    )
    // an order arriving late, placed back on day 6.5
    await send([order('late-10', 10, 55, at(6.5))])
    await expectAgreement([...ranges, [6, 7], [5, 9]], 5 * DAY_MS)

    // another window: the report's first read recomputes the outcomes over it
    expect((await api.server.inject({ method: 'PUT', url: '/api/v1/settings', headers: api.headers, payload: { attribution_window: '2d' } })).statusCode).toBe(
      200,
    )
    await expectAgreement(ranges, 2 * DAY_MS)

    // the migration's rebuild from the runs makes the rows the live writes made
    const db = api.env.app.handle.db
    const rows = async () =>
      (await db.selectFrom('workflow_entries').selectAll().where('store_id', '=', 'default').orderBy('run_id').execute()).map((r) => ({
        ...r,
        orders: Number(r.orders),
        revenue_micros: Number(r.revenue_micros),
        window_ms: Number(r.window_ms),
      }))
    const live = await rows()
    expect(live.length).toBe(n + n / 3 + n / 5)
    await rebuildWorkflowEntries(db, 'default')
    expect(await rows()).toEqual(live)
  }, 180_000)

  it('the report follows at once: a new order in the window, a refund, a cancellation, a new entrant', async () => {
    await installWorkflow(api.env.app, WORKFLOW)
    clockTo(0)
    await send(Array.from({ length: 40 }, (_, i) => customer(i)))
    clockTo(0.5)
    const url = `/api/v1/analytics/workflows/welcome?from=${at(0).slice(0, 10)}&to=${at(0).slice(0, 10)}`
    const before = await get(url)
    const groupOf = async (n: number) => {
      const key = (await api.env.app.handle.db.selectFrom('customers').select('key').where('external_id', '=', `cust-${n}`).executeTakeFirstOrThrow()).key
      const run = await api.env.app.handle.db.selectFrom('runs').select('holdout').where('customer_key', '=', key).executeTakeFirstOrThrow()
      return run.holdout === 1 ? 'control' : 'treated'
    }
    const g = await groupOf(3)
    expect(before.holdout[g]).toMatchObject({ conversions: 0, revenue: 0 })

    await send([order('x', 3, 80, at(1))])
    const ordered = await get(url)
    expect(ordered.holdout[g]).toMatchObject({ customers: before.holdout[g].customers, conversions: 1, revenue: 80 })

    await send([order('x', 3, 80, at(1.5), 'order.refunded', { refund_amount: '30.00' })])
    expect((await get(url)).holdout[g]).toMatchObject({ conversions: 1, revenue: 50 })

    await send([order('x', 3, 80, at(1.6), 'order.cancelled', { cancelled_at: at(1.6) })])
    expect((await get(url)).holdout[g]).toMatchObject({ conversions: 0, revenue: 0 })

    // an order after the window is no outcome of the entry
    await send([order('y', 3, 20, at(5.5))])
    expect((await get(url)).holdout[g]).toMatchObject({ conversions: 0, revenue: 0 })

    // a new customer entering the same day is in the report at once
    clockTo(0.25)
    await send([customer(100)])
    const g100 = await groupOf(100)
    const entered = await get(url)
    expect(entered.holdout[g100].customers).toBe(before.holdout[g100].customers + 1)
    expect(entered.holdout.treated.customers + entered.holdout.control.customers).toBe(41)
    const variants = entered.variants.reduce((s: number, v: { customers: number }) => s + v.customers, 0)
    expect(variants).toBe(entered.holdout.treated.customers)
  }, 120_000)
})
