import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { DEFAULT_SETTINGS, type Settings } from '../contracts/settings.ts'
import { CelCompileError, compileCel, evaluateCondition, evaluateValue, type CompiledExpression } from '../core/cel.ts'
import type { SegmentChange } from '../core/segments.ts'
import { parseDuration } from '../lib/durations.ts'
import { UserError } from '../lib/errors.ts'
import { moneyToNumber } from '../lib/money.ts'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'
import type { CustomersTable, Database } from './tables.ts'
import { forgetInTx, sharedInTx, storeRowInTx } from './tx-memo.ts'
import { customerView } from './views.ts'

type Db = Kysely<Database> | Transaction<Database>
type CustomerRow = Selectable<CustomersTable>

/**
 * Segments: named CEL conditions over `customer`, and who is in each right now.
 *
 * - **Membership is kept, not computed on read.** The router re-evaluates a customer's segments in
 *   the transaction that routes an event about them (engine/segments.ts calls refreshSegments), and
 *   a daily sweep (src/triggers/segments/) re-evaluates every customer, since time alone moves
 *   customers in and out of `new` and `lapsed`. Each change is one row update here and one
 *   `segment.entered` / `segment.exited` event in the log, in the same transaction; the event id
 *   names the segment, the customer and the entry's number, so routing the same change again (a
 *   second worker, a retried batch) appends a duplicate the log refuses.
 * - **RFM** (recency, frequency, monetary), 1 to 5 each by quintile among the store's customers with
 *   at least one order: a customer's score in a dimension is 1 + floor(5 × (customers with a lower
 *   value) / (customers with an order)), so equal values get equal scores and the top score needs
 *   the top fifth. Recency ranks `last_order_at` (more recent is higher), frequency `orders_count`,
 *   monetary `total_spent`. `score` is the three digits as a string, `"545"`. The sweep recomputes
 *   everyone and keeps where each score starts (`rfm_cuts`); in between, a customer an event is about
 *   is scored against those cuts (a store's first order computes them on the spot).
 */

/** A segment id: what `segment.entered:<id>:…` event ids and URLs carry. */
export const SEGMENT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/

export interface SegmentDefinition {
  id: string
  name: string
  condition: string
  built_in: boolean
}

/** The day count the built-in `new` segment looks back over. */
const NEW_WITHIN_DAYS = 30
/** total_spent from which a customer is `high-value`. */
export const HIGH_VALUE_FROM = 500

/**
 * The segments every store has (docs/http-api.md, Segments). Conditions see `customer` with two
 * computed fields, `days_since_last_order` and `days_since_created` (whole days, by the engine's clock).
 */
export function builtInSegments(settings: Settings): SegmentDefinition[] {
  const lapsedDays = Math.max(1, Math.floor(parseDuration(settings.inactive_after) / DAY_MS))
  const segments: Array<Omit<SegmentDefinition, 'built_in'>> = [
    { id: 'new', name: 'New customers', condition: `customer.orders_count == 1 && customer.days_since_last_order < ${NEW_WITHIN_DAYS}` },
    { id: 'repeat', name: 'Repeat customers', condition: 'customer.orders_count >= 2' },
    { id: 'high-value', name: 'High-value customers', condition: `customer.total_spent >= ${HIGH_VALUE_FROM}.0` },
    { id: 'at-risk', name: 'At risk', condition: 'customer.rfm != null && customer.rfm.r <= 2 && customer.rfm.f >= 3' },
    { id: 'lapsed', name: 'Lapsed customers', condition: `customer.orders_count >= 1 && customer.days_since_last_order >= ${lapsedDays}` },
    { id: 'vip', name: 'VIP', condition: 'customer.rfm != null && customer.rfm.r >= 4 && customer.rfm.f >= 4 && customer.rfm.m >= 4' },
  ]
  return segments.map((s) => ({ ...s, built_in: true }))
}

const DAY_MS = 86_400_000

async function settingsOf(db: Db, storeId: string): Promise<Settings> {
  const row = await storeRowInTx(db, storeId)
  return { ...DEFAULT_SETTINGS, ...(row ? (JSON.parse(row.settings) as Partial<Settings>) : {}) }
}

