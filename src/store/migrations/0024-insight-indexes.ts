import type { Kysely } from 'kysely'

/**
 * Insight's cohort reads (store/analytics.repo.ts): the customers who entered a workflow in a
 * range and their orders in the window after. Two indexes of 0001 are widened so those reads
 * never visit the tables, and replaced rather than joined by new ones, so a write maintains no
 * more indexes than before (each new one starts with the old one's columns: every query the old
 * one served, it serves). Frozen once shipped.
 *
 * - runs (store_id, workflow_id, started_at) + customer_key, holdout, id: a year of a workflow's
 *   entries is one range scan.
 * - orders (store_id, customer_key, created_at) + cancelled, counted_amount: a customer's orders
 *   in the window and their amounts from one seek (counted_amount changes only on refunds).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('runs_cohort_idx').on('runs').columns(['store_id', 'workflow_id', 'started_at', 'customer_key', 'holdout', 'id']).execute()
  await db.schema.dropIndex('runs_workflow_idx').execute()
  await db.schema
    .createIndex('orders_customer_window_idx')
    .on('orders')
    .columns(['store_id', 'customer_key', 'created_at', 'cancelled', 'counted_amount'])
    .execute()
  await db.schema.dropIndex('orders_customer_idx').execute()
}
