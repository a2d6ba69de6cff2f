import type { Kysely, Selectable, Transaction } from 'kysely'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'
import type { Database, MessagesTable } from './tables.ts'
import { addWorkflowStats, stepAndWorkflow, stepIdOfKey } from './workflow-stats.repo.ts'

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

/** The id of the store's message with this idempotency key (an unsubscribe link names its message so); undefined when none. */
export async function messageIdByKey(db: Kysely<Database>, storeId: string, idempotencyKey: string): Promise<string | undefined> {
  const row = await db.selectFrom('messages').select('id').where('store_id', '=', storeId).where('idempotency_key', '=', idempotencyKey).executeTakeFirst()
  return row?.id
}

/** Counts one more open or click on the message (every one, repeats included). */
export async function countInteraction(db: Kysely<Database>, messageId: string, kind: 'opens' | 'clicks'): Promise<void> {
  await db
    .updateTable('messages')
    .set((eb) => ({ [kind]: eb(kind, '+', 1) }))
    .where('id', '=', messageId)
    .execute()
}

type Db = Kysely<Database> | Transaction<Database>

/**
 * Changes an outbox row (plugin-api services.messages.update) and counts what its new status means
 * for its workflow and step (store/workflow-stats.repo.ts: `sent`, and `delivered` or `bounced`),
 * in one transaction, only when the status really changed to it: a retried send that writes
 * `sent` again counts nothing. Returns the message's customer and category when its status or its
 * sent time was written (what the customer's count of marketing mail since their last order
 * reads), else null.
 */
export async function updateMessage(
  db: Db,
  storeId: string,
  id: string,
  values: Record<string, unknown>,
  at: string,
): Promise<{ customer_key: string | null; category: string } | null> {
  const work = async (t: Db) => {
    const status = typeof values.status === 'string' ? values.status : null
    let changed = false
    if (status) {
      const result = await t
        .updateTable('messages')
        .set(values)
        .where('store_id', '=', storeId)
        .where('id', '=', id)
        .where('status', '!=', status)
        .executeTakeFirst()
      changed = Number(result.numUpdatedRows) > 0
    }
    if (!changed) {
      const { status: _same, ...rest } = values
      if (Object.keys(rest).length > 0) await t.updateTable('messages').set(rest).where('store_id', '=', storeId).where('id', '=', id).execute()
    }
    if (!changed && values.sent_at === undefined) return null
    const message = await t
      .selectFrom('messages')
      .select(['workflow_id', 'step_key', 'channel', 'customer_key', 'category'])
      .where('store_id', '=', storeId)
      .where('id', '=', id)
      .executeTakeFirst()
    if (!message) return null
    if (changed && (status === 'sent' || status === 'bounced') && message.workflow_id && message.channel !== 'chat') {
      const counts = status === 'sent' ? { sent: 1, delivered: 1 } : { sent: 1, bounced: 1 }
      await addWorkflowStats(t, storeId, stepAndWorkflow(message.workflow_id, stepIdOfKey(message.step_key), at, counts))
    }
    return { customer_key: message.customer_key, category: message.category }
  }
  return db.isTransaction ? work(db) : (db as Kysely<Database>).transaction().execute(work)
}

const TOUCH_COLUMN = { 'message.opened': 'first_opened_at', 'message.clicked': 'first_clicked_at', 'newsletter.unsubscribed': 'unsubscribed_at' } as const

/**
 * A message.opened / message.clicked event, or an unsubscribe through a message's link, as the
 * router projects it: the message's first open (click, unsubscribe) is marked on its row and
 * counted for its workflow and step; a later one, or the same event again, finds the mark and
 * counts nothing. A click is an open too (the tracking link reports both; a shop may send only the
 * click). Only a message of the event's own store is touched.
 */
export async function recordMessageTouch(db: Db, storeId: string, type: string, data: Record<string, unknown>, at: string): Promise<void> {
  if (type !== 'message.opened' && type !== 'message.clicked' && type !== 'newsletter.unsubscribed') return
  const messageId = typeof data.message_id === 'string' ? data.message_id : null
  if (!messageId) return
  const marks: Array<keyof typeof TOUCH_COLUMN> = type === 'message.clicked' ? ['message.opened', 'message.clicked'] : [type]
  const counts: Partial<Record<'opened' | 'clicked' | 'unsubscribed', number>> = {}
  for (const mark of marks) {
    const column = TOUCH_COLUMN[mark]
    const result = await db
      .updateTable('messages')
      .set({ [column]: at })
      .where('store_id', '=', storeId)
      .where('id', '=', messageId)
      .where(column, 'is', null)
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) > 0) counts[mark === 'message.opened' ? 'opened' : mark === 'message.clicked' ? 'clicked' : 'unsubscribed'] = 1
  }
  if (Object.keys(counts).length === 0) return
  const message = await db
    .selectFrom('messages')
    .select(['workflow_id', 'step_key', 'channel'])
    .where('store_id', '=', storeId)
    .where('id', '=', messageId)
    .executeTakeFirst()
  if (!message?.workflow_id || message.channel === 'chat') return
  await addWorkflowStats(db, storeId, stepAndWorkflow(message.workflow_id, stepIdOfKey(message.step_key), at, counts))
}
