import type { Kysely, Transaction } from 'kysely'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>
type Obj = Record<string, unknown>

/**
 * subscription.* events onto the store's view of the subscription: the newest event (by
 * occurred_at) wins, so the view is the same whatever order they arrive in; a repeat changes
 * nothing (a repeat never reaches the view anyway: event ids are unique).
 */
export async function upsertSubscription(db: Db, storeId: string, data: Obj, at: string, customerKey: string | null): Promise<void> {
  const id = String(data.id)
  const existing = await db
    .selectFrom('subscriptions')
    .select(['updated_at', 'customer_key'])
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .executeTakeFirst()
  if (existing && existing.updated_at > at) return
  const next = typeof data.next_renewal_at === 'string' && data.next_renewal_at ? data.next_renewal_at : null
  const values = {
    customer_key: customerKey ?? existing?.customer_key ?? null,
    plan: String(data.plan ?? ''),
    price: String(data.price ?? '0'),
    interval: String(data.interval ?? ''),
    status: String(data.status ?? 'active'),
    next_renewal_at: next,
    renews_at: next ? renewalInstant(next) : null,
    data: JSON.stringify(data),
    updated_at: at,
  }
  if (existing) await db.updateTable('subscriptions').set(values).where('store_id', '=', storeId).where('id', '=', id).execute()
  else
    await db
      .insertInto('subscriptions')
      .values({ store_id: storeId, id, ...values })
      .execute()
}

/** next_renewal_at as a UTC instant: a bare date (YYYY-MM-DD) is 00:00 UTC that day. */
function renewalInstant(value: string): string | null {
  const at = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value)
  return Number.isNaN(at.getTime()) ? null : at.toISOString()
}
