import type { Kysely } from 'kysely'

/**
 * Insight (issue 13): attribution and the per-workflow counters the analytics API answers from.
 * Frozen once shipped: later changes go in new numbered files.
 *
 * - `attributions`: one row per attributed order (primary key store + order), written once when
 *   the order first arrives, in the transaction that projects it; a second copy of the order's
 *   events finds the row and changes nothing. `touch` is `click` or `open` (opens only when the
 *   store counts them); `message_id`, `run_id`, `workflow_id`, `step_id` and `variant` name the
 *   message credited. Money in millionths of the store's currency (exact, summable in SQL):
 *   `amount_micros` as ordered, `refunded_micros` what refunds took back since, so the attributed
 *   revenue is amount − refunded.
 * - `workflow_stats_daily`: counters per store, workflow, step (`''` for the workflow as a whole)
 *   and day (YYYY-MM-DD in the store's time zone), each incremented in the transaction of the
 *   state change it counts, so a retried or replayed change is counted once. `revenue_micros`
 *   moves with attributions (added on attribution, taken back on refund).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('attributions')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('variant', 'text')
    .addColumn('touch', 'text', (c) => c.notNull())
    .addColumn('touched_at', 'text', (c) => c.notNull())
    .addColumn('ordered_at', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    .addColumn('refunded_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('attributions_pk', ['store_id', 'order_id'])
    .execute()
  await db.schema.createIndex('attributions_workflow').on('attributions').columns(['store_id', 'workflow_id', 'ordered_at']).execute()

  await db.schema
    .createTable('workflow_stats_daily')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('runs_started', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('runs_completed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('runs_exited', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('runs_failed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('sent', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('delivered', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('opened', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('clicked', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('unsubscribed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bounced', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('orders', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('revenue_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('workflow_stats_daily_pk', ['store_id', 'workflow_id', 'step_id', 'day'])
    .execute()
  await db.schema.createIndex('workflow_stats_daily_day').on('workflow_stats_daily').columns(['store_id', 'day']).execute()
}
