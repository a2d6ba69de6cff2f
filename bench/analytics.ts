/**
 * The analytics API on a store with a year of trade. `node bin/run-ts.mjs bench/analytics.ts
 * [--orders N] [--requests N] [--postgres]`, or `npm run bench -- --only analytics`.
 *
 * 1. fills a fresh SQLite database (PostgreSQL with --postgres) straight through Kysely: 50,000
 *    customer keys, 100,000 orders over the 365 days before "now" (counted amounts lognormal),
 *    three workflows with `holdout: 10%` (one with a two-way split), a run per entry (about 45,000
 *    per workflow, holdout as the engine assigns it: engine/holdout.ts), the split's step rows,
 *    and the daily counters of each workflow and step;
 * 2. times GET /api/v1/analytics/workflows/:id (the last 30 days, the default; and the whole
 *    year, the longest range) and GET /api/v1/analytics/overview through the real server
 *    (inject, read key), after one warm-up each, and reports p50 and p95 beside the 100 ms target.
 *
 * Writes bench/results/analytics.json. Not a test: nothing here asserts.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { type Insertable, sql } from 'kysely'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseWorkflow } from '../src/core/workflow/parse.ts'
import { holdoutShare, inHoldout, unitHash } from '../src/engine/holdout.ts'
import { buildServer } from '../src/http/server.ts'
import { ManualClock } from '../src/lib/clock.ts'
import type { App } from '../src/main.ts'
import { compareHoldout } from '../src/core/insight/index.ts'
import { cohort, rebuildWorkflowEntries } from '../src/store/workflow-entries.repo.ts'
import { createKey } from '../src/store/stores.repo.ts'
import type { RunStepsTable, RunsTable } from '../src/store/tables.ts'
import { saveWorkflow } from '../src/store/workflows.repo.ts'
import { type Dialect, createBenchEnv, percentile, round } from './lib/env.ts'

export const ANALYTICS_TARGET_MS = 100
const NOW = '2026-12-01T12:00:00.000Z'
const DAY_MS = 86_400_000
const STORE = 'default'

export interface AnalyticsBenchResult {
  dialect: Dialect
  orders: number
  customers: number
  runs: number
  counter_rows: number
  fill_seconds: number
  requests_per_case: number
  target_ms: number
  /** load average (1 min) when the timed requests began and ended: other work on the machine stretches the wall times */
  load_avg_1m: { start: number; end: number }
  /**
   * per case: wall time of each request, and the CPU time this process spent on it (the whole
   * request on SQLite, which runs in-process; on PostgreSQL the server's share is not in it)
   */
  cases: Array<{ name: string; url: string; p50_ms: number; p95_ms: number; max_ms: number; cpu_p50_ms: number; cpu_p95_ms: number }>
  /** where a year of one workflow's report goes (median of 5): the cohort query, and the bootstrap of compareHoldout */
  breakdown_366_days: { entries: number; buyers: number; cohort_sql_ms: number; compare_holdout_ms: number }
}

/** A seeded generator (mulberry32): the same store every time. */
function generator(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORKFLOWS = [
  { id: 'welcome', body: 'trigger: { event: customer.created }\nholdout: 10%\nsteps:\n  - id: mail\n    action: log\n    with: { message: hi }\n' },
  {
    id: 'winback',
    body:
      'trigger: { event: customer.inactive }\nholdout: 10%\nsteps:\n  - id: pick\n    split:\n      variants:\n' +
      '        - id: short\n          weight: 1\n          steps:\n            - id: mail_short\n              action: log\n              with: { message: a }\n' +
      '        - id: long\n          weight: 1\n          steps:\n            - id: mail_long\n              action: log\n              with: { message: b }\n',
  },
  { id: 'post-purchase', body: 'trigger: { event: order.paid }\nholdout: 10%\nsteps:\n  - id: thanks\n    action: log\n    with: { message: thanks }\n' },
]

async function insertChunks<T>(rows: T[], size: number, insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size))
}

