import type { Kysely, Transaction } from 'kysely'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * Keys of customers merged away (projection.ts joins an email-only customer into the one with
 * the shop's id) keep forwarding to the customer that absorbed them: a key handed out before the
 * merge, such as the one in an unsubscribe link already mailed, still names the customer.
 */

/** Records that `from` now lives on as `into`; aliases that pointed at `from` move along. */
export async function recordMerge(db: Db, storeId: string, from: string, into: string, at: string): Promise<void> {
  await db.updateTable('customer_aliases').set({ customer_key: into }).where('store_id', '=', storeId).where('customer_key', '=', from).execute()
  await db
    .insertInto('customer_aliases')
    .values({ alias_key: from, store_id: storeId, customer_key: into, created_at: at })
    .onConflict((oc) => oc.column('alias_key').doUpdateSet({ customer_key: into }))
    .execute()
}

/** The key of the customer `key` names in the store today (itself, or where it was merged), or null. */
export async function resolveCustomerKey(db: Db, storeId: string, key: string): Promise<string | null> {
  const own = await db.selectFrom('customers').select('key').where('store_id', '=', storeId).where('key', '=', key).executeTakeFirst()
  if (own) return own.key
  const alias = await db.selectFrom('customer_aliases').select('customer_key').where('store_id', '=', storeId).where('alias_key', '=', key).executeTakeFirst()
  if (!alias) return null
  const target = await db.selectFrom('customers').select('key').where('store_id', '=', storeId).where('key', '=', alias.customer_key).executeTakeFirst()
  return target?.key ?? null
}

/** Every key merged into these customers (for erasure and export: rows may still carry them). */
export async function aliasesOf(db: Db, storeId: string, keys: string[]): Promise<string[]> {
  if (keys.length === 0) return []
  const rows = await db.selectFrom('customer_aliases').select('alias_key').where('store_id', '=', storeId).where('customer_key', 'in', keys).execute()
  return rows.map((r) => r.alias_key)
}
