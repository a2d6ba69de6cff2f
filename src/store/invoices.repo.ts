import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { newId } from '../lib/ids.ts'
import { addMoney, moneyToNumber } from '../lib/money.ts'
import type { InvoicesTable, Database } from './tables.ts'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'

type Db = Kysely<Database> | Transaction<Database>

export interface InvoiceLine {
  description: string
  quantity: number
  unit_price: string
  amount: string
}

export interface NewInvoice {
  storeId: string
  customerKey: string | null
  email: string | null
  currency: string
  lines: InvoiceLine[]
  total: string
  issuedAt: string
  dueAt: string
  reference: string | null
  workflowId: string | null
  runId: string
  stepKey: string
}

/** An invoice as the API, templates and conditions see it. */
export interface InvoiceView {
  id: string
  number: string
  status: string
  currency: string
  total: number
  amount_paid: number
  lines: Array<Omit<InvoiceLine, 'unit_price' | 'amount'> & { unit_price: number; amount: number }>
  email: string | null
  customer_key: string | null
  issued_at: string
  due_at: string
  paid_at: string | null
  reference: string | null
  workflow_id: string | null
}

export function invoiceView(row: Selectable<InvoicesTable>): InvoiceView {
  const lines = JSON.parse(row.lines) as InvoiceLine[]
  return {
    id: row.id,
    number: row.number,
    status: row.status,
    currency: row.currency,
    total: moneyToNumber(row.total),
    amount_paid: moneyToNumber(row.amount_paid),
    lines: lines.map((l) => ({ ...l, unit_price: moneyToNumber(l.unit_price), amount: moneyToNumber(l.amount) })),
    email: row.email,
    customer_key: row.customer_key,
    issued_at: row.issued_at,
    due_at: row.due_at,
    paid_at: row.paid_at,
    reference: row.reference,
    workflow_id: row.workflow_id,
  }
}

/**
 * Makes the invoice of a run step, or returns the one the step made on an earlier attempt. The
 * number is the store's next: the counter row's UPDATE serialises concurrent runs, so numbers
 * neither repeat nor skip (a rolled-back step gives its number back with its transaction).
 */
export async function createInvoice(db: Db, input: NewInvoice): Promise<{ invoice: Selectable<InvoicesTable>; created: boolean }> {
  const earlier = await db.selectFrom('invoices').selectAll().where('run_id', '=', input.runId).where('step_key', '=', input.stepKey).executeTakeFirst()
  if (earlier) return { invoice: earlier, created: false }
  await sql`insert into invoice_counters (store_id, last_number) values (${input.storeId}, 0) on conflict (store_id) do nothing`.execute(db)
  const { rows } = await sql<{ last_number: number | string }>`
    update invoice_counters set last_number = last_number + 1 where store_id = ${input.storeId} returning last_number`.execute(db)
  const number = `INV-${String(Number(rows[0]!.last_number)).padStart(6, '0')}`
  const row = {
    store_id: input.storeId,
    id: newId('inv_'),
    number,
    customer_key: input.customerKey,
    email: input.email,
    currency: input.currency,
    lines: JSON.stringify(input.lines),
    total: input.total,
    amount_paid: '0.00',
    status: 'open',
    issued_at: input.issuedAt,
    due_at: input.dueAt,
    paid_at: null,
    reference: input.reference,
    workflow_id: input.workflowId,
    run_id: input.runId,
    step_key: input.stepKey,
  }
  await db.insertInto('invoices').values(row).execute()
  return { invoice: row, created: true }
}

/**
 * invoice.paid onto the invoice, found by its id or its number. Each payment event adds its
 * `amount` (a repeat of one event never arrives: event ids are unique); one without an amount pays
 * what is left. The invoice is paid when the payments reach its total, at the time of the one that
 * did; a partial payment leaves it open (and overdue when its day passes). Paid stays paid.
 */
export async function markInvoicePaid(
  db: Db,
  storeId: string,
  ref: { id?: string | null; number?: string | null },
  payment: { amount: string | null; at: string },
): Promise<void> {
  const found = await db
    .selectFrom('invoices')
    .select(['id', 'status', 'total', 'amount_paid'])
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('id', '=', ref.id ?? '//none'), eb('number', '=', ref.number ?? '//none')]))
    .executeTakeFirst()
  if (!found || found.status === 'paid') return
  const left = addMoney(found.total, negate(found.amount_paid))
  const paid = addMoney(found.amount_paid, payment.amount ?? left)
  const settled = moneyToNumber(addMoney(paid, negate(found.total))) >= 0
  await db
    .updateTable('invoices')
    .set({ amount_paid: paid, ...(settled ? { status: 'paid', paid_at: payment.at } : {}) })
    .where('store_id', '=', storeId)
    .where('id', '=', found.id)
    .execute()
}

/** The customer key of the invoice named by id or number; null when it has none or is unknown. */
export async function invoiceCustomer(db: Db, storeId: string, ref: { id?: string | null; number?: string | null }): Promise<string | null> {
  const found = await db
    .selectFrom('invoices')
    .select('customer_key')
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('id', '=', ref.id ?? '//none'), eb('number', '=', ref.number ?? '//none')]))
    .executeTakeFirst()
  return found?.customer_key ?? null
}

const negate = (amount: string) => (amount.startsWith('-') ? amount.slice(1) : `-${amount}`)

export async function getInvoice(db: Db, storeId: string, id: string): Promise<InvoiceView | null> {
  const row = await db
    .selectFrom('invoices')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('id', '=', id), eb('number', '=', id)]))
    .executeTakeFirst()
  return row ? invoiceView(row) : null
}

export interface InvoiceFilter {
  status?: string
  customer?: string
}

/** The store's invoices, newest first. */
export async function listInvoices(db: Db, storeId: string, filter: InvoiceFilter, page: PageRequest): Promise<Page<InvoiceView>> {
  let query = db.selectFrom('invoices').selectAll().where('store_id', '=', storeId)
  if (filter.status) query = query.where('status', '=', filter.status)
  if (filter.customer) {
    const customer = filter.customer
    query = query.where((eb) =>
      eb.or([
        eb('customer_key', '=', customer),
        eb('customer_key', 'in', eb.selectFrom('customers').select('key').where('store_id', '=', storeId).where('external_id', '=', customer)),
      ]),
    )
  }
  const result = await newestFirst(query, { time: 'issued_at', id: 'id' }, page)
  return { items: result.items.map(invoiceView), next_cursor: result.next_cursor }
}
