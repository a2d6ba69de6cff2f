import type { Kysely, Transaction } from 'kysely'
import type { CanonicalEvent } from '../contracts/events.ts'
import { moveAttributions } from './attributions.repo.ts'
import { moveDiscountCodes, recordDiscountCodeUses } from './discounts.repo.ts'
import { moveLoyalty, reverseOrderPoints } from './loyalty.repo.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * What an order.* event changes of discount codes and loyalty points, after its order's row is
 * written (store/projection.ts): the codes it carries are counted used once per order, and a
 * cancellation or refund takes back the points the order earned, once.
 */
export async function applyCommerceToView(db: Db, event: CanonicalEvent): Promise<void> {
  const { type, data, store: storeId, occurred_at: at } = event
  if (!type.startsWith('order.') || type === 'order.fulfilled' || type === 'order.delivered' || data.id == null) return
  const orderId = String(data.id)
  await recordDiscountCodeUses(db, storeId, orderId, data.discount_codes, at)
  if (type === 'order.cancelled' || type === 'order.refunded') await reverseOrderPoints(db, storeId, orderId, at)
}

/** A customer merged into another: their codes and points go with them. */
export async function mergeCommerce(db: Db, storeId: string, fromKey: string, intoKey: string): Promise<void> {
  await moveDiscountCodes(db, storeId, fromKey, intoKey)
  await moveLoyalty(db, storeId, fromKey, intoKey)
  await moveAttributions(db, storeId, fromKey, intoKey)
}
