import { sql, type Kysely } from 'kysely'

/**
 * What the time-based derived events (src/triggers/) look up. Frozen once shipped: later changes
 * go in new numbered files.
 *
 * - `carts.email`: where an abandoned cart's reminder would go (the cart's own email, else its
 *   customer's); a cart without one is never announced as abandoned.
 * - `subscriptions`: the store's view of `subscription.*` events; `renews_at` is
 *   `next_renewal_at` as an instant (a bare date is read as 00:00 UTC).
 * - indexes for the sweeps: idle unconverted carts, customers by last order and by birthday.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('carts').addColumn('email', 'text').execute()
  // carts stored before this version: their own email, else their customer's
  await sql`
    update carts set email = (select c.email from customers c where c.key = carts.customer_key)
    where email is null and customer_key is not null`.execute(db)
  await db.schema.createIndex('carts_idle_idx').on('carts').columns(['store_id', 'converted', 'updated_at']).execute()
  await db.schema.createIndex('customers_last_order_idx').on('customers').columns(['store_id', 'last_order_at']).execute()
  await db.schema.createIndex('customers_birthday_idx').on('customers').columns(['store_id', 'birthday']).execute()

  await db.schema
    .createTable('subscriptions')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text')
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('price', 'text', (c) => c.notNull())
    .addColumn('interval', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    /** next_renewal_at as sent */
    .addColumn('next_renewal_at', 'text')
    /** next_renewal_at as a UTC instant (ISO), for the renewal sweep */
    .addColumn('renews_at', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    /** occurred_at of the newest event applied (newest wins, whatever order events arrive in) */
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('subscriptions_pk', ['store_id', 'id'])
    .execute()
  await db.schema.createIndex('subscriptions_renewal_idx').on('subscriptions').columns(['store_id', 'status', 'renews_at']).execute()
  await db.schema.createIndex('subscriptions_customer_idx').on('subscriptions').columns(['store_id', 'customer_key']).execute()
}
