import { type Kysely, sql, type Transaction } from 'kysely'
import type { DialectName } from './db.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * What the analytics API reads (issue 13, Insight): the counters of `workflow_stats_daily`
 * (written where the state changes they count happen), and the cohorts of a holdout or a split,
 * measured from the runs and the orders themselves.
 *
 * - Days are YYYY-MM-DD in the store's time zone, as the counters are kept; a range is inclusive.
 * - PostgreSQL answers bigint sums as strings: every counter is turned into a number here, and
 *   money (millionths) into a decimal number of the currency, so callers see numbers only.
 */

/** The counters of a workflow (or a store, or a step) over a range of days. */
export interface Counters {
  runs_started: number
  runs_completed: number
  runs_exited: number
  runs_failed: number
  sent: number
  delivered: number
  opened: number
  clicked: number
  unsubscribed: number
  bounced: number
  orders: number
  /** attributed revenue, in the store's currency (from millionths) */
  revenue: number
}

export interface DailyCounters {
  day: string
  runs_started: number
  sent: number
  revenue: number
}

const COUNTERS = [
  'runs_started',
  'runs_completed',
  'runs_exited',
  'runs_failed',
  'sent',
  'delivered',
  'opened',
  'clicked',
  'unsubscribed',
  'bounced',
  'orders',
] as const

/** A count as the driver answers it (number, bigint, numeric string, or null for an empty sum). */
export function countOf(value: unknown): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'number' ? value : Number(value)
}

/**
 * Millionths as the driver answers them → a decimal number of the currency, exact to the
 * millionth: the whole part and the fraction are divided apart, so sums past 2^53 millionths
 * (nine billion in currency) keep their cents.
 */
export function moneyOfMicros(value: unknown): number {
  if (value === null || value === undefined) return 0
  const text = typeof value === 'number' ? value.toFixed(0) : String(value).split('.')[0]!
  const micros = BigInt(text)
  const negative = micros < 0n
  const abs = negative ? -micros : micros
  const amount = Number(abs / 1_000_000n) + Number(abs % 1_000_000n) / 1_000_000
  return negative ? -amount : amount
}

function emptyCounters(): Counters {
  return {
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
    revenue: 0,
  }
}

function countersOf(row: Record<string, unknown> | undefined): Counters {
  const out = emptyCounters()
  if (!row) return out
  for (const key of COUNTERS) out[key] = countOf(row[key])
  out.revenue = moneyOfMicros(row['revenue_micros'])
  return out
}

const sums = () =>
  [
    ...COUNTERS.map((c) => sql<string>`sum(${sql.ref(`workflow_stats_daily.${c}`)})`.as(c)),
    sql<string>`cast(sum(workflow_stats_daily.revenue_micros) as text)`.as('revenue_micros'),
  ] as const

export interface DayRange {
  /** first day, YYYY-MM-DD in the store's zone */
  from: string
  /** last day, inclusive */
  to: string
}

function inRange(db: Db, storeId: string, range: DayRange) {
  return db
    .selectFrom('workflow_stats_daily')
    .where('workflow_stats_daily.store_id', '=', storeId)
    .where('workflow_stats_daily.day', '>=', range.from)
    .where('workflow_stats_daily.day', '<=', range.to)
}

/** A workflow's totals over the days (its whole-workflow rows, step `''`); null workflow: the whole store. */
export async function statsTotals(db: Db, storeId: string, workflowId: string | null, range: DayRange): Promise<Counters> {
  let q = inRange(db, storeId, range).where('workflow_stats_daily.step_id', '=', '')
  if (workflowId !== null) q = q.where('workflow_stats_daily.workflow_id', '=', workflowId)
  const row = await q.select(sums()).executeTakeFirst()
  return countersOf(row as Record<string, unknown> | undefined)
}

