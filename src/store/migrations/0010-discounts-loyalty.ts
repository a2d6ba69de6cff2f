import type { Kysely } from 'kysely'

/**
 * Discount codes and loyalty points (store/discounts.repo.ts, store/loyalty.repo.ts). Frozen once
 * shipped: later changes go in new numbered files.
 *
 * - `discount_codes`: one row per code `create_discount_code` issued, unique per store by code and
 *   per run step (`run_id`, `step_key`), so a step tried again finds its code instead of making a
 *   second one. `issued_value` is what the code counts against its workflow's budget.
 * - `discount_code_uses`: one row per (code, order) an order.* event carried, so a code is counted
 *   used once per order however many of the order's events carry it; `used` is recounted from it.
 * - `loyalty_ledger`: every award and reversal of points, unique per store by `entry_key` (an
 *   award's run step, `<run id>:<step key>`; a reversal's order, `reverse:<order id>`).
 *   `customers.loyalty_points` is the ledger's sum, kept on the row so conditions read it free.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('discount_codes')
    .addColumn('store_id', 'text', (c) => c.notNull())
    /** upper case; orders' codes are matched upper-cased */
    .addColumn('code', 'text', (c) => c.notNull())
    /** percent | amount | free_shipping */
    .addColumn('kind', 'text', (c) => c.notNull())
    /** the percent (1–100), the amount (exact decimal), or 0 for free shipping alone */
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('free_shipping', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('min_spend', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('usage_limit', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('used', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('customer_key', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('run_id', 'text')
    .addColumn('step_key', 'text')
    /** what the code counts against its workflow's budget (exact decimal) */
    .addColumn('issued_value', 'text', (c) => c.notNull().defaultTo('0.00'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('discount_codes_pk', ['store_id', 'code'])
    .execute()
  await db.schema.createIndex('discount_codes_step_idx').on('discount_codes').columns(['store_id', 'run_id', 'step_key']).unique().execute()
  await db.schema.createIndex('discount_codes_workflow_idx').on('discount_codes').columns(['store_id', 'workflow_id', 'created_at']).execute()
  await db.schema.createIndex('discount_codes_customer_idx').on('discount_codes').columns(['store_id', 'customer_key', 'created_at']).execute()

  await db.schema
    .createTable('discount_code_uses')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('discount_code_uses_pk', ['store_id', 'code', 'order_id'])
    .execute()

  await db.schema
    .createTable('loyalty_ledger')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('entry_key', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text', (c) => c.notNull())
    /** positive for an award, negative for a reversal */
    .addColumn('points', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('order_id', 'text')
    .addColumn('run_id', 'text')
    .addColumn('step_key', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('loyalty_ledger_pk', ['store_id', 'entry_key'])
    .execute()
  await db.schema.createIndex('loyalty_ledger_customer_idx').on('loyalty_ledger').columns(['store_id', 'customer_key']).execute()
  await db.schema.createIndex('loyalty_ledger_order_idx').on('loyalty_ledger').columns(['store_id', 'order_id']).execute()

  await db.schema
    .alterTable('customers')
    .addColumn('loyalty_points', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
}
