import type { Kysely } from 'kysely'

/**
 * Inventory alerts and demand forecasts (store/inventory.repo.ts, store/demand.repo.ts). Frozen
 * once shipped: later changes go in new numbered files.
 *
 * - `sku_daily_demand`: units sold per SKU per day (the store's time zone), kept as orders arrive:
 *   an order counts once, from its first order.* event, and its cancellation takes it off.
 * - `order_demand`: per order, what it counted (`state` 0 not yet, 1 counted, 2 settled:
 *   cancelled), the day and the lines, so a cancellation takes off exactly what was added.
 * - `inventory_skus`: per SKU, the reorder point (a manual one wins over the forecast's), the day
 *   the forecast's was computed, and the alert state: `low` / `out_of_stock` flags of the last
 *   stock seen and how often each crossing happened (the n in `inventory.low:<sku>:<n>`).
 * - `inventory_adjustments`: one row per adjust_inventory step (its idempotency key), so a
 *   retried step adjusts once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sku_daily_demand')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('sku_daily_demand_pk', ['store_id', 'sku', 'day'])
    .execute()
  await db.schema
    .createTable('order_demand')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('state', 'integer', (c) => c.notNull())
    .addColumn('day', 'text')
    .addColumn('lines', 'text')
    .addPrimaryKeyConstraint('order_demand_pk', ['store_id', 'order_id'])
    .execute()
  await db.schema
    .createTable('inventory_skus')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('reorder_point_manual', 'integer')
    .addColumn('reorder_point_forecast', 'integer')
    .addColumn('forecast_on', 'text')
    .addColumn('available', 'integer')
    .addColumn('low', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('out_of_stock', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('low_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('out_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('back_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inventory_skus_pk', ['store_id', 'sku'])
    .execute()
  await db.schema
    .createTable('inventory_adjustments')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('delta', 'integer', (c) => c.notNull())
    .addColumn('available', 'integer', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inventory_adjustments_pk', ['store_id', 'idempotency_key'])
    .execute()
}
