import type { Kysely, Transaction } from 'kysely'
import { newId } from '../lib/ids.ts'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** Migration 0023: one row per admin change of a store (see that file for each column). */
export interface AuditLogTable {
  id: string
  store_id: string
  actor: string
  action: string
  target_id: string
  /** JSON object, never a secret */
  details: string
  at: string
}

export interface AuditEntry {
  id: string
  store: string
  actor: string
  action: string
  target_id: string
  details: Record<string, unknown>
  at: string
}

export interface AuditInput {
  actor: string
  action: string
  target_id: string
  details?: Record<string, unknown>
}

/** Runs `fn` in a transaction: `db`'s own when it is one already, else a new one. */
export function inTransaction<T>(db: Db, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Transaction<Database>) : db.transaction().execute(fn)
}

export async function insertAuditEntry(db: Db, storeId: string, entry: AuditInput, now: Date): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: newId('aud_'),
      store_id: storeId,
      actor: entry.actor,
      action: entry.action,
      target_id: entry.target_id,
      details: JSON.stringify(entry.details ?? {}),
      at: now.toISOString(),
    })
    .execute()
}

/** The store's audit log, newest first; `action` and `target` filter exactly. */
export async function listAuditEntries(db: Db, storeId: string, filter: PageRequest & { action?: string; target?: string }): Promise<Page<AuditEntry>> {
  let q = db.selectFrom('audit_log').selectAll().where('store_id', '=', storeId)
  if (filter.action) q = q.where('action', '=', filter.action)
  if (filter.target) q = q.where('target_id', '=', filter.target)
  const page = await newestFirst(q, { time: 'at', id: 'id' }, filter)
  return {
    items: page.items.map((r) => ({
      id: r.id,
      store: r.store_id,
      actor: r.actor,
      action: r.action,
      target_id: r.target_id,
      details: JSON.parse(r.details) as Record<string, unknown>,
      at: r.at,
    })),
    next_cursor: page.next_cursor,
  }
}