/** A year of trade in the `default` store, written straight into the tables (see the header). */
export async function fillStore(app: App, clock: ManualClock, orderCount: number): Promise<{ runCount: number; counterRows: number }> {
  const db = app.handle.db
  const customerCount = Math.round(orderCount / 2)
  const random = generator(20261201)
  const now = Date.parse(NOW)
  const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10)

  for (const w of WORKFLOWS) {
    const yaml = `id: ${w.id}\nname: ${w.id}\n${w.body}`
    const parsed = parseWorkflow(yaml, (t) => app.actions.get(t))
    parsed.file.active = true
    await saveWorkflow(db, STORE, parsed, yaml, clock.now())
  }

  // orders: a year of them, customers drawn with a long tail (some buy often, most once)
  const orders = Array.from({ length: orderCount }, (_, i) => {
    const customer = Math.floor(customerCount * random() ** 1.6)
    const at = new Date(now - 365 * DAY_MS + random() * 365 * DAY_MS).toISOString()
    // lognormal, median about 45
    const u = Math.max(1e-12, random())
    const v = random()
    const amount = (45 * Math.exp(0.8 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v))).toFixed(2)
    return {
      store_id: STORE,
      id: `o${i}`,
      customer_key: `k${customer}`,
      number: String(1000 + i),
      currency: 'USD',
      total_price: amount,
      counted_amount: amount,
      refunded: '0.00',
      cancelled: 0,
      financial_status: 'paid',
      fulfillment_status: null,
      checkout_id: null,
      fulfillment_at: null,
      data: '{}',
      created_at: at,
      updated_at: at,
    }
  })
  await db.transaction().execute((trx) => insertChunks(orders, 500, (chunk) => trx.insertInto('orders').values(chunk).execute()))

  // runs: each workflow sees ~45,000 entries over the year, holdout as the engine assigns it
  let runCount = 0
  const counters = new Map<string, { runs_started: number; sent: number; orders: number; revenue_micros: number }>()
  const count = (workflow: string, step: string, day: string, runs: number, sent: number) => {
    const key = `${workflow}\u0000${step}\u0000${day}`
    const c = counters.get(key) ?? { runs_started: 0, sent: 0, orders: 0, revenue_micros: 0 }
    c.runs_started += runs
    c.sent += sent
    if (sent > 0 && random() < 0.04) {
      c.orders += 1
      c.revenue_micros += Math.round(45_000_000 * (0.5 + random()))
    }
    counters.set(key, c)
  }
  for (const w of WORKFLOWS) {
    const share = holdoutShare('10%')
    const runs: Array<Insertable<RunsTable>> = []
    const steps: Array<Insertable<RunStepsTable>> = []
    for (let i = 0; i < 45_000; i++) {
      const customer = `k${Math.floor(customerCount * random())}`
      const startedMs = now - 365 * DAY_MS + random() * 365 * DAY_MS
      const started = new Date(startedMs).toISOString()
      const holdout = inHoldout(customer, w.id, share)
      const id = `r-${w.id}-${i}`
      runs.push({
        id,
        store_id: STORE,
        workflow_id: w.id,
        workflow_version: 1,
        status: 'completed',
        trigger_event_seq: 0,
        trigger_event_id: `e-${id}`,
        customer_key: customer,
        customer_id: customer,
        customer_email: null,
        holdout: holdout ? 1 : 0,
        state: '{}',
        due_at: null,
        signal_event_seq: null,
        lease_owner: null,
        lease_until: null,
        version: 1,
        started_at: started,
        ended_at: started,
        updated_at: started,
      })
      const day = ymd(startedMs)
      count(w.id, '', day, 1, holdout ? 0 : 1)
      if (!holdout && w.id === 'winback') {
        // drawn as engine/steps/split.ts draws: by workflow, step and customer, so stable per customer
        const variant = unitHash(`${w.id}:pick:${customer}`) < 0.5 ? 'short' : 'long'
        steps.push({
          run_id: id,
          store_id: STORE,
          step_key: 'pick',
          seq: 1,
          step_id: 'pick',
          type: 'split',
          status: 'completed',
          attempts: 1,
          input: null,
          output: JSON.stringify({ variant }),
          error: null,
          started_at: started,
          ended_at: started,
          wake_at: null,
        })
        count(w.id, `mail_${variant}`, day, 0, 1)
      } else if (!holdout) {
        count(w.id, w.id === 'welcome' ? 'mail' : 'thanks', day, 0, 1)
      }
    }
    runCount += runs.length
    await db.transaction().execute(async (trx) => {
      await insertChunks(runs, 500, (chunk) => trx.insertInto('runs').values(chunk).execute())
      await insertChunks(steps, 500, (chunk) => trx.insertInto('run_steps').values(chunk).execute())
    })
  }
  const counterRows = [...counters.entries()].map(([key, c]) => {
    const [workflow_id, step_id, day] = key.split('\u0000') as [string, string, string]
    return {
      store_id: STORE,
      workflow_id,
      step_id,
      day,
      runs_started: c.runs_started,
      runs_completed: c.runs_started,
      runs_exited: 0,
      runs_failed: 0,
      sent: c.sent,
      delivered: c.sent,
      opened: Math.floor(c.sent / 3),
      clicked: Math.floor(c.sent / 10),
      unsubscribed: 0,
      bounced: 0,
      orders: c.orders,
      revenue_micros: c.revenue_micros,
    }
  })
  await db.transaction().execute((trx) => insertChunks(counterRows, 500, (chunk) => trx.insertInto('workflow_stats_daily').values(chunk).execute()))
  // insight's cohort aggregate, as migration 0026 enters the runs a store already has (the live
  // writes keep it so from then on: test/insight/analytics-entries.test.ts)
  await rebuildWorkflowEntries(db, STORE)
  // a store a year old has planner statistics (autovacuum's analyze); rows written a moment ago have none yet
  if (app.handle.dialect === 'postgres') await sql`analyze runs, orders, run_steps, workflow_stats_daily, workflow_entries`.execute(db)
  return { runCount, counterRows: counterRows.length }
}