/** Every segment of the store: the built-in ones first, then the store's own by id. */
export async function listSegments(db: Db, storeId: string, settings?: Settings): Promise<SegmentDefinition[]> {
  const own = await sharedInTx(db, `segments:${storeId}`, () =>
    db.selectFrom('segments').select(['id', 'name', 'condition']).where('store_id', '=', storeId).orderBy('id').execute(),
  )
  return [...builtInSegments(settings ?? (await settingsOf(db, storeId))), ...own.map((s) => ({ ...s, built_in: false }))]
}

/** How many customers are in each segment now. */
export async function segmentSizes(db: Db, storeId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('segment_members')
    .innerJoin('customers', 'customers.key', 'segment_members.customer_key')
    .select(['segment_members.segment_id as segment_id', sql<number>`count(*)`.as('size')])
    .where('segment_members.store_id', '=', storeId)
    .where('customers.store_id', '=', storeId)
    .where('segment_members.exited_at', 'is', null)
    .groupBy('segment_members.segment_id')
    .execute()
  return new Map(rows.map((r) => [r.segment_id, Number(r.size)]))
}

function invalid(field: string, message: string): UserError {
  return new UserError(`${field}: ${message}`, { code: 'validation_failed', details: { field } })
}

/** Saves a store's own segment; a bad id, name or condition is refused naming the field. Its members are found by the next sweep. */
export async function createSegment(db: Db, storeId: string, input: unknown, now: Date): Promise<SegmentDefinition> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw invalid('body', 'must be an object { id, name, condition }')
  const { id, name, condition } = input as Record<string, unknown>
  if (typeof id !== 'string' || !SEGMENT_ID.test(id))
    throw invalid('id', 'must be 1 to 64 lowercase letters, digits, "-" or "_", starting with a letter or digit')
  if (builtInSegments(DEFAULT_SETTINGS).some((s) => s.id === id)) throw invalid('id', `"${id}" is a built-in segment`)
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) throw invalid('name', 'must be a non-empty string of at most 200 characters')
  if (typeof condition !== 'string' || condition.trim() === '' || condition.length > 4000)
    throw invalid('condition', 'must be a CEL expression over `customer` of at most 4000 characters')
  let expr: CompiledExpression
  try {
    expr = compileCel(condition)
  } catch (err) {
    if (err instanceof CelCompileError) throw invalid('condition', `does not compile: ${err.message}`)
    throw err
  }
  const gives = nonBooleanResult(expr, storeId, now)
  if (gives !== null)
    throw invalid('condition', `must give true or false; over a customer it gives ${gives} (e.g. customer.email != "" rather than customer.email)`)
  const existing = await db.selectFrom('segments').select('id').where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (existing) throw new UserError(`segment "${id}" exists already`, { code: 'conflict', details: { field: 'id' } })
  await db.insertInto('segments').values({ store_id: storeId, id, name, condition, created_at: now.toISOString() }).execute()
  return { id, name, condition, built_in: false }
}

/**
 * Deletes a store's own segment (no segment.exited: the segment is gone, not the customers). Its
 * member rows stay, marked exited, keeping each customer's entry count: a segment made again
 * under the same id counts on, so its entries get event ids of their own, not the old ones'.
 */
