import type { Kysely, Selectable, Transaction } from 'kysely'
import { UserError } from '../lib/errors.ts'
import { decodeCursor, encodeCursor } from './runs.repo.ts'
import type { Database, PrivacyExportsTable } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * Exports produced by Shopify's customers/data_request, kept with the delivery that asked for
 * them (pruned with deliveries after 30 days; erased with the customer).
 */

/** `data` is the export as JSON text */
export type PrivacyExportRow = Selectable<PrivacyExportsTable>

export type PrivacyExportSummary = Pick<PrivacyExportRow, 'id' | 'customer_ref' | 'delivery_id' | 'created_at'>

export async function insertPrivacyExport(db: Db, row: PrivacyExportRow): Promise<void> {
  await db.insertInto('privacy_exports').values(row).execute()
}

/** The store's exports, newest first, by keyset on (created_at, id). */
export async function listPrivacyExports(db: Db, storeId: string, page: { limit: number; cursor?: string }): Promise<{ items: PrivacyExportSummary[]; next_cursor: string | null }> {
  let q = db.selectFrom('privacy_exports').select(['id', 'customer_ref', 'delivery_id', 'created_at']).where('store_id', '=', storeId)
  if (page.cursor) {
    const [createdAt, id] = decodeCursor(page.cursor)
    q = q.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]))
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute()
  const items = rows.slice(0, page.limit)
  const last = items[items.length - 1]
  return { items, next_cursor: rows.length > page.limit && last ? encodeCursor([last.created_at, last.id]) : null }
}

export async function getPrivacyExport(db: Db, storeId: string, id: string): Promise<PrivacyExportRow> {
  const row = await db.selectFrom('privacy_exports').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (!row) throw new UserError(`privacy export "${id}" not found (exports are kept 30 days)`, { code: 'not_found' })
  return row
}
