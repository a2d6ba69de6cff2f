import { type Kysely, sql } from 'kysely'
import { customerKeysByRef } from './customers.repo.ts'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'
import type { Database } from './tables.ts'
import { cartView, customerView, orderView } from './views.ts'

/** `%text%` for LIKE, the wildcards in the text taken literally (escaped with `\`). */
function contains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** The store's customers, newest first; `q` finds a part of the email, name or shop id (any case). */
export async function listCustomers(db: Kysely<Database>, storeId: string, filter: { q?: string }, page: PageRequest): Promise<Page<Record<string, unknown>>> {
  let query = db.selectFrom('customers').selectAll().where('store_id', '=', storeId)
  const q = filter.q?.trim()
  if (q) {
    const pattern = contains(q)
    query = query.where((eb) =>
      eb.or(
        (['email', 'first_name', 'last_name', 'external_id'] as const).map(
          (column) => sql<boolean>`lower(coalesce(${sql.ref(column)}, '')) like ${pattern} escape '\\'`,
        ),
      ),
    )
  }
  const { items, next_cursor } = await newestFirst(query, { time: 'created_at', id: 'key' }, page)
  return { items: items.map(customerView), next_cursor }
}

/** The store's orders, newest first; `customer` (shop id, cus_… key or email) keeps that customer's. */
export async function listOrders(
  db: Kysely<Database>,
  storeId: string,
  filter: { customer?: string },
  page: PageRequest,
): Promise<Page<Record<string, unknown>>> {
  let query = db.selectFrom('orders').selectAll().where('store_id', '=', storeId)
  if (filter.customer) {
    const keys = await customerKeysByRef(db, storeId, filter.customer)
    if (keys.length === 0) return { items: [], next_cursor: null }
    query = query.where('customer_key', 'in', keys)
  }
  const { items, next_cursor } = await newestFirst(query, { time: 'created_at', id: 'id' }, page)
  return { items: items.map((row) => ({ ...orderView(row), customer_key: row.customer_key })), next_cursor }
}

/** The store's carts, most recently changed first; `converted=false` keeps the open ones. */
export async function listCarts(
  db: Kysely<Database>,
  storeId: string,
  filter: { converted?: boolean },
  page: PageRequest,
): Promise<Page<Record<string, unknown>>> {
  let query = db.selectFrom('carts').selectAll().where('store_id', '=', storeId)
  if (filter.converted !== undefined) query = query.where('converted', '=', filter.converted ? 1 : 0)
  const { items, next_cursor } = await newestFirst(query, { time: 'updated_at', id: 'id' }, page)
  return { items: items.map((row) => ({ ...cartView(row), email: row.email, customer_key: row.customer_key })), next_cursor }
}
