import { sql, type Kysely } from 'kysely'

/**
 * Order-independent view (see store/projection.ts). Frozen once shipped: later changes go in
 * new numbered files.
 *
 * - customers.consent_at: occurred_at of the newest explicit newsletter.subscribed/unsubscribed
 *   applied, so an older one arriving late does not undo a newer one.
 * - customers.shop_accepts_marketing / shop_accepts_marketing_at: the shop's own consent flag as
 *   the newest customer data carried it, kept apart so that accepts_marketing can be recomputed
 *   from both registers whatever order they arrive in.
 * - orders.fulfillment_at: the time of the ranked fulfilment status (delivered > fulfilled).
 * - pending_fulfilments: order.fulfilled / order.delivered that arrived before any order.* event
 *   of their order, applied when it arrives.
 */
export async function up(db: Kysely<any>, _dialect: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema.alterTable('customers').addColumn('consent_at', 'text').execute()
  await db.schema.alterTable('customers').addColumn('shop_accepts_marketing', 'integer').execute()
  await db.schema.alterTable('customers').addColumn('shop_accepts_marketing_at', 'text').execute()
  // existing rows: an unsubscribe already recorded is the newest explicit change; otherwise the
  // stored flag is the shop's, as of the newest profile applied
  await sql`update customers set consent_at = unsubscribed_at where unsubscribed_at is not null`.execute(db)
  await sql`update customers set shop_accepts_marketing = accepts_marketing, shop_accepts_marketing_at = profile_at where unsubscribed_at is null`.execute(db)

  await db.schema.alterTable('orders').addColumn('fulfillment_at', 'text').execute()

  await db.schema
    .createTable('pending_fulfilments')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    /** fulfilled | delivered: the highest seen so far */
    .addColumn('status', 'text', (c) => c.notNull())
    /** the earliest time seen for that status */
    .addColumn('at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('pending_fulfilments_pk', ['store_id', 'order_id'])
    .execute()
}