export async function benchAnalytics(options: { dialect?: Dialect; orders?: number; requests?: number } = {}): Promise<AnalyticsBenchResult> {
  const dialect = options.dialect ?? 'sqlite'
  const orderCount = options.orders ?? 100_000
  const customerCount = Math.round(orderCount / 2)
  const requests = options.requests ?? 60
  const clock = new ManualClock(NOW)
  const env = await createBenchEnv(dialect, { clock })
  try {
    const db = env.app.handle.db
    const t0 = performance.now()
    const { runCount, counterRows } = await fillStore(env.app, clock, orderCount)
    const fillSeconds = round((performance.now() - t0) / 1000, 1)

    const server = await buildServer(env.app)
    try {
      const key = (await createKey(db, STORE, 'read', clock.now())).key
      const headers = { authorization: `Bearer ${key}` }
      const yearFrom = new Date(Date.parse(NOW) - 365 * DAY_MS).toISOString().slice(0, 10)
      const cases = [
        { name: 'workflow, last 30 days (holdout)', urls: WORKFLOWS.filter((w) => w.id !== 'winback').map((w) => `/api/v1/analytics/workflows/${w.id}`) },
        { name: 'workflow, last 30 days (holdout + split)', urls: ['/api/v1/analytics/workflows/winback'] },
        { name: 'workflow, 366 days (holdout + split)', urls: [`/api/v1/analytics/workflows/winback?from=${yearFrom}`] },
        { name: 'workflow, 366 days (holdout)', urls: [`/api/v1/analytics/workflows/welcome?from=${yearFrom}`] },
        { name: 'overview, last 30 days', urls: ['/api/v1/analytics/overview'] },
        { name: 'overview, 366 days', urls: [`/api/v1/analytics/overview?from=${yearFrom}`] },
      ]
      const results: AnalyticsBenchResult['cases'] = []
      const loadStart = loadavg()[0]!
      for (const c of cases) {
        const times: number[] = []
        const cpu: number[] = []
        for (const url of c.urls) {
          const res = await server.inject({ method: 'GET', url, headers })
          if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`)
        }
        for (let i = 0; i < requests; i++) {
          const url = c.urls[i % c.urls.length]!
          const s = performance.now()
          const c0 = process.cpuUsage()
          const res = await server.inject({ method: 'GET', url, headers })
          const used = process.cpuUsage(c0)
          times.push(performance.now() - s)
          cpu.push((used.user + used.system) / 1000)
          if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`)
        }
        times.sort((a, b) => a - b)
        cpu.sort((a, b) => a - b)
        results.push({
          name: c.name,
          url: c.urls[0]!,
          p50_ms: round(percentile(times, 50)),
          p95_ms: round(percentile(times, 95)),
          max_ms: round(times[times.length - 1]!),
          cpu_p50_ms: round(percentile(cpu, 50)),
          cpu_p95_ms: round(percentile(cpu, 95)),
        })
      }
      const loadEnd = loadavg()[0]!
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
      const sqlMs: number[] = []
      const statsMs: number[] = []
      let entries = 0
      let buyers = 0
      for (let i = 0; i < 5; i++) {
        let t = performance.now()
        const entrants = await cohort(db, dialect, STORE, {
          workflowId: 'welcome',
          fromAt: `${yearFrom}T00:00:00.000Z`,
          toAt: new Date(Date.parse(NOW) + DAY_MS).toISOString(),
          windowMs: 5 * DAY_MS,
        })
        sqlMs.push(performance.now() - t)
        const group = (holdout: boolean) => ({
          customers: entrants.groups.filter((g) => g.holdout === holdout).reduce((n, g) => n + g.customers, 0),
          outcomes: entrants.buyers.filter((b) => b.holdout === holdout).map((b) => ({ converted: true, revenue: b.revenue })),
        })
        t = performance.now()
        compareHoldout({ treated: group(false), control: group(true) })
        statsMs.push(performance.now() - t)
        entries = entrants.groups.reduce((n, g) => n + g.customers, 0)
        buyers = entrants.buyers.length
      }
      const breakdown = { entries, buyers, cohort_sql_ms: round(median(sqlMs)), compare_holdout_ms: round(median(statsMs)) }
      return {
        breakdown_366_days: breakdown,
        load_avg_1m: { start: round(loadStart), end: round(loadEnd) },
        dialect,
        orders: orderCount,
        customers: customerCount,
        runs: runCount,
        counter_rows: counterRows,
        fill_seconds: fillSeconds,
        requests_per_case: requests,
        target_ms: ANALYTICS_TARGET_MS,
        cases: results,
      }
    } finally {
      await server.close()
    }
  } finally {
    await env.cleanup()
  }
}

