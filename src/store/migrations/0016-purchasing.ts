import type { Kysely } from 'kysely'

/**
 * Suppliers and purchase orders (`create_purchase_order`, `POST /api/v1/suppliers`,
 * `/api/v1/purchase-orders`). Frozen once shipped: later changes go in new numbered files.
 *
 * - `suppliers`: per store, upserted by id; `skus` is a JSON list of the SKUs the supplier sells.
 * - `purchase_order_counters`: the store's last PO number; taking the next is one UPDATE of that
 *   row, which serialises concurrent runs (numbers neither repeat nor skip).
 * - `purchase_orders`: `(run_id, step_key, supplier_id)` unique, so a step retried after a crash
 *   finds its orders and never makes two; `lines` is JSON `[{ sku, quantity, unit_cost, description, received }]`.
 * - `purchase_order_receipts`: one row per receipt (`POST …/receive`), keyed by the request's
 *   Idempotency-Key (or a fresh id), so a repeated request adds no stock twice.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('suppliers')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('lead_time_days', 'integer', (c) => c.notNull())
    .addColumn('min_order_quantity', 'integer', (c) => c.notNull())
    .addColumn('skus', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('suppliers_pk', ['store_id', 'id'])
    .execute()
  await db.schema
    .createTable('purchase_order_counters')
    .addColumn('store_id', 'text', (c) => c.primaryKey())
    .addColumn('last_number', 'integer', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('purchase_orders')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    /** what the supplier sees, e.g. PO-000042 */
    .addColumn('number', 'text', (c) => c.notNull())
    .addColumn('supplier_id', 'text', (c) => c.notNull())
    /** draft | sent | received */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('lines', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('received_at', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('run_id', 'text')
    .addColumn('step_key', 'text')
    .addPrimaryKeyConstraint('purchase_orders_pk', ['store_id', 'id'])
    .execute()
  await db.schema.createIndex('purchase_orders_number_uq').on('purchase_orders').columns(['store_id', 'number']).unique().execute()
  await db.schema.createIndex('purchase_orders_step_uq').on('purchase_orders').columns(['run_id', 'step_key', 'supplier_id']).unique().execute()
  await db.schema.createIndex('purchase_orders_created_idx').on('purchase_orders').columns(['store_id', 'created_at']).execute()
  await db.schema
    .createTable('purchase_order_receipts')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('purchase_order_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    /** JSON `[{ sku, quantity }]`, as received */
    .addColumn('lines', 'text', (c) => c.notNull())
    /** the purchase_order.received event that adds it to stock */
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('purchase_order_receipts_pk', ['store_id', 'purchase_order_id', 'id'])
    .execute()
}