export async function deleteSegment(db: Kysely<Database>, storeId: string, id: string, now: Date): Promise<void> {
  if (builtInSegments(DEFAULT_SETTINGS).some((s) => s.id === id))
    throw new UserError(`segment "${id}" is built in and cannot be deleted`, { code: 'bad_request', details: { field: 'id' } })
  await db.transaction().execute(async (trx) => {
    const found = await trx.deleteFrom('segments').where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
    if (Number(found.numDeletedRows) === 0) throw new UserError(`segment "${id}" not found`, { code: 'not_found' })
    const members = await trx
      .selectFrom('segment_members')
      .select('customer_key')
      .where('store_id', '=', storeId)
      .where('segment_id', '=', id)
      .where('exited_at', 'is', null)
      .execute()
    await trx
      .updateTable('segment_members')
      .set({ exited_at: now.toISOString() })
      .where('store_id', '=', storeId)
      .where('segment_id', '=', id)
      .where('exited_at', 'is', null)
      .execute()
    for (const { customer_key } of members) {
      const row = await trx.selectFrom('customers').select('segments').where('store_id', '=', storeId).where('key', '=', customer_key).executeTakeFirst()
      if (!row) continue
      const next = (JSON.parse(row.segments) as string[]).filter((s) => s !== id)
      await trx
        .updateTable('customers')
        .set({ segments: JSON.stringify(next) })
        .where('store_id', '=', storeId)
        .where('key', '=', customer_key)
        .execute()
    }
  })
}

/** The customers in a segment now, most recently entered first; unknown segment: 404. */
export async function segmentCustomers(db: Kysely<Database>, storeId: string, id: string, page: PageRequest): Promise<Page<Record<string, unknown>>> {
  if (!(await listSegments(db, storeId)).some((s) => s.id === id)) throw new UserError(`segment "${id}" not found`, { code: 'not_found' })
  const query = db
    .selectFrom('segment_members')
    .innerJoin('customers', 'customers.key', 'segment_members.customer_key')
    .selectAll('customers')
    .select(['segment_members.entered_at as entered_at', 'segment_members.customer_key as customer_key'])
    .where('segment_members.store_id', '=', storeId)
    .where('customers.store_id', '=', storeId)
    .where('segment_members.segment_id', '=', id)
    .where('segment_members.exited_at', 'is', null)
  // both keys are columns of segment_members alone, so the cursor's WHERE names them unambiguously
  const result = await newestFirst(query, { time: 'entered_at', id: 'customer_key' }, page)
  return {
    items: result.items.map(({ entered_at, customer_key: _key, ...row }) => ({ ...customerView(row as CustomerRow), entered_at })),
    next_cursor: result.next_cursor,
  }
}

/**
 * What a condition gives over a customer with every field of the view filled in, when that is
 * neither a boolean nor null: a segment whose condition gives a string or a number matches no one,
 * silently. A condition that fails on the sample (a type it compares against another) is left to
 * the data, as membership leaves it.
 */
function nonBooleanResult(expr: CompiledExpression, storeId: string, now: Date): string | null {
  const at = now.toISOString()
  const sample: Selectable<CustomersTable> = {
    key: 'cus_sample',
    store_id: storeId,
    external_id: '1',
    email: 'sample@example.com',
    phone: '+15550100',
    first_name: 'Sam',
    last_name: 'Sample',
    accepts_marketing: 1,
    unsubscribed_at: null,
    birthday: '1990-01-01',
    timezone: 'UTC',
    tags: '["vip"]',
    orders_count: 2,
    total_spent: '120.00',
    last_order_at: at,
    attributes: '{}',
    profile_at: at,
    consent_at: null,
    shop_accepts_marketing: 1,
    shop_accepts_marketing_at: at,
    loyalty_points: 10,
    created_at: at,
    updated_at: at,
    segments: '[]',
    rfm: '{"r":3,"f":3,"m":3,"score":"333"}',
    marketing_sent_since_last_order: 0,
    last_opened_at: at,
    last_clicked_at: at,
  }
  const scope = segmentScope(sample, storeId, DEFAULT_SETTINGS, now)
  let value: unknown
  try {
    value = evaluateValue(expr, scope)
  } catch {
    return null
  }
  if (value === null || typeof value === 'boolean') return null
  return Array.isArray(value)
    ? 'a list'
    : typeof value === 'object'
      ? 'a map'
      : typeof value === 'bigint' || typeof value === 'number'
        ? 'a number'
        : `a ${typeof value}`
}

// ---- membership ----

/** CEL compiled once per condition text (a process sees few distinct ones). */
const compiled = new Map<string, CompiledExpression>()
function celOf(source: string): CompiledExpression | null {
  let hit = compiled.get(source)
  if (!hit) {
    try {
      hit = compileCel(source)
    } catch {
      return null // checked when saved; a condition an upgrade no longer compiles matches no one
    }
    if (compiled.size > 5000) compiled.clear()
    compiled.set(source, hit)
  }
  return hit
}