export function writeAnalyticsResults(results: AnalyticsBenchResult[]): void {
  const dir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}analytics.json`, `${JSON.stringify({ generated_at: new Date().toISOString(), results }, null, 2)}\n`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  const flag = (name: string) => {
    const i = argv.indexOf(name)
    return i >= 0 ? Number(argv[i + 1]) : undefined
  }
  const results: AnalyticsBenchResult[] = []
  for (const dialect of argv.includes('--postgres') ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    const orders = flag('--orders')
    const requests = flag('--requests')
    const r = await benchAnalytics({ dialect, ...(orders ? { orders } : {}), ...(requests ? { requests } : {}) })
    results.push(r)
    console.log(`${dialect}: ${r.orders} orders, ${r.customers} customers, ${r.runs} runs, ${r.counter_rows} counter rows, filled in ${r.fill_seconds} s`)
    console.log(`  a year of one workflow: ${JSON.stringify(r.breakdown_366_days)}; load average ${r.load_avg_1m.start} → ${r.load_avg_1m.end}`)
    for (const c of r.cases) {
      console.log(
        `  ${c.name.padEnd(42)} p50 ${String(c.p50_ms).padStart(7)} ms  p95 ${String(c.p95_ms).padStart(7)} ms  target ≤ ${r.target_ms} ms  ${c.p95_ms <= r.target_ms ? 'pass' : 'MISS'}  (CPU p50 ${c.cpu_p50_ms} p95 ${c.cpu_p95_ms} ms)`,
      )
    }
  }
  writeAnalyticsResults(results)
  console.log('results: bench/results/analytics.json')
}
