import { skuQuantities, type SkuQuantity } from '../core/orders/sku-quantities.ts'
import { sql, type Kysely, type Transaction } from 'kysely'
import { localParts } from '../core/time-zones.ts'
import { addWithinStock } from './stock-range.ts'
import type { Database } from './tables.ts'
import { storeRowInTx } from './tx-memo.ts'
import type { WrittenOrder } from './written-order.ts'

type Db = Kysely<Database> | Transaction<Database>
type Obj = Record<string, unknown>

/**
 * Daily demand per SKU, kept as orders arrive (migration 0015): the router calls
 * `recordOrderDemand` after an order.* event wrote its order (projection.ts), live or historical.
 * An order adds its lines to the day it was created on, in the store's zone, once (order_demand
 * 0 → 1); its cancellation takes exactly those off, once (1 → 2); an order whose first event is
 * its cancellation never counts (0 → 2). Forecasts read the table; nothing is recomputed per request.
 */
export async function recordOrderDemand(db: Db, storeId: string, orderId: string, written?: WrittenOrder): Promise<string[]> {
  const order =
    written ??
    (await db.selectFrom('orders').select(['data', 'created_at', 'cancelled']).where('store_id', '=', storeId).where('id', '=', orderId).executeTakeFirst())
  if (!order) return []
  const row = await db
    .selectFrom('order_demand')
    .select(['state', 'day', 'lines'])
    .where('store_id', '=', storeId)
    .where('order_id', '=', orderId)
    .executeTakeFirst()
  const state = row?.state ?? 0
  if (state === 2) return []
  const cancelled = order.cancelled === 1
  if (state === 0) {
    if (cancelled) {
      await putOrderDemand(db, storeId, orderId, 2, null, null, row !== undefined)
      return []
    }
    const lines = demandLines(written ? written.snapshot : (JSON.parse(order.data) as Obj))
    const created = new Date(order.created_at)
    const day = Number.isNaN(created.getTime()) ? order.created_at.slice(0, 10) : await storeDay(db, storeId, created)
    await addDemand(db, storeId, day, lines, 1)
    await putOrderDemand(db, storeId, orderId, 1, day, JSON.stringify(lines), row !== undefined)
    return lines.map((l) => l.sku)
  }
  if (!cancelled) return []
  const lines = row?.lines ? (JSON.parse(row.lines) as DemandLine[]) : []
  await addDemand(db, storeId, row!.day!, lines, -1)
  await putOrderDemand(db, storeId, orderId, 2, row?.day ?? null, row?.lines ?? null, true)
  return lines.map((l) => l.sku)
}

type DemandLine = SkuQuantity
const demandLines = skuQuantities

async function putOrderDemand(db: Db, storeId: string, orderId: string, state: number, day: string | null, lines: string | null, exists: boolean) {
  if (exists) await db.updateTable('order_demand').set({ state, day, lines }).where('store_id', '=', storeId).where('order_id', '=', orderId).execute()
  else await db.insertInto('order_demand').values({ store_id: storeId, order_id: orderId, state, day, lines }).execute()
}

/** An order's lines added to (`sign` 1) or taken off (-1) their day: one multi-row upsert (lines hold each sku once). */
async function addDemand(db: Db, storeId: string, day: string, lines: readonly DemandLine[], sign: 1 | -1) {
  if (lines.length === 0) return
  await db
    .insertInto('sku_daily_demand')
    .values(lines.map((l) => ({ store_id: storeId, sku: l.sku, day, quantity: sign * l.quantity })))
    .onConflict((oc) =>
      oc.columns(['store_id', 'sku', 'day']).doUpdateSet({ quantity: addWithinStock('sku_daily_demand.quantity', sql<number>`excluded.quantity`) }),
    )
    .execute()
}

/** The store's time zone (UTC when unknown). */
export async function storeZone(db: Db, storeId: string): Promise<string> {
  const row = await storeRowInTx(db, storeId)
  return row?.timezone || 'UTC'
}

/** YYYY-MM-DD of `instant` in `zone`. */
export function dayIn(instant: Date, zone: string): string {
  const p = localParts(instant, zone)
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`
}

export async function storeDay(db: Db, storeId: string, instant: Date): Promise<string> {
  return dayIn(instant, await storeZone(db, storeId))
}

/** Daily demand rows of one SKU (or every SKU of the store) from `from` (default: the first) up to and including `upTo`, by SKU, oldest first. */
export async function demandRows(
  db: Db,
  storeId: string,
  upTo: string,
  sku?: string,
  from?: string,
): Promise<Array<{ sku: string; day: string; quantity: number }>> {
  let q = db.selectFrom('sku_daily_demand').select(['sku', 'day', 'quantity']).where('store_id', '=', storeId).where('day', '<=', upTo)
  if (from !== undefined) q = q.where('day', '>=', from)
  if (sku !== undefined) q = q.where('sku', '=', sku)
  return q.orderBy('sku').orderBy('day').execute()
}
