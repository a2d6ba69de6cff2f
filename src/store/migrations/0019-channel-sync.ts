import type { Kysely } from 'kysely'

/**
 * Catalogue changes and channel sync (issue 11: update_product, sync_channels). Frozen once
 * shipped: later changes go in new numbered files.
 *
 * - `variants.compare_at_price`: the "was" price update_product sets (null: none).
 * - `channel_pushes`: one row per sync_channels step and channel, keyed by the step's
 *   idempotency key, written once the channel accepted the change: a retried step skips the
 *   channels it finds here. `snapshot` is what was pushed (status, description, variants'
 *   prices), so the shop's product.updated that echoes it back is told from a real change.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('variants').addColumn('compare_at_price', 'text').execute()
  await db.schema
    .createTable('channel_pushes')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('step_key', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('pushed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('channel_pushes_pk', ['store_id', 'step_key', 'channel'])
    .execute()
  await db.schema.createIndex('channel_pushes_product').on('channel_pushes').columns(['store_id', 'product_id', 'pushed_at']).execute()
}
