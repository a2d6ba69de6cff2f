import { type Kysely, type RawBuilder, type Selectable, sql, type Transaction } from 'kysely'
import { byStart, chainOf, type EntryChain, type OrderFacts, outcomeOf } from '../core/insight/entries.ts'
import { parseDuration } from '../lib/durations.ts'
import { toMicro } from '../lib/money-scale.ts'
import type { DialectName } from './db.ts'
import { type Cohort, type CohortGroup, type CohortQuery, cohortFromRuns, countOf } from './analytics.repo.ts'
import type { Database, WorkflowEntriesTable } from './tables.ts'
import { storeRowInTx } from './tx-memo.ts'
import { isSqlite } from './db.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * Insight's cohort aggregate (migration 0026, `workflow_entries`): one row per run that has a
 * customer, with what the holdout and split report needs of it (core/insight/entries.ts): the
 * customer's previous entry, where their group or variant next changes, and the orders and
 * revenue within the attribution window after it. Kept current where the facts change, in the
 * same transaction:
 *
 * - a run inserted (store/storage.ts insertRuns): its entry, and the customer's chain;
 * - a split step recorded (storage.ts upsertStep, runs-bulk upsertSteps): the run's variant;
 * - an order projected (store/projection.ts): the outcomes of the customer's entries, recomputed
 *   from their orders (so a refund, a cancellation or a late order is the same in any order);
 * - customers merged (projection.ts mergeCustomers): the entries move with the runs;
 * - the store's attribution window changed: the report finds entries measured over another window
 *   and recomputes their outcomes first (refreshWindow).
 *
 * Entries stay when retention prunes old runs, like attributions: they are the store's record of
 * who entered and what came of it.
 */

const DEFAULT_WINDOW = '5d'
const CHUNK = 300

function windowOf(settings: string | undefined): number {
  try {
    const value = (JSON.parse(settings ?? '{}') as { attribution_window?: unknown }).attribution_window
    return parseDuration(typeof value === 'string' ? value : DEFAULT_WINDOW)
  } catch {
    return parseDuration(DEFAULT_WINDOW)
  }
}

/** The store's attribution window, ms (the default 5 d when unset or unreadable). */
export async function storeWindowMs(db: Db, storeId: string): Promise<number> {
  const row = await storeRowInTx(db, storeId)
  return windowOf(row?.settings)
}

function microsOf(value: string | null): bigint {
  if (!value) return 0n
  try {
    return toMicro(value.trim())
  } catch {
    return 0n
  }
}

interface OrderRow {
  customer_key: string | null
  created_at: string
  cancelled: number
  counted_amount: string | null
}

const orderFacts = (o: OrderRow): OrderFacts => ({ created_at: o.created_at, cancelled: o.cancelled, counted_micros: microsOf(o.counted_amount) })

type EntryRow = Selectable<
  Pick<
    WorkflowEntriesTable,
    | 'store_id'
    | 'workflow_id'
    | 'started_at'
    | 'run_id'
    | 'customer_key'
    | 'holdout'
    | 'variant'
    | 'split_key'
    | 'prev_at'
    | 'break_at'
    | 'variant_from'
    | 'run_variant'
    | 'run_split_key'
    | 'orders'
    | 'revenue_micros'
    | 'window_ms'
  >
>

/** The derived fields of each entry of one customer (all their workflows), from their orders; the rows that changed, with their new values. */
function recompute(
  entries: EntryRow[],
  orders: OrderFacts[],
  windowMs: number,
): Array<{ row: EntryRow; next: EntryChain & { orders: number; revenue_micros: string } }> {
  const byWorkflow = new Map<string, EntryRow[]>()
  for (const e of entries) {
    const list = byWorkflow.get(e.workflow_id) ?? []
    list.push(e)
    byWorkflow.set(e.workflow_id, list)
  }
  const changed: Array<{ row: EntryRow; next: EntryChain & { orders: number; revenue_micros: string } }> = []
  for (const list of byWorkflow.values()) {
    list.sort(byStart)
    const chain = chainOf(
      list.map((e) => ({ run_id: e.run_id, started_at: e.started_at, holdout: countOf(e.holdout), variant: e.variant, split_key: e.split_key })),
    )
    list.forEach((row, i) => {
      const outcome = outcomeOf(row.started_at, windowMs, orders)
      const next = { ...chain[i]!, orders: outcome.orders, revenue_micros: outcome.revenue_micros.toString() }
      const same =
        row.prev_at === next.prev_at &&
        row.break_at === next.break_at &&
        row.variant_from === next.variant_from &&
        row.run_variant === next.run_variant &&
        row.run_split_key === next.run_split_key &&
        countOf(row.orders) === next.orders &&
        String(row.revenue_micros) === next.revenue_micros &&
        countOf(row.window_ms) === windowMs
      if (!same) changed.push({ row, next })
    })
  }
  return changed
}

