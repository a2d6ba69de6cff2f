import type { Kysely, Selectable, Transaction } from 'kysely'
import { UserError } from '../lib/errors.ts'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'
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

/** The store's exports, newest first. */
export async function listPrivacyExports(db: Db, storeId: string, page: PageRequest): Promise<Page<PrivacyExportSummary>> {
  const q = db.selectFrom('privacy_exports').select(['id', 'customer_ref', 'delivery_id', 'created_at']).where('store_id', '=', storeId)
  return newestFirst(q, { time: 'created_at', id: 'id' }, page)
}

export async function getPrivacyExport(db: Db, storeId: string, id: string): Promise<PrivacyExportRow> {
  const row = await db.selectFrom('privacy_exports').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (!row) throw new UserError(`privacy export "${id}" not found (exports are kept 30 days)`, { code: 'not_found' })
  return row
}
