import type { Kysely } from 'kysely'

/**
 * Failed dashboard sign-ins, in the database so every API node counts the same failures (and a
 * restart forgets none): one row per failure and per key it counts against (`email + client` and
 * `client`). `key_hash` is an HMAC of the key with the installation's secret, so the table names no
 * email or address. Rows leave once they are older than the window. Frozen once shipped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sign_in_failures')
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('failed_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('sign_in_failures_key_at').on('sign_in_failures').columns(['key_hash', 'failed_at']).execute()
  await db.schema.createIndex('sign_in_failures_at').on('sign_in_failures').columns(['failed_at']).execute()
}
