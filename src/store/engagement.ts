import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely'
import type { CustomersTable, Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * The customer's engagement counters, for conditions ("a time-limited offer after 3 marketing
 * mails with no purchase": `customer.marketing_sent_since_last_order >= 3`; "a follow-up to those
 * who did not open": `customer.last_opened_at == null || timestamp(customer.last_opened_at) < ...`).
 *
 * - `last_opened_at` / `last_clicked_at`: the newest occurred_at of a message.opened /
 *   message.clicked event about the customer (storeflow's tracking links emit them,
 *   services/tracking.ts; a shop may send them too). Newest wins, so the same in any order.
 * - `marketing_sent_since_last_order`: marketing messages of the customer whose status is `sent`
 *   and whose sent_at is after last_order_at (all of them when there is no order). Recounted from
 *   the outbox rows whenever a message's status changes or the customer's orders change, never
 *   incremented, so it stays exact across retries, merges and late events.
 */
export async function applyEngagement(db: Db, customerKey: string, type: string, at: string): Promise<void> {
  const column = type === 'message.opened' ? 'last_opened_at' : type === 'message.clicked' ? 'last_clicked_at' : null
  if (!column) return
  await db
    .updateTable('customers')
    .set({ [column]: at })
    .where('key', '=', customerKey)
    .where((eb) => eb.or([eb(column, 'is', null), eb(column, '<', at)]))
    .execute()
}

/** The counters of two customers joined into one (projection.ts mergeCustomers): the newest of each. */
export function mergeEngagement(
  a: Selectable<CustomersTable>,
  b: Selectable<CustomersTable>,
): Pick<Selectable<CustomersTable>, 'last_opened_at' | 'last_clicked_at'> {
  const newest = (x: string | null, y: string | null) => (x && y ? (x > y ? x : y) : (x ?? y))
  return { last_opened_at: newest(a.last_opened_at, b.last_opened_at), last_clicked_at: newest(a.last_clicked_at, b.last_clicked_at) }
}

export async function recomputeMarketingSinceOrder(db: Db, storeId: string, customerKey: string): Promise<void> {
  await sql`
    update customers set marketing_sent_since_last_order = (
      select count(*) from messages m
      where m.store_id = ${storeId} and m.customer_key = customers.key and m.category = 'marketing' and m.status = 'sent'
        and (customers.last_order_at is null or m.sent_at > customers.last_order_at)
    )
    where key = ${customerKey} and store_id = ${storeId}`.execute(db)
}

/**
 * The count recomputeMarketingSinceOrder writes, as an expression for an UPDATE of the customer's
 * row that sets `last_order_at` to `lastOrderAt` in the same statement (the order totals): one
 * write of the row instead of two.
 */
export function marketingSentSince(storeId: string, lastOrderAt: string | null): RawBuilder<number> {
  const since = lastOrderAt === null ? sql`` : sql` and m.sent_at > ${lastOrderAt}`
  return sql<number>`(select count(*) from messages m
    where m.store_id = ${storeId} and m.customer_key = customers.key and m.category = 'marketing' and m.status = 'sent'${since})`
}

/** The counters as the customer view shows them (views.ts customerView). */
export function engagementView(row: Selectable<CustomersTable>): Record<string, unknown> {
  return {
    marketing_sent_since_last_order: Number(row.marketing_sent_since_last_order),
    last_opened_at: row.last_opened_at,
    last_clicked_at: row.last_clicked_at,
  }
}
