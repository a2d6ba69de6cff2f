import type { Kysely } from 'kysely'
import type { StoredEvent } from '../engine/ports.ts'
import { customerKeysByRef } from './customers.repo.ts'
import { decodeSeqCursor, newestFirstBySeq, type Page, type PageRequest } from './keyset.ts'
import { toEvent } from './storage.ts'
import type { Database } from './tables.ts'

export interface EventFilter {
  type?: string | undefined
  /** the shop's customer id, storeflow's customer key or the email */
  customer?: string | undefined
}

/** The store's events, newest first. */
export async function listEvents(db: Kysely<Database>, storeId: string, filter: EventFilter, page: PageRequest): Promise<Page<StoredEvent>> {
  let q = db.selectFrom('events').selectAll().where('store_id', '=', storeId)
  if (filter.type) q = q.where('type', '=', filter.type)
  const before = decodeSeqCursor(page)
  if (filter.customer) {
    const keys = await customerKeysByRef(db, storeId, filter.customer)
    // no such customer in this store: an empty page (`in ()` is no SQL)
    if (keys.length === 0) return { items: [], next_cursor: null }
    q = q.where('customer_key', 'in', keys)
  }
  const { items, next_cursor } = await newestFirstBySeq(q, before, page.limit)
  return { items: items.map(toEvent), next_cursor }
}

/** One of the store's events by its id (the shop's or the sender's), or null: another store's is never found. */
export async function getEventById(db: Kysely<Database>, storeId: string, id: string): Promise<StoredEvent | null> {
  const row = await db.selectFrom('events').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  return row ? toEvent(row) : null
}