async function writeChanged(db: Db, changed: ReturnType<typeof recompute>, windowMs: number): Promise<void> {
  for (const { row, next } of changed) {
    await db
      .updateTable('workflow_entries')
      .set({ ...next, window_ms: windowMs })
      .where('store_id', '=', row.store_id)
      .where('workflow_id', '=', row.workflow_id)
      .where('started_at', '=', row.started_at)
      .where('run_id', '=', row.run_id)
      .execute()
  }
}

const ENTRY_COLUMNS = [
  'store_id',
  'workflow_id',
  'started_at',
  'run_id',
  'customer_key',
  'holdout',
  'variant',
  'split_key',
  'prev_at',
  'break_at',
  'variant_from',
  'run_variant',
  'run_split_key',
  'orders',
  'revenue_micros',
  'window_ms',
] as const

/** What an entry's outcome reads of each of the customer's orders. */
export interface CustomerOrderFacts {
  customer_key: string | null
  created_at: string
  cancelled: number
  counted_amount: string
}

/**
 * A customer's entries. On SQLite their keys are found through the customer index (which holds
 * them: a covering read), then the rows by key: asked for whole rows by customer in one step,
 * SQLite without statistics reads the store's whole range of the primary key instead (a WITHOUT
 * ROWID table makes each secondary-index hit a second seek, which its planner weighs higher than a
 * range of unknown length), a cost that grew with every run the store had ever started.
 * PostgreSQL is asked plainly: it takes the customer index for that, while the two-step form,
 * planned before its statistics exist (a young table), became a scan of the store's entries for
 * each one found (28 ms a query in the benchmark).
 */
function entriesOfCustomer(db: Db, storeId: string, customerKey: string) {
  const entries = db.selectFrom('workflow_entries').select(ENTRY_COLUMNS)
  if (!isSqlite(db)) return entries.where('store_id', '=', storeId).where('customer_key', '=', customerKey).execute()
  return entries
    .where((eb) =>
      eb(
        eb.refTuple('store_id', 'workflow_id', 'started_at', 'run_id'),
        'in',
        eb
          .selectFrom('workflow_entries as mine')
          .select(['mine.store_id', 'mine.workflow_id', 'mine.started_at', 'mine.run_id'])
          .where('mine.store_id', '=', storeId)
          .where('mine.customer_key', '=', customerKey)
          .$asTuple('store_id', 'workflow_id', 'started_at', 'run_id'),
      ),
    )
    .execute()
}

/**
 * Recomputes a customer's entries (every workflow) from their entries and orders: exact, in any
 * order of arrival. `orders`: the customer's orders when the caller has just read them.
 */
export async function refreshCustomerEntries(db: Db, storeId: string, customerKey: string, windowMs?: number, known?: CustomerOrderFacts[]): Promise<void> {
  const entries = await entriesOfCustomer(db, storeId, customerKey)
  if (entries.length === 0) return
  const window = windowMs ?? (await storeWindowMs(db, storeId))
  const orders =
    known ??
    (await db
      .selectFrom('orders')
      .select(['customer_key', 'created_at', 'cancelled', 'counted_amount'])
      .where('store_id', '=', storeId)
      .where('customer_key', '=', customerKey)
      .execute())
  await writeChanged(db, recompute(entries, orders.map(orderFacts), window), window)
}

