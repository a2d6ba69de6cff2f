import type { Kysely } from 'kysely'

/**
 * A customer merge (an email-only customer joined into the shop's id: a guest who orders, then
 * registers) moves every row that points at the email-only key. Carts, attributions and exit-goal
 * correlations had no index by customer, so each move read the store's whole range of its table,
 * in the router's transaction: on SQLite, whose one writer that holds, a pause that grew with the
 * store's history on every merge. An index each makes a move a few index steps, for one more
 * index entry per cart write, attribution and correlation. Frozen once shipped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('carts_customer_idx').on('carts').columns(['store_id', 'customer_key']).execute()
  await db.schema.createIndex('attributions_customer_idx').on('attributions').columns(['store_id', 'customer_key']).execute()
  await db.schema.createIndex('correlations_key_idx').on('correlations').columns(['store_id', 'corr_key']).execute()
}
