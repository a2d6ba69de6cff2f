import type { Kysely } from 'kysely'

/**
 * Commerce I: orders tagged, held and risk-scored in storeflow's view, stock moved by orders, and
 * the customer's engagement counters. Frozen once shipped: later changes go in new numbered files.
 *
 * - `orders.tags`: JSON list, tag_order's tags.
 * - `orders.held` / `held_reason`: hold_order's mark (0/1, and why).
 * - `orders.risk`: JSON `{ score, level, reasons }` from core/order-risk.ts, computed when the order is projected.
 * - `orders.stock_state`: 0 stock not touched yet, 1 decremented by this order, 2 settled (restored
 *   after a cancellation, or cancelled before it was ever decremented); `stock_lines` the JSON
 *   `[{ sku, quantity }]` that was subtracted, so a restore adds back exactly that (store/order-stock.ts).
 * - `customers.marketing_sent_since_last_order`, `last_opened_at`, `last_clicked_at`: the counters
 *   conditions read (store/engagement.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('orders')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute()
  await db.schema
    .alterTable('orders')
    .addColumn('held', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.alterTable('orders').addColumn('held_reason', 'text').execute()
  await db.schema.alterTable('orders').addColumn('risk', 'text').execute()
  await db.schema
    .alterTable('orders')
    .addColumn('stock_state', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.alterTable('orders').addColumn('stock_lines', 'text').execute()
  await db.schema
    .alterTable('customers')
    .addColumn('marketing_sent_since_last_order', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.alterTable('customers').addColumn('last_opened_at', 'text').execute()
  await db.schema.alterTable('customers').addColumn('last_clicked_at', 'text').execute()
}
