import type { Kysely } from 'kysely'

/**
 * Privacy. Frozen once shipped: later changes go in new numbered files.
 *
 * - customer_aliases: when an email-only customer is joined into the customer with the shop's id
 *   (store/projection.ts), the merged-away key forwards to the surviving one. Keys handed out
 *   before the merge (the unsubscribe link in a mail already sent) still find their customer, and
 *   erasure finds every key the customer ever had.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customer_aliases')
    .addColumn('alias_key', 'text', (c) => c.primaryKey())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('customer_aliases_customer_idx').on('customer_aliases').columns(['store_id', 'customer_key']).execute()
}