/** What a segment's condition sees of a customer: the profile with its day counts, the time, the store. */
function segmentScope(row: Selectable<CustomersTable>, storeId: string, settings: Settings, now: Date): Record<string, unknown> {
  const daysSince = (iso: string | null) => (iso ? Math.floor((now.getTime() - Date.parse(iso)) / DAY_MS) : null)
  const customer = { ...customerView(row), days_since_last_order: daysSince(row.last_order_at), days_since_created: daysSince(row.created_at) }
  return { customer, now: now.toISOString(), store: { id: storeId, settings } }
}

interface Evaluator {
  segments: SegmentDefinition[]
  /** the segment ids whose conditions the customer meets now */
  memberOf(row: CustomerRow): string[]
}

async function evaluator(db: Db, storeId: string, now: Date): Promise<Evaluator> {
  const settings = await settingsOf(db, storeId)
  const segments = await listSegments(db, storeId, settings)
  return {
    segments,
    memberOf(row) {
      const scope = segmentScope(row, storeId, settings, now)
      return segments
        .filter((s) => {
          const expr = celOf(s.condition)
          if (!expr) return false
          try {
            return evaluateCondition(expr, scope)
          } catch {
            return false // a condition that fails at runtime (a type mismatch) leaves the customer out
          }
        })
        .map((s) => s.id)
    },
  }
}

/** Brings the customers' membership in line with their conditions; returns the changes. */
async function reconcile(db: Db, storeId: string, customers: CustomerRow[], ev: Evaluator, now: Date): Promise<SegmentChange[]> {
  const wantedOf = new Map(customers.map((r) => [r.key, ev.memberOf(r)]))
  // customers.segments is written with the member rows, in the same transaction: a customer whose
  // segments are the ones it lists has no change to make, and their member rows need no read
  const rows = customers.filter((r) => !sameSegments(wantedOf.get(r.key)!, r.segments))
  if (rows.length === 0) return []
  const keys = rows.map((r) => r.key)
  const memberRows = await db.selectFrom('segment_members').selectAll().where('store_id', '=', storeId).where('customer_key', 'in', keys).execute()
  const byCustomer = new Map<string, Map<string, (typeof memberRows)[number]>>()
  for (const m of memberRows) {
    let map = byCustomer.get(m.customer_key)
    if (!map) {
      map = new Map()
      byCustomer.set(m.customer_key, map)
    }
    map.set(m.segment_id, m)
  }
  const names = new Map(ev.segments.map((s) => [s.id, s.name]))
  const at = now.toISOString()
  const changes: SegmentChange[] = []
  for (const row of rows) {
    const rowsOf = byCustomer.get(row.key) ?? new Map()
    const wanted = new Set(wantedOf.get(row.key)!)
    const identity = identityOf(row)
    for (const id of wanted) {
      const m = rowsOf.get(id)
      if (m && m.exited_at === null) continue
      const entry = (m?.entries ?? 0) + 1
      if (m) {
        await db
          .updateTable('segment_members')
          .set({ entries: entry, entered_at: at, exited_at: null })
          .where('store_id', '=', storeId)
          .where('segment_id', '=', id)
          .where('customer_key', '=', row.key)
          .execute()
      } else {
        await db
          .insertInto('segment_members')
          .values({ store_id: storeId, segment_id: id, customer_key: row.key, entries: entry, entered_at: at, exited_at: null })
          // another transaction deriving the same entry at once (PostgreSQL) writes the same row; its event is the same id
          .onConflict((oc) => oc.columns(['store_id', 'segment_id', 'customer_key']).doUpdateSet({ entries: entry, entered_at: at, exited_at: null }))
          .execute()
      }
      changes.push({ kind: 'entered', segment: { id, name: names.get(id) ?? id }, customerKey: row.key, customer: identity, entry })
    }
    for (const [id, m] of rowsOf) {
      if (m.exited_at !== null || wanted.has(id)) continue
      await db
        .updateTable('segment_members')
        .set({ exited_at: at })
        .where('store_id', '=', storeId)
        .where('segment_id', '=', id)
        .where('customer_key', '=', row.key)
        .execute()
      // a deleted segment's rows were marked exited with it: a row still in is of a live segment
      changes.push({ kind: 'exited', segment: { id, name: names.get(id) ?? id }, customerKey: row.key, customer: identity, entry: m.entries })
    }
    const current = [...wanted].sort()
    if (!sameSegments(current, row.segments)) {
      await db
        .updateTable('customers')
        .set({ segments: JSON.stringify(current) })
        .where('store_id', '=', storeId)
        .where('key', '=', row.key)
        .execute()
    }
  }
  return changes
}

