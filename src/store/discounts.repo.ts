import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { Clock } from '../lib/clock.ts'
import { addMoney } from '../lib/money.ts'
import type { DiscountCodeRequest, DiscountIssue, DiscountKind, DiscountServices, IssuedDiscountCode } from '../plugin-api/commerce-services.ts'
import { moneyExceeds } from './commerce-money.ts'
import type { DialectName } from './db.ts'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'
import type { Database, DiscountCodesTable } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>
type CodeRow = Selectable<DiscountCodesTable>

/** Candidate codes tried before giving up: with 32^12 codes per prefix, a second try is already rare. */
const CODE_TRIES = 5

/**
 * Discount codes as create_discount_code issues them: one per run step (the step's row is found
 * again on a retry), unique per store, and within the workflow's budget. On PostgreSQL the budget
 * check and the insert hold a transaction-scoped advisory lock per store and workflow, so two runs
 * issuing at once cannot both pass the cap (SQLite has one writer).
 */
export function createDiscountServices(db: Db, storeId: string, dialect: DialectName, clock: Clock): DiscountServices {
  const byStep = (t: Db, req: DiscountCodeRequest) =>
    t
      .selectFrom('discount_codes')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('run_id', '=', req.runId)
      .where('step_key', '=', req.stepKey)
      .executeTakeFirst()

  const issue = async (t: Db, req: DiscountCodeRequest): Promise<DiscountIssue> => {
    const before = await byStep(t, req)
    if (before) return { status: 'issued', code: toIssued(before, false) }
    if (req.budget !== null) {
      if (dialect === 'postgres') {
        await sql`select pg_advisory_xact_lock(hashtext('storeflow.discount_budget'), hashtext(${`${storeId}/${req.workflowId}`}))`.execute(t)
      }
      const rows = await t
        .selectFrom('discount_codes')
        .select('issued_value')
        .where('store_id', '=', storeId)
        .where('workflow_id', '=', req.workflowId)
        .execute()
      const issued = rows.reduce((sum, r) => addMoney(sum, r.issued_value), '0.00')
      if (moneyExceeds(addMoney(issued, req.issuedValue), req.budget)) return { status: 'over_budget', budget: addMoney(req.budget, '0'), issued }
    }
    for (let i = 0; i < CODE_TRIES; i++) {
      const row: CodeRow = {
        store_id: storeId,
        code: req.newCode().toUpperCase(),
        kind: req.kind,
        value: req.value,
        free_shipping: req.freeShipping ? 1 : 0,
        min_spend: req.minSpend,
        expires_at: req.expiresAt,
        usage_limit: req.usageLimit,
        used: 0,
        customer_key: req.customerKey,
        workflow_id: req.workflowId,
        run_id: req.runId,
        step_key: req.stepKey,
        issued_value: req.issuedValue,
        created_at: clock.now().toISOString(),
      }
      // no conflict target: a code taken in this store, or this step's row, both leave the insert undone
      // (a unique violation would abort a PostgreSQL transaction)
      const inserted = await t
        .insertInto('discount_codes')
        .values(row)
        .onConflict((oc) => oc.doNothing())
        .returning('code')
        .executeTakeFirst()
      if (inserted) return { status: 'issued', code: toIssued(row, true) }
      const raced = await byStep(t, req)
      if (raced) return { status: 'issued', code: toIssued(raced, false) }
    }
    throw new Error(`no free discount code after ${CODE_TRIES} candidates`)
  }

  return {
    issue: (req) => (db.isTransaction ? issue(db, req) : (db as Kysely<Database>).transaction().execute((t) => issue(t, req))),
  }
}

function toIssued(row: CodeRow, created: boolean): IssuedDiscountCode {
  return {
    code: row.code,
    kind: row.kind as DiscountKind,
    value: row.value,
    freeShipping: row.free_shipping === 1,
    minSpend: row.min_spend,
    expiresAt: row.expires_at,
    usageLimit: row.usage_limit,
    issuedValue: row.issued_value,
    created,
  }
}

export interface DiscountCodeFilter {
  workflow?: string | undefined
  /** storeflow's customer keys the `customer` reference matched; an empty list matches nothing */
  customerKeys?: string[] | undefined
}

/** The store's discount codes, newest first, with each code's customer's shop id. */
export async function listDiscountCodes(
  db: Kysely<Database>,
  storeId: string,
  filter: DiscountCodeFilter,
  page: PageRequest,
): Promise<Page<CodeRow & { customer_id: string | null }>> {
  let q = db.selectFrom('discount_codes').selectAll().where('store_id', '=', storeId)
  if (filter.workflow) q = q.where('workflow_id', '=', filter.workflow)
  if (filter.customerKeys) {
    if (filter.customerKeys.length === 0) return { items: [], next_cursor: null }
    q = q.where('customer_key', 'in', filter.customerKeys)
  }
  const result = await newestFirst(q, { time: 'created_at', id: 'code' }, page)
  const keys = [...new Set(result.items.map((r) => r.customer_key).filter((k): k is string => k !== null))]
  const ids = new Map<string, string | null>()
  if (keys.length > 0) {
    const rows = await db.selectFrom('customers').select(['key', 'external_id']).where('store_id', '=', storeId).where('key', 'in', keys).execute()
    for (const r of rows) ids.set(r.key, r.external_id)
  }
  return { items: result.items.map((r) => ({ ...r, customer_id: r.customer_key ? (ids.get(r.customer_key) ?? null) : null })), next_cursor: result.next_cursor }
}

/**
 * An order.* event's `discount_codes`: each code this store issued counts the order once, however
 * many of the order's events carry it and however often they arrive (matched upper-cased).
 */
export async function recordDiscountCodeUses(db: Db, storeId: string, orderId: string, codes: unknown, at: string): Promise<void> {
  if (!Array.isArray(codes) || codes.length === 0) return
  const wanted = [...new Set(codes.filter((c): c is string => typeof c === 'string' && c.trim() !== '').map((c) => c.trim().toUpperCase()))]
  if (wanted.length === 0) return
  const ours = await db.selectFrom('discount_codes').select('code').where('store_id', '=', storeId).where('code', 'in', wanted).execute()
  for (const { code } of ours) {
    const added = await db
      .insertInto('discount_code_uses')
      .values({ store_id: storeId, code, order_id: orderId, created_at: at })
      .onConflict((oc) => oc.doNothing())
      .returning('code')
      .executeTakeFirst()
    if (!added) continue
    await sql`update discount_codes set used = (select count(*) from discount_code_uses u where u.store_id = ${storeId} and u.code = ${code})
      where store_id = ${storeId} and code = ${code}`.execute(db)
  }
}

/** A merge (store/projection.ts) moves the merged-away customer's codes to the customer that absorbed them. */
export async function moveDiscountCodes(db: Db, storeId: string, fromKey: string, intoKey: string): Promise<void> {
  await db.updateTable('discount_codes').set({ customer_key: intoKey }).where('store_id', '=', storeId).where('customer_key', '=', fromKey).execute()
}
