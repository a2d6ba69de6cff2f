import type { Kysely, Selectable } from 'kysely'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'
import type { Database, MessagesTable } from './tables.ts'

export interface MessageFilter {
  status?: string | undefined
  channel?: string | undefined
  /** storeflow's customer key */
  customer?: string | undefined
}

/** The store's outbox, newest first. */
export async function listMessages(db: Kysely<Database>, storeId: string, filter: MessageFilter, page: PageRequest): Promise<Page<Selectable<MessagesTable>>> {
  let q = db.selectFrom('messages').selectAll().where('store_id', '=', storeId)
  if (filter.status) q = q.where('status', '=', filter.status)
  if (filter.channel) q = q.where('channel', '=', filter.channel)
  if (filter.customer) q = q.where('customer_key', '=', filter.customer)
  return newestFirst(q, { time: 'created_at', id: 'id' }, page)
}

/** What an open or a click needs to know of the message it came from; undefined when there is none. */
export async function messageOrigin(
  db: Kysely<Database>,
  messageId: string,
): Promise<Pick<Selectable<MessagesTable>, 'id' | 'store_id' | 'customer_key' | 'workflow_id'> | undefined> {
  return db.selectFrom('messages').select(['id', 'store_id', 'customer_key', 'workflow_id']).where('id', '=', messageId).executeTakeFirst()
}

/** Counts one more open or click on the message (every one, repeats included). */
export async function countInteraction(db: Kysely<Database>, messageId: string, kind: 'opens' | 'clicks'): Promise<void> {
  await db
    .updateTable('messages')
    .set((eb) => ({ [kind]: eb(kind, '+', 1) }))
    .where('id', '=', messageId)
    .execute()
}
