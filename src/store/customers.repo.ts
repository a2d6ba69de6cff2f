import type { ExpressionBuilder, Kysely, Selectable, Transaction } from 'kysely'
import type { CustomersTable, Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * Customers as the API and the mail links name them. A reference from outside is the shop's
 * customer id, storeflow's key (cus_…) or the email; it may match several profiles (one with the
 * shop's id, one from a guest checkout with the same email).
 */

const matchesRef = (ref: string) => (eb: ExpressionBuilder<Database, 'customers'>) =>
  eb.or([eb('external_id', '=', ref), eb('key', '=', ref), eb('email', '=', ref.toLowerCase())])

/** The keys of every profile in the store the reference matches. */
export async function customerKeysByRef(db: Db, storeId: string, ref: string): Promise<string[]> {
  const rows = await db.selectFrom('customers').select('key').where('store_id', '=', storeId).where(matchesRef(ref)).execute()
  return rows.map((r) => r.key)
}

/** The oldest profile in the store the reference matches, or undefined. */
export async function customerByRef(db: Db, storeId: string, ref: string): Promise<Selectable<CustomersTable> | undefined> {
  return db.selectFrom('customers').selectAll().where('store_id', '=', storeId).where(matchesRef(ref)).orderBy('created_at').executeTakeFirst()
}

/** How a customer is reached and whether they unsubscribed, by key; undefined when there is no such customer. */
export async function customerContact(
  db: Db,
  customerKey: string,
): Promise<Pick<Selectable<CustomersTable>, 'external_id' | 'email' | 'unsubscribed_at'> | undefined> {
  return db.selectFrom('customers').select(['external_id', 'email', 'unsubscribed_at']).where('key', '=', customerKey).executeTakeFirst()
}
