import type { Kysely } from 'kysely'

/**
 * Invoices made by `create_invoice`, numbered per store, paid by an `invoice.paid` event. Frozen
 * once shipped: later changes go in new numbered files.
 *
 * - `invoice_counters`: the store's last invoice number; taking the next is one UPDATE of that
 *   row, which serialises concurrent runs (numbers have no gaps and no repeats).
 * - `(run_id, step_key)` unique: a step retried after a crash finds its invoice, never makes two.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('invoice_counters')
    .addColumn('store_id', 'text', (c) => c.primaryKey())
    .addColumn('last_number', 'integer', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('invoices')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    /** what the customer sees, e.g. INV-000042 */
    .addColumn('number', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text')
    .addColumn('email', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    /** JSON list of { description, quantity, unit_price, amount } */
    .addColumn('lines', 'text', (c) => c.notNull())
    .addColumn('total', 'text', (c) => c.notNull())
    /** what invoice.paid events have paid so far; paid when it reaches the total */
    .addColumn('amount_paid', 'text', (c) => c.notNull().defaultTo('0.00'))
    /** open | paid | void */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('paid_at', 'text')
    /** what it is for: `subscription:<id>`, `order:<id>` or null */
    .addColumn('reference', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('run_id', 'text')
    .addColumn('step_key', 'text')
    .addPrimaryKeyConstraint('invoices_pk', ['store_id', 'id'])
    .execute()
  await db.schema.createIndex('invoices_number_uq').on('invoices').columns(['store_id', 'number']).unique().execute()
  await db.schema.createIndex('invoices_step_uq').on('invoices').columns(['run_id', 'step_key']).unique().execute()
  await db.schema.createIndex('invoices_due_idx').on('invoices').columns(['store_id', 'status', 'due_at']).execute()
  await db.schema.createIndex('invoices_customer_idx').on('invoices').columns(['store_id', 'customer_key']).execute()
}
