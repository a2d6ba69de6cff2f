import type { Kysely } from 'kysely'

/**
 * Shop connectors, their raw webhook deliveries, signature-failure counters and privacy exports.
 * Frozen once shipped: later changes go in new numbered files.
 */
export async function up(db: Kysely<any>, _dialect: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema
    .createTable('connectors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
    .addColumn('platform', 'text', (c) => c.notNull())
    /** sealed JSON array of 1–2 webhook secrets (lib/secret-box.ts) */
    .addColumn('secrets', 'text', (c) => c.notNull())
    .addColumn('shop_domain', 'text')
    .addColumn('api_url', 'text')
    /** sealed, or null */
    .addColumn('access_token', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('connectors_store_idx').on('connectors').columns(['store_id', 'platform']).execute()

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('connector_id', 'text', (c) => c.notNull())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('verified', 'integer', (c) => c.notNull())
    .addColumn('verify_error', 'text')
    .addColumn('dedupe_key', 'text')
    .addColumn('delivery_id', 'text')
    .addColumn('unknown_topic', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'text')
    .execute()
  await db.schema.createIndex('webhook_deliveries_connector_idx').on('webhook_deliveries').columns(['connector_id', 'received_at']).execute()
  await db.schema.createIndex('webhook_deliveries_store_idx').on('webhook_deliveries').columns(['store_id', 'received_at']).execute()
  await db.schema.createIndex('webhook_deliveries_received_idx').on('webhook_deliveries').columns(['received_at']).execute()

  await db.schema
    .createTable('connector_signature_failures')
    .addColumn('connector_id', 'text', (c) => c.notNull())
    /** the UTC hour, `2026-03-02T10` */
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('last_at', 'text', (c) => c.notNull())
    .addColumn('last_reason', 'text')
    .addPrimaryKeyConstraint('connector_signature_failures_pk', ['connector_id', 'hour'])
    .execute()

  await db.schema
    .createTable('privacy_exports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('customer_ref', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text')
    .addColumn('delivery_id', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('privacy_exports_store_idx').on('privacy_exports').columns(['store_id', 'created_at']).execute()
}