/** Whether `ids` are the segments the customer row's `segments` (JSON) lists, in any order. */
function sameSegments(ids: readonly string[], stored: string): boolean {
  const listed = JSON.parse(stored) as string[]
  return ids.length === listed.length && [...ids].sort().join('\u0000') === [...listed].sort().join('\u0000')
}

/**
 * How a segment event names its customer: the shop's id and storeflow's key, nothing personal, so
 * an erasure has nothing to chase in these events (a workflow reads the profile as `customer`).
 */
function identityOf(row: CustomerRow): Record<string, unknown> {
  return { id: row.external_id, key: row.key }
}

/**
 * The customer a segment event is about, by the key it carries. A segment event is derived from
 * the view and must not change it: were it applied like a shop's event, its time would count as
 * the profile's newest and hide a later-arriving older update (projection.ts applyToView).
 */
export async function segmentEventCustomer(db: Db, storeId: string, data: Record<string, unknown>): Promise<string | null> {
  const key = (data.customer as { key?: unknown } | null | undefined)?.key
  if (typeof key !== 'string') return null
  const row = await db.selectFrom('customers').select('key').where('store_id', '=', storeId).where('key', '=', key).executeTakeFirst()
  return row?.key ?? null
}

/**
 * Re-evaluates one customer (the router, for the customer an event is about), RFM first: scored
 * on every event about them, not only orders, since a merge of two profiles moves orders too.
 */
export async function refreshSegments(db: Db, storeId: string, customerKey: string, now: Date): Promise<SegmentChange[]> {
  const row = await db.selectFrom('customers').selectAll().where('store_id', '=', storeId).where('key', '=', customerKey).executeTakeFirst()
  if (!row) return []
  row.rfm = await rescoreRfm(db, storeId, row, now)
  return reconcile(db, storeId, [row], await evaluator(db, storeId, now), now)
}

const SWEEP_PAGE = 500

/** Recomputes RFM, then re-evaluates every customer of the store, a page of customers at a time. */
export async function sweepSegments(db: Db, storeId: string, now: Date): Promise<SegmentChange[]> {
  await recomputeRfm(db, storeId, now)
  const ev = await evaluator(db, storeId, now)
  const changes: SegmentChange[] = []
  let after = ''
  for (;;) {
    const rows = await db
      .selectFrom('customers')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('key', '>', after)
      .orderBy('key')
      .limit(SWEEP_PAGE)
      .execute()
    if (rows.length === 0) break
    changes.push(...(await reconcile(db, storeId, rows, ev, now)))
    after = rows[rows.length - 1]!.key
  }
  return changes
}

// ---- RFM ----

export interface Rfm {
  r: number
  f: number
  m: number
  /** the three scores as digits, "545" */
  score: string
}

/** Per dimension, the value from which score k + 2 starts (k = 0..3); null: no customer reaches it. */
interface RfmCuts {
  r: Array<number | null>
  f: Array<number | null>
  m: Array<number | null>
}

type Values = { key: string; r: number; f: number; m: number }

function valuesOf(row: Pick<CustomerRow, 'key' | 'last_order_at' | 'orders_count' | 'total_spent'>): Values {
  return { key: row.key, r: row.last_order_at ? Date.parse(row.last_order_at) : 0, f: Number(row.orders_count), m: moneyToNumber(row.total_spent) }
}

