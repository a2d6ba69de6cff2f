import type { Kysely } from 'kysely'

/**
 * Remote services (issue 11): per-store credentials for the shipping, social and ad platforms,
 * the labels `create_shipping_label` bought, and what `sync_audience` has sent. Frozen once
 * shipped: later changes go in new numbered files.
 *
 * - `integrations`: one row per store and kind (`shippo`, `buffer`, `meta_ads`); `credentials`
 *   is a JSON object sealed with STOREFLOW_SECRET_KEY (lib/secret-box.ts, context
 *   `integration:<store>:<kind>`), `config` plain JSON (ship-from address, profile ids).
 * - `shipping_labels`: `(run_id, step_key)` unique, so a retried step finds the label it bought
 *   (or the rate it was buying, `status = 'pending'`) and never buys a second; looked up by
 *   `(store_id, tracking_number)` when the carrier's tracking webhook names it.
 * - `orders.estimated_delivery_at` / `shipment_status`: from the newest `shipment.updated` for the
 *   order by `occurred_at` (`shipment_updated_at`), whatever order the updates arrive in.
 * - `audience_members`: per store, audience and customer, the state last sent (`added` |
 *   `removed`), so each customer is sent once per change.
 * - `social_posts`: post_social's per-step record, `(run_id, step_key)` unique: `pending` before the
 *   call (its text, so a retry can look for it), `posted` with the update ids after.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('integrations')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('api_url', 'text')
    .addColumn('credentials', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('integrations_pk', ['store_id', 'kind'])
    .execute()
  await db.schema
    .createTable('shipping_labels')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('step_key', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text')
    /** pending (rate chosen, purchase under way) | bought */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('rate_id', 'text', (c) => c.notNull())
    .addColumn('carrier', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('amount', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('estimated_days', 'integer')
    .addColumn('transaction_id', 'text')
    .addColumn('tracking_number', 'text')
    .addColumn('label_url', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('shipping_labels_pk', ['run_id', 'step_key'])
    .execute()
  await db.schema.createIndex('shipping_labels_tracking_idx').on('shipping_labels').columns(['store_id', 'tracking_number']).execute()
  await db.schema.alterTable('orders').addColumn('estimated_delivery_at', 'text').execute()
  await db.schema.alterTable('orders').addColumn('shipment_status', 'text').execute()
  await db.schema.alterTable('orders').addColumn('shipment_updated_at', 'text').execute()
  await db.schema
    .createTable('audience_members')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('audience_id', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text', (c) => c.notNull())
    .addColumn('email_hash', 'text', (c) => c.notNull())
    /** added | removed: what the platform was last told */
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('synced_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audience_members_pk', ['store_id', 'audience_id', 'customer_key'])
    .execute()
  await db.schema
    .createTable('social_posts')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('step_key', 'text', (c) => c.notNull())
    /** pending | posted */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    /** JSON list of { profile_id, update_id } */
    .addColumn('updates', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('social_posts_pk', ['run_id', 'step_key'])
    .execute()
}