/** Per day with any counter (days without a row are absent: the caller fills the zeros). */
export async function statsDaily(db: Db, storeId: string, workflowId: string | null, range: DayRange): Promise<DailyCounters[]> {
  let q = inRange(db, storeId, range).where('workflow_stats_daily.step_id', '=', '')
  if (workflowId !== null) q = q.where('workflow_stats_daily.workflow_id', '=', workflowId)
  const rows = await q
    .select([
      'workflow_stats_daily.day',
      sql<string>`sum(workflow_stats_daily.runs_started)`.as('runs_started'),
      sql<string>`sum(workflow_stats_daily.sent)`.as('sent'),
      sql<string>`cast(sum(workflow_stats_daily.revenue_micros) as text)`.as('revenue_micros'),
    ])
    .groupBy('workflow_stats_daily.day')
    .orderBy('workflow_stats_daily.day')
    .execute()
  return rows.map((r) => ({ day: r.day, runs_started: countOf(r.runs_started), sent: countOf(r.sent), revenue: moneyOfMicros(r.revenue_micros) }))
}

/** A workflow's per-step counters over the days (steps that counted anything), by step id. */
export async function statsPerStep(db: Db, storeId: string, workflowId: string, range: DayRange): Promise<Array<Counters & { step_id: string }>> {
  const rows = await inRange(db, storeId, range)
    .where('workflow_stats_daily.workflow_id', '=', workflowId)
    .where('workflow_stats_daily.step_id', '!=', '')
    .select(['workflow_stats_daily.step_id', ...sums()])
    .groupBy('workflow_stats_daily.step_id')
    .orderBy('workflow_stats_daily.step_id')
    .execute()
  return rows.map((r) => ({ step_id: r.step_id, ...countersOf(r as Record<string, unknown>) }))
}

/** Every workflow's totals over the days (whole-workflow rows), by workflow id. */
export async function statsPerWorkflow(db: Db, storeId: string, range: DayRange): Promise<Array<Counters & { workflow_id: string }>> {
  const rows = await inRange(db, storeId, range)
    .where('workflow_stats_daily.step_id', '=', '')
    .select(['workflow_stats_daily.workflow_id', ...sums()])
    .groupBy('workflow_stats_daily.workflow_id')
    .orderBy('workflow_stats_daily.workflow_id')
    .execute()
  return rows.map((r) => ({ workflow_id: r.workflow_id, ...countersOf(r as Record<string, unknown>) }))
}

/** Id and name of every workflow of the store (deleted ones are gone from here, their counters stay). */
export async function workflowNames(db: Db, storeId: string): Promise<Map<string, string>> {
  const rows = await db.selectFrom('workflows').select(['id', 'name']).where('store_id', '=', storeId).execute()
  return new Map(rows.map((r) => [r.id, r.name]))
}

/** The workflow's current definition (the file as saved), or null when the store has no such workflow. */
export async function currentDefinition(db: Db, storeId: string, workflowId: string): Promise<{ name: string; definition: unknown } | null> {
  const row = await db
    .selectFrom('workflows')
    .innerJoin('workflow_versions', (j) =>
      j
        .onRef('workflow_versions.store_id', '=', 'workflows.store_id')
        .onRef('workflow_versions.workflow_id', '=', 'workflows.id')
        .onRef('workflow_versions.version', '=', 'workflows.version'),
    )
    .select(['workflows.name', 'workflow_versions.definition'])
    .where('workflows.store_id', '=', storeId)
    .where('workflows.id', '=', workflowId)
    .executeTakeFirst()
  return row ? { name: row.name, definition: JSON.parse(row.definition) as unknown } : null
}

/** A customer who entered the workflow in the period and ordered within the window after their first entry. */
export interface CohortBuyer {
  customer_key: string
  /** started_at of the customer's first run in the period */
  first_at: string
  /** the group of that first run */
  holdout: boolean
  /** the variant the customer's runs took at the split step asked for; null when none reached it, or when they took several */
  variant: string | null
  /** orders placed (not cancelled) within the window after first_at */
  orders: number
  /** counted amount (total − refunds) of those orders, in the currency */
  revenue: number
}

/** How many customers entered in one group (and variant): buyers and the rest */
export interface CohortGroup {
  holdout: boolean
  variant: string | null
  /** the customers' runs took more than one variant (they saw several): in no variant's group */
  several_variants: boolean
  customers: number
}

/**
 * A workflow's entrants in a period, in the compact form the statistics take: how many customers
 * each group holds, and the outcomes of those who ordered (the others: no order, no revenue).
 */