/** Runs just inserted: an entry for each run with a customer, then those customers' chains (store/storage.ts insertRuns). */
export async function addWorkflowEntries(
  db: Db,
  runs: ReadonlyArray<{ id: string; store_id: string; workflow_id: string; customer_key: string | null; holdout: boolean; started_at: string }>,
): Promise<void> {
  const rows = runs.filter((r): r is typeof r & { customer_key: string } => r.customer_key !== null)
  if (rows.length === 0) return
  const windows = new Map<string, number>()
  for (const r of rows) if (!windows.has(r.store_id)) windows.set(r.store_id, await storeWindowMs(db, r.store_id))
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db
      .insertInto('workflow_entries')
      .values(
        rows.slice(i, i + CHUNK).map((r) => ({
          store_id: r.store_id,
          workflow_id: r.workflow_id,
          started_at: r.started_at,
          run_id: r.id,
          customer_key: r.customer_key,
          holdout: r.holdout ? 1 : 0,
          window_ms: windows.get(r.store_id)!,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
  const customers = new Map(rows.map((r) => [`${r.store_id}\u0000${r.customer_key}`, r]))
  for (const r of customers.values()) await refreshCustomerEntries(db, r.store_id, r.customer_key, windows.get(r.store_id))
}

/**
 * Split steps just recorded: the variant each run took, on its entry. An entry keeps the first
 * split its run recorded (`split_key`); the report asks for one split and reads entries of
 * another the slow way (store/analytics.repo.ts cohortFromRuns).
 */
export async function recordSplitVariants(
  db: Db,
  steps: ReadonlyArray<{ run_id: string; store_id: string; step_key: string; type: string; output?: unknown }>,
): Promise<void> {
  for (const step of steps) {
    if (step.type !== 'split') continue
    const variant = (step.output as { variant?: unknown } | null | undefined)?.variant
    if (typeof variant !== 'string') continue
    const { rows } = await sql<{ workflow_id: string; started_at: string; customer_key: string; split_key: string | null; variant: string | null }>`
      select e.workflow_id, e.started_at, e.customer_key, e.split_key, e.variant from runs r
      join workflow_entries e on e.store_id = r.store_id and e.workflow_id = r.workflow_id and e.started_at = r.started_at and e.run_id = r.id
      where r.id = ${step.run_id}`.execute(db)
    const entry = rows[0]
    if (!entry || (entry.split_key !== null && entry.split_key !== step.step_key) || (entry.split_key === step.step_key && entry.variant === variant)) continue
    await db
      .updateTable('workflow_entries')
      .set({ split_key: step.step_key, variant })
      .where('store_id', '=', step.store_id)
      .where('workflow_id', '=', entry.workflow_id)
      .where('started_at', '=', entry.started_at)
      .where('run_id', '=', step.run_id)
      .execute()
    await refreshCustomerEntries(db, step.store_id, entry.customer_key)
  }
}

/** A customer merged into another (store/projection.ts mergeCustomers, after their runs and orders moved): their entries go with them. */
export async function moveWorkflowEntries(db: Db, storeId: string, fromKey: string, intoKey: string): Promise<void> {
  // found by the customer index, then moved by key: an UPDATE by customer that changes the
  // customer column is planned by SQLite over the primary key's store range (every entry of the store)
  const entries = await db
    .selectFrom('workflow_entries')
    .select(['workflow_id', 'started_at', 'run_id'])
    .where('store_id', '=', storeId)
    .where('customer_key', '=', fromKey)
    .execute()
  for (const e of entries) {
    await db
      .updateTable('workflow_entries')
      .set({ customer_key: intoKey })
      .where('store_id', '=', storeId)
      .where('workflow_id', '=', e.workflow_id)
      .where('started_at', '=', e.started_at)
      .where('run_id', '=', e.run_id)
      .execute()
  }
  if (entries.length > 0) await refreshCustomerEntries(db, storeId, intoKey)
}

/** Every order of the store with a customer, by customer. */
async function ordersByCustomer(db: Db, storeId: string): Promise<Map<string, OrderFacts[]>> {
  const orders = await db
    .selectFrom('orders')
    .select(['customer_key', 'created_at', 'cancelled', 'counted_amount'])
    .where('store_id', '=', storeId)
    .where('customer_key', 'is not', null)
    .execute()
  const out = new Map<string, OrderFacts[]>()
  for (const o of orders) {
    const list = out.get(o.customer_key!) ?? []
    list.push(orderFacts(o))
    out.set(o.customer_key!, list)
  }
  return out
}

/**
 * The store's entries measured over another window than `windowMs` (the setting changed since):
 * their customers' entries recomputed over this one. Returns how many customers were.
 */
export async function refreshWindow(db: Db, storeId: string, windowMs: number): Promise<number> {
  const stale = await db
    .selectFrom('workflow_entries')
    .select('customer_key')
    .distinct()
    .where('store_id', '=', storeId)
    .where('window_ms', '<>', windowMs)
    .execute()
  if (stale.length === 0) return 0
  const keys = stale.map((s) => s.customer_key)
  const orders = await ordersByCustomer(db, storeId)
  for (let i = 0; i < keys.length; i += CHUNK) {
    const entries = await db
      .selectFrom('workflow_entries')
      .select(ENTRY_COLUMNS)
      .where('store_id', '=', storeId)
      .where('customer_key', 'in', keys.slice(i, i + CHUNK))
      .execute()
    const byCustomer = new Map<string, EntryRow[]>()
    for (const e of entries) byCustomer.set(e.customer_key, [...(byCustomer.get(e.customer_key) ?? []), e])
    for (const [key, list] of byCustomer) await writeChanged(db, recompute(list, orders.get(key) ?? [], windowMs), windowMs)
  }
  return keys.length
}

/**
 * Fills the store's entries from its runs, split steps and orders (migration 0026 for the runs
 * before it; the bench for a store written straight into the tables): what the live writes above
 * would have made. Entries already there for the store are replaced.
 */
export async function rebuildWorkflowEntries(db: Db, storeId: string): Promise<number> {
  const windowMs = await storeWindowMs(db, storeId)
  const runs = await db
    .selectFrom('runs')
    .select(['id', 'workflow_id', 'customer_key', 'holdout', 'started_at'])
    .where('store_id', '=', storeId)
    .where('customer_key', 'is not', null)
    .execute()
  const splits = await db
    .selectFrom('run_steps')
    .select(['run_id', 'step_key', 'output'])
    .where('store_id', '=', storeId)
    .where('type', '=', 'split')
    .orderBy('run_id')
    .orderBy('seq')
    .execute()
  const firstSplit = new Map<string, { key: string; variant: string }>()
  for (const s of splits) {
    if (firstSplit.has(s.run_id)) continue
    let variant: unknown
    try {
      variant = s.output === null ? undefined : (JSON.parse(s.output) as { variant?: unknown } | null)?.variant
    } catch {
      variant = undefined
    }
    if (typeof variant === 'string') firstSplit.set(s.run_id, { key: s.step_key, variant })
  }
  const orders = await ordersByCustomer(db, storeId)
  const byCustomer = new Map<string, EntryRow[]>()
  for (const r of runs) {
    const row: EntryRow = {
      store_id: storeId,
      workflow_id: r.workflow_id,
      started_at: r.started_at,
      run_id: r.id,
      customer_key: r.customer_key!,
      holdout: r.holdout,
      variant: firstSplit.get(r.id)?.variant ?? null,
      split_key: firstSplit.get(r.id)?.key ?? null,
      prev_at: null,
      break_at: null,
      variant_from: null,
      run_variant: null,
      run_split_key: null,
      orders: 0,
      revenue_micros: 0,
      window_ms: -1,
    }
    const list = byCustomer.get(row.customer_key) ?? []
    list.push(row)
    byCustomer.set(row.customer_key, list)
  }
  const out: Array<Record<string, unknown>> = []
  for (const [key, list] of byCustomer) {
    for (const { row, next } of recompute(list, orders.get(key) ?? [], windowMs)) {
      out.push({ ...row, ...next, window_ms: windowMs })
    }
  }
  // in the order live writes make them (runs start in time order): a range of the key is a run of pages
  out.sort((x, y) => (x.workflow_id as string).localeCompare(y.workflow_id as string) || byStart(x as EntryRow, y as EntryRow))
  await db.deleteFrom('workflow_entries').where('store_id', '=', storeId).execute()
  for (let i = 0; i < out.length; i += CHUNK) {
    await db
      .insertInto('workflow_entries')
      .values(out.slice(i, i + CHUNK) as never)
      .execute()
  }
  return out.length
}

/**
 * A workflow's entrants in [fromAt, toAt) and their outcomes (store/analytics.repo.ts Cohort), as
 * the holdout and split report reads them: from the entries, else (another split than the one
 * the entries recorded) derived from the runs and orders.
 */
export async function cohort(db: Db, dialect: DialectName, storeId: string, q: CohortQuery): Promise<Cohort> {
  return (await entryCohort(db, storeId, q)) ?? (await cohortFromRuns(db, dialect, storeId, q))
}

/**
 * The cohort of a workflow's entrants in [fromAt, toAt) from the entries (store/analytics.repo.ts
 * Cohort, the same figures as cohortFromRuns): one range of the table for the group sizes, the
 * same range for the buyers' rows; customers whose entries in the range disagree (both groups,
 * several variants: rare, from before assignment was stable) are read entry by entry. Null when
 * the entries name another split than the one asked for: the caller reads the runs instead.
 */
export async function entryCohort(db: Db, storeId: string, q: CohortQuery): Promise<Cohort | null> {
  for (let attempt = 0; ; attempt++) {
    const result = await readCohort(db, storeId, q)
    if (result !== 'stale') return result
    if (attempt > 0) throw new Error('workflow entries: the window changed while the report was read')
    await refreshWindow(db, storeId, Math.round(q.windowMs))
  }
}

async function readCohort(db: Db, storeId: string, q: CohortQuery): Promise<Cohort | null | 'stale'> {
  const windowMs = Math.round(q.windowMs)
  const first = sql`(e.prev_at is null or e.prev_at < ${q.fromAt})`
  const broken = sql`case when e.break_at is not null and e.break_at < ${q.toAt} then 1 else 0 end`
  const variant = q.splitStepId === undefined ? sql`cast(null as text)` : sql`case when e.variant_from < ${q.toAt} then e.run_variant end`
  const foreign = q.splitStepId === undefined ? sql`0` : sql`case when e.variant_from < ${q.toAt} and e.run_split_key <> ${q.splitStepId} then 1 else 0 end`
  // the customers' first entries in the range: one range of the key, filtered, never joined
  const range = sql`e.store_id = ${storeId} and e.workflow_id = ${q.workflowId} and e.started_at >= ${q.fromAt} and e.started_at < ${q.toAt} and ${first}`
  const sizes = await groupSizes(db, q, range, variant, foreign, windowMs)
  if (sizes.foreign) return null
  if (sizes.stale) return 'stale'
  const { rows } = await sql<{
    customer_key: string
    started_at: string
    holdout: unknown
    variant: string | null
    broken: unknown
    orders: unknown
    revenue_micros: unknown
  }>`
    select e.customer_key, e.started_at, e.holdout, ${variant} as variant, ${broken} as broken, e.orders, e.revenue_micros
    from workflow_entries e
    where ${range} and (e.orders > 0 or e.break_at is not null) and (e.orders > 0 or e.break_at < ${q.toAt})`.execute(db)
  const buyers: Cohort['buyers'] = []
  const disagreeing = new Map<string, (typeof rows)[number]>()
  const cellOf = (holdout: unknown, v: string | null) => `${countOf(holdout)}\u0000${v ?? ''}`
  const counts = new Map(sizes.cells.map((c) => [cellOf(c.holdout ? 1 : 0, c.variant), { ...c }]))
  for (const r of rows) {
    if (countOf(r.broken) === 1) {
      // counted entry by entry below, not in the cell of their first entry
      const cell = counts.get(cellOf(r.holdout, r.variant))
      if (cell) cell.customers -= 1
      disagreeing.set(r.customer_key, r)
      continue
    }
    buyers.push({
      customer_key: r.customer_key,
      first_at: r.started_at,
      holdout: countOf(r.holdout) === 1,
      variant: r.variant,
      orders: countOf(r.orders),
      revenue: Number(r.revenue_micros) / 1e6,
    })
  }
  const groups: CohortGroup[] = [...counts.values()]
    .filter((c) => c.customers > 0)
    .map((c) => ({ holdout: c.holdout, variant: c.variant, several_variants: false, customers: c.customers }))
  if (disagreeing.size > 0) {
    // each in the group of their first entry; in a variant only when all their entries agree on one
    const keys = [...disagreeing.keys()]
    const entries: Array<{ customer_key: string; started_at: string; run_id: string; holdout: unknown; variant: string | null; split_key: string | null }> = []
    for (let i = 0; i < keys.length; i += CHUNK) {
      const part = await db
        .selectFrom('workflow_entries as e')
        .select(['e.customer_key', 'e.started_at', 'e.run_id', 'e.holdout', 'e.variant', 'e.split_key'])
        .where('e.store_id', '=', storeId)
        .where('e.customer_key', 'in', keys.slice(i, i + CHUNK))
        .where('e.workflow_id', '=', q.workflowId)
        .where('e.started_at', '>=', q.fromAt)
        .where('e.started_at', '<', q.toAt)
        .execute()
      entries.push(...part)
    }
    // a variant taken at another split than the one asked for: the caller reads the runs
    if (q.splitStepId !== undefined && entries.some((e) => e.split_key !== null && e.split_key !== q.splitStepId)) return null
    const byCustomer = new Map<string, typeof entries>()
    for (const e of entries) byCustomer.set(e.customer_key, [...(byCustomer.get(e.customer_key) ?? []), e])
    for (const [key, list] of byCustomer) {
      list.sort(byStart)
      const holdout = countOf(list[0]!.holdout)
      const mixed = list.some((e) => countOf(e.holdout) !== holdout)
      const taken = q.splitStepId === undefined ? [] : [...new Set(list.flatMap((e) => (e.variant === null ? [] : [e.variant])))]
      const one = !mixed && taken.length === 1 ? taken[0]! : null
      groups.push({ holdout: holdout === 1, variant: one, several_variants: !mixed && taken.length > 1, customers: 1 })
      const r = disagreeing.get(key)!
      if (countOf(r.orders) > 0) {
        buyers.push({
          customer_key: key,
          first_at: r.started_at,
          holdout: holdout === 1,
          variant: one,
          orders: countOf(r.orders),
          revenue: Number(r.revenue_micros) / 1e6,
        })
      }
    }
  }
  return { groups, buyers }
}

interface Sizes {
  /** customers by the group and variant of their first entry in the range (those whose entries disagree included) */
  cells: Array<{ holdout: boolean; variant: string | null; customers: number }>
  /** first entries measured over another window */
  stale: boolean
  /** a variant taken at another split than the one asked for */
  foreign: boolean
}

/**
 * The customers of the range by group and variant. With the split's variant ids known, one pass
 * of sums (no grouping: SQLite would sort the range's rows); when an entry names a variant not
 * among them, or a control entry names one, the general grouped count.
 */
async function groupSizes(
  db: Db,
  q: CohortQuery,
  range: RawBuilder<unknown>,
  variant: RawBuilder<unknown>,
  foreign: RawBuilder<unknown>,
  windowMs: number,
): Promise<Sizes> {
  const ids = q.splitStepId === undefined ? [] : [...new Set(q.splitVariants ?? [])]
  if (q.splitStepId === undefined || ids.length > 0) {
    const inSplit = sql`e.variant_from < ${q.toAt}`
    const perVariant = ids.map((id, i) => sql`sum(case when ${inSplit} and e.holdout = 0 and e.run_variant = ${id} then 1 else 0 end) as ${sql.ref(`v${i}`)}`)
    const odd =
      q.splitStepId === undefined ? sql`0` : sql`sum(case when ${inSplit} and (e.holdout <> 0 or e.run_variant not in (${sql.join(ids)})) then 1 else 0 end)`
    const { rows } = await sql<Record<string, unknown>>`
      select count(*) as customers, sum(e.holdout) as control, ${odd} as odd,
        sum(case when e.window_ms <> ${windowMs} then 1 else 0 end) as stale, sum(${foreign}) as foreign_split
        ${perVariant.length > 0 ? sql`, ${sql.join(perVariant)}` : sql``}
      from workflow_entries e
      where ${range}`.execute(db)
    const r = rows[0] ?? {}
    if (countOf(r['odd']) === 0) {
      const control = countOf(r['control'])
      const variants = ids.map((id, i) => ({ holdout: false, variant: id as string | null, customers: countOf(r[`v${i}`]) }))
      const treatedNone = countOf(r['customers']) - control - variants.reduce((n, v) => n + v.customers, 0)
      return {
        cells: [{ holdout: true, variant: null, customers: control }, { holdout: false, variant: null, customers: treatedNone }, ...variants],
        stale: countOf(r['stale']) > 0,
        foreign: countOf(r['foreign_split']) > 0,
      }
    }
  }
  const { rows } = await sql<{ holdout: unknown; variant: string | null; customers: unknown; stale: unknown; foreign_split: unknown }>`
    select e.holdout, ${variant} as variant, count(*) as customers,
      sum(case when e.window_ms <> ${windowMs} then 1 else 0 end) as stale, sum(${foreign}) as foreign_split
    from workflow_entries e
    where ${range}
    group by 1, 2`.execute(db)
  return {
    cells: rows.map((r) => ({ holdout: countOf(r.holdout) === 1, variant: r.variant, customers: countOf(r.customers) })),
    stale: rows.some((r) => countOf(r.stale) > 0),
    foreign: rows.some((r) => countOf(r.foreign_split) > 0),
  }
}
