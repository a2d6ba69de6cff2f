import { sql, type Kysely, type Transaction } from 'kysely'
import type { Clock } from '../lib/clock.ts'
import type { LoyaltyAward, LoyaltyOutcome, LoyaltyServices } from '../plugin-api/commerce-services.ts'
import type { DialectName } from './db.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

const REVERSAL = 'reverse:'

/**
 * Loyalty points: a ledger of awards (one per run step) and reversals (one per order), and the
 * customer's balance, `customers.loyalty_points`, recomputed from it on every change.
 *
 * An award for an order and the order's cancellation or refund meet at the order's row: the award
 * locks it (PostgreSQL) and looks whether the order is cancelled or refunded; the router's
 * projection writes the row before it reverses the order's awards. So whichever commits second
 * sees the first: an award never slips in after its order's reversal.
 */
export function createLoyaltyServices(db: Db, storeId: string, dialect: DialectName, clock: Clock): LoyaltyServices {
  const award = async (t: Db, a: LoyaltyAward): Promise<LoyaltyOutcome> => {
    const entryKey = `${a.runId}:${a.stepKey}`
    const before = await t.selectFrom('loyalty_ledger').select('points').where('store_id', '=', storeId).where('entry_key', '=', entryKey).executeTakeFirst()
    if (before) return { status: 'awarded', points: before.points, balance: await balanceOf(t, a.customerKey), created: false }
    if (a.orderId) {
      const lock = dialect === 'postgres' ? sql`for update` : sql``
      const { rows } = await sql<{ cancelled: number; refunded: string }>`
        select cancelled, refunded from orders where store_id = ${storeId} and id = ${a.orderId} ${lock}`.execute(t)
      const order = rows[0]
      if (order && (order.cancelled === 1 || /[1-9]/.test(order.refunded))) return { status: 'order_reversed', orderId: a.orderId }
      // a refund of nothing still reversed the order's points: it earns no more either
      const reversed = await t
        .selectFrom('loyalty_ledger')
        .select('entry_key')
        .where('store_id', '=', storeId)
        .where('entry_key', '=', `${REVERSAL}${a.orderId}`)
        .executeTakeFirst()
      if (reversed) return { status: 'order_reversed', orderId: a.orderId }
    }
    await t
      .insertInto('loyalty_ledger')
      .values({
        store_id: storeId,
        entry_key: entryKey,
        customer_key: a.customerKey,
        points: a.points,
        reason: a.reason,
        order_id: a.orderId,
        run_id: a.runId,
        step_key: a.stepKey,
        created_at: clock.now().toISOString(),
      })
      .execute()
    return { status: 'awarded', points: a.points, balance: await recomputeLoyaltyBalance(t, storeId, a.customerKey), created: true }
  }
  return {
    award: (a) => (db.isTransaction ? award(db, a) : (db as Kysely<Database>).transaction().execute((t) => award(t, a))),
  }
}

async function balanceOf(db: Db, customerKey: string): Promise<number> {
  const row = await db.selectFrom('customers').select('loyalty_points').where('key', '=', customerKey).executeTakeFirst()
  return row?.loyalty_points ?? 0
}

/** The customer's balance, summed from the ledger onto their row; answers it. */
export async function recomputeLoyaltyBalance(db: Db, storeId: string, customerKey: string): Promise<number> {
  const { rows } = await sql<{ total: number | string | null }>`
    select sum(points) as total from loyalty_ledger where store_id = ${storeId} and customer_key = ${customerKey}`.execute(db)
  const total = Number(rows[0]?.total ?? 0)
  await db.updateTable('customers').set({ loyalty_points: total }).where('store_id', '=', storeId).where('key', '=', customerKey).execute()
  return total
}

/**
 * order.cancelled / order.refunded: one entry takes back every point the order earned, once
 * however often the events arrive and whether both arrive. Called after the order's row is written.
 */
export async function reverseOrderPoints(db: Db, storeId: string, orderId: string, at: string): Promise<void> {
  const key = `${REVERSAL}${orderId}`
  const done = await db.selectFrom('loyalty_ledger').select('entry_key').where('store_id', '=', storeId).where('entry_key', '=', key).executeTakeFirst()
  if (done) return
  const awards = await db
    .selectFrom('loyalty_ledger')
    .select(['customer_key', 'points'])
    .where('store_id', '=', storeId)
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .orderBy('entry_key')
    .execute()
  if (awards.length === 0) return
  const byCustomer = new Map<string, number>()
  for (const a of awards) byCustomer.set(a.customer_key, (byCustomer.get(a.customer_key) ?? 0) + a.points)
  // an order is one customer's; should its awards name two, each gets an entry, the first under the order's key
  // (the router routes a store's events one at a time, so the look above and these inserts do not race)
  let first = true
  for (const [customerKey, points] of byCustomer) {
    await db
      .insertInto('loyalty_ledger')
      .values({
        store_id: storeId,
        entry_key: first ? key : `${key}:${customerKey}`,
        customer_key: customerKey,
        points: -points,
        reason: 'order cancelled or refunded',
        order_id: orderId,
        run_id: null,
        step_key: null,
        created_at: at,
      })
      .execute()
    first = false
    await recomputeLoyaltyBalance(db, storeId, customerKey)
  }
}

/** A merge (store/projection.ts) moves the merged-away customer's ledger to the customer that absorbed it. */
export async function moveLoyalty(db: Db, storeId: string, fromKey: string, intoKey: string): Promise<void> {
  const moved = await db
    .updateTable('loyalty_ledger')
    .set({ customer_key: intoKey })
    .where('store_id', '=', storeId)
    .where('customer_key', '=', fromKey)
    .executeTakeFirst()
  if (Number(moved.numUpdatedRows) > 0) await recomputeLoyaltyBalance(db, storeId, intoKey)
}