export interface Cohort {
  groups: CohortGroup[]
  buyers: CohortBuyer[]
}

export interface CohortQuery {
  workflowId: string
  /** runs started at or after this instant (ISO UTC) … */
  fromAt: string
  /** … and before this one */
  toAt: string
  /** the attribution window: orders within this many ms after the first entry count */
  windowMs: number
  /** the id of a split step (outside any loop) whose variant each customer took; absent: no variants */
  splitStepId?: string | undefined
  /** the split's variant ids as the workflow defines them (a faster count of the groups; others are still counted) */
  splitVariants?: readonly string[] | undefined
}

/** `first_at + windowMs` as an ISO UTC string, in SQL (the column holds `toISOString()` text). */
function windowEnd(dialect: DialectName, windowMs: number) {
  const seconds = Math.round(windowMs) / 1000
  if (dialect === 'postgres') {
    return sql<string>`to_char((e.first_at::timestamptz + make_interval(secs => ${seconds}::float8)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
  }
  return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', e.first_at, ${`+${seconds} seconds`})`
}

/**
 * A workflow's cohort derived from the runs and orders themselves. The report reads it from
 * insight's cohort aggregate instead (store/workflow-entries.repo.ts cohort), which must always
 * agree with this (test/insight/analytics-entries.test.ts), and falls back to this when the
 * entries recorded another split than the one asked for (a workflow whose first split changed id).
 *
 * The customers who entered the workflow in [fromAt, toAt): each counted in the group of their
 * first run there (and the split variant their runs took), and for those who ordered within the
 * window after that first entry (strictly after it: an order that started the run is not its
 * outcome) their orders and revenue. Both groups are measured alike; runs without a customer key
 * (anonymous events) are in no cohort.
 *
 * One query: the entrants once (a range of index runs_cohort_idx, 0024), their sizes counted in
 * SQL, and one seek per entrant into their orders (orders_customer_window_idx, 0024, covers the
 * figures read); only the buyers' rows come back.
 */
export async function cohortFromRuns(db: Db, dialect: DialectName, storeId: string, q: CohortQuery): Promise<Cohort> {
  const amount = dialect === 'postgres' ? sql`cast(o.counted_amount as numeric)` : sql`cast(o.counted_amount as real)`
  const variant =
    q.splitStepId === undefined
      ? sql`cast(null as text)`
      : dialect === 'postgres'
        ? sql`(s.output::json ->> 'variant')`
        : sql`json_extract(s.output, '$.variant')`
  const splitJoin = q.splitStepId === undefined ? sql`` : sql`left join run_steps s on s.run_id = r.id and s.step_key = ${q.splitStepId} and s.type = 'split'`
  const inWindow = sql`o.store_id = ${storeId} and o.customer_key = e.customer_key
      and o.created_at > e.first_at and o.created_at <= ${windowEnd(dialect, q.windowMs)} and o.cancelled = 0`
  // each entrant's orders by one index seek: a lateral join on PostgreSQL, a cross join (which keeps
  // the entrants as the outer loop) on SQLite; left to choose, both planners may scan all the store's orders
  const buyersQuery =
    dialect === 'postgres'
      ? sql`select e.customer_key, e.first_at, e.h_min, e.h_max, e.v_min, e.v_max, 1 as customers, x.orders, x.revenue
    from e
    cross join lateral (select count(*) as orders, sum(${amount}) as revenue from orders o where ${inWindow}) x
    where x.orders > 0`
      : sql`select e.customer_key, e.first_at, e.h_min, e.h_max, e.v_min, e.v_max, 1 as customers, count(*) as orders, sum(${amount}) as revenue
    from e
    cross join orders o
    where ${inWindow}
    group by e.customer_key, e.first_at, e.h_min, e.h_max, e.v_min, e.v_max`
  const { rows } = await sql<{
    customer_key: string | null
    first_at: string | null
    h_min: unknown
    h_max: unknown
    v_min: string | null
    v_max: string | null
    customers: unknown
    orders: unknown
    revenue: unknown
  }>`
    with e as materialized (
      select r.customer_key, min(r.started_at) as first_at, min(r.holdout) as h_min, max(r.holdout) as h_max,
        min(${variant}) as v_min, max(${variant}) as v_max
      from runs r
      ${splitJoin}
      where r.store_id = ${storeId} and r.workflow_id = ${q.workflowId} and r.started_at >= ${q.fromAt} and r.started_at < ${q.toAt}
        and r.customer_key is not null
      group by r.customer_key
    )
    select cast(null as text) as customer_key, cast(null as text) as first_at, h_min, h_max, v_min, v_max,
      count(*) as customers, 0 as orders, 0 as revenue
    from e
    group by h_min, h_max, v_min, v_max
    union all
    ${buyersQuery}
  `.execute(db)
  const single = (min: string | null, max: string | null) => (min !== null && min === max ? min : null)
  const groups: CohortGroup[] = []
  const buyers: Array<CohortBuyer & { mixed: boolean }> = []
  let mixedCustomers = 0
  for (const r of rows) {
    const mixed = countOf(r.h_min) !== countOf(r.h_max)
    if (r.customer_key === null) {
      if (mixed) mixedCustomers += countOf(r.customers)
      else
        groups.push({
          holdout: countOf(r.h_min) === 1,
          variant: single(r.v_min, r.v_max),
          several_variants: r.v_min !== null && r.v_min !== r.v_max,
          customers: countOf(r.customers),
        })
    } else {
      buyers.push({
        customer_key: r.customer_key,
        first_at: r.first_at!,
        holdout: countOf(r.h_min) === 1,
        variant: single(r.v_min, r.v_max),
        orders: countOf(r.orders),
        revenue: Math.round(Number(r.revenue ?? 0) * 1e6) / 1e6,
        mixed,
      })
    }
  }
  if (mixedCustomers > 0) {
    // customers in both groups (the holdout share changed between versions) count in the group of their first run
    const first = await firstRunGroups(db, storeId, q)
    for (const m of first) groups.push(m)
    const byKey = new Map(first.flatMap((g) => g.keys.map((k) => [k, g.holdout] as const)))
    for (const b of buyers) {
      if (!b.mixed) continue
      b.holdout = byKey.get(b.customer_key) ?? b.holdout
      b.variant = null
    }
  }
  return { groups: groups.map(({ keys: _k, ...g }: CohortGroup & { keys?: string[] }) => g), buyers: buyers.map(({ mixed: _m, ...b }) => b) }
}

/** The customers whose runs in the period were in both groups, each in the group (and variant) of their first run: rare, so read run by run. */
async function firstRunGroups(db: Db, storeId: string, q: CohortQuery): Promise<Array<CohortGroup & { keys: string[] }>> {
  const mixed = await db
    .selectFrom('runs')
    .select('customer_key')
    .where('store_id', '=', storeId)
    .where('workflow_id', '=', q.workflowId)
    .where('started_at', '>=', q.fromAt)
    .where('started_at', '<', q.toAt)
    .where('customer_key', 'is not', null)
    .groupBy('customer_key')
    .having(sql`min(holdout)`, '<>', sql`max(holdout)`)
    .execute()
  const keys = mixed.map((m) => m.customer_key!)
  const first = new Map<string, boolean>()
  for (let i = 0; i < keys.length; i += 500) {
    const runs = await db
      .selectFrom('runs')
      .select(['customer_key', 'holdout'])
      .where('store_id', '=', storeId)
      .where('workflow_id', '=', q.workflowId)
      .where('started_at', '>=', q.fromAt)
      .where('started_at', '<', q.toAt)
      .where('customer_key', 'in', keys.slice(i, i + 500))
      .orderBy('started_at')
      .orderBy('id')
      .execute()
    for (const r of runs) if (r.customer_key !== null && !first.has(r.customer_key)) first.set(r.customer_key, r.holdout === 1)
  }
  // in the treated group they reached the split only on treated runs; their variant is not told apart here
  const out = [true, false].map((holdout) => ({ holdout, variant: null, several_variants: false, customers: 0, keys: [] as string[] }))
  for (const [key, holdout] of first) {
    const g = out[holdout ? 0 : 1]!
    g.customers += 1
    g.keys.push(key)
  }
  return out.filter((g) => g.customers > 0)
}