/** Scores of one dimension by the tie rule above, and where each score starts. */
function quintiles(values: number[]): { scoreOf(v: number): number; cuts: Array<number | null> } {
  const sorted = [...values].sort((a, b) => a - b)
  const n = sorted.length
  const lower = new Map<number, number>()
  sorted.forEach((v, i) => {
    if (!lower.has(v)) lower.set(v, i)
  })
  const scoreOf = (v: number) => 1 + Math.floor((5 * (lower.get(v) ?? 0)) / n)
  const cuts: Array<number | null> = []
  for (let k = 1; k <= 4; k++) {
    let cut: number | null = null
    for (const [v, below] of lower) {
      if (5 * below >= k * n) {
        cut = v
        break
      }
    }
    cuts.push(cut)
  }
  return { scoreOf, cuts }
}

function scoreAgainst(cuts: Array<number | null>, v: number): number {
  return 1 + cuts.filter((c) => c !== null && v >= c).length
}

function rfmOf(r: number, f: number, m: number): Rfm {
  return { r, f, m, score: `${r}${f}${m}` }
}

/** Scores every customer of the store with an order and keeps the cuts; customers without one get null. */
export async function recomputeRfm(db: Db, storeId: string, now: Date): Promise<void> {
  const rows = await db.selectFrom('customers').select(['key', 'last_order_at', 'orders_count', 'total_spent', 'rfm']).where('store_id', '=', storeId).execute()
  const ordered = rows.filter((r) => Number(r.orders_count) > 0)
  const values = ordered.map(valuesOf)
  const q = { r: quintiles(values.map((v) => v.r)), f: quintiles(values.map((v) => v.f)), m: quintiles(values.map((v) => v.m)) }
  const next = new Map(values.map((v) => [v.key, JSON.stringify(rfmOf(q.r.scoreOf(v.r), q.f.scoreOf(v.f), q.m.scoreOf(v.m)))]))
  for (const row of rows) {
    const want = next.get(row.key) ?? null
    if (want === row.rfm) continue
    await db.updateTable('customers').set({ rfm: want }).where('store_id', '=', storeId).where('key', '=', row.key).execute()
  }
  const cuts: RfmCuts = { r: q.r.cuts, f: q.f.cuts, m: q.m.cuts }
  await db
    .insertInto('rfm_cuts')
    .values({ store_id: storeId, cuts: JSON.stringify(cuts), computed_at: now.toISOString() })
    .onConflict((oc) => oc.column('store_id').doUpdateSet({ cuts: JSON.stringify(cuts), computed_at: now.toISOString() }))
    .execute()
  // the memoised read of this transaction (rescoreRfm) must see the cuts just written
  forgetInTx(db, `rfm_cuts:${storeId}`)
}

/** One customer scored against the store's last cuts (computed now if there are none); returns their rfm as stored now. */
async function rescoreRfm(db: Db, storeId: string, row: CustomerRow, now: Date): Promise<string | null> {
  const ordered = Number(row.orders_count) > 0
  const stored = await sharedInTx(db, `rfm_cuts:${storeId}`, () => db.selectFrom('rfm_cuts').select('cuts').where('store_id', '=', storeId).executeTakeFirst())
  if (!stored) {
    if (!ordered) return row.rfm
    // the store's first customer with an order: a distribution to score against, from everyone
    await recomputeRfm(db, storeId, now)
    const fresh = await db.selectFrom('customers').select('rfm').where('store_id', '=', storeId).where('key', '=', row.key).executeTakeFirst()
    return fresh?.rfm ?? null
  }
  const cuts = JSON.parse(stored.cuts) as RfmCuts
  const v = valuesOf(row)
  const want = ordered ? JSON.stringify(rfmOf(scoreAgainst(cuts.r, v.r), scoreAgainst(cuts.f, v.f), scoreAgainst(cuts.m, v.m))) : null
  if (want !== row.rfm) await db.updateTable('customers').set({ rfm: want }).where('store_id', '=', storeId).where('key', '=', row.key).execute()
  return want
}
