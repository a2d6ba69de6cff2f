import { skuQuantities, type SkuQuantity } from '../core/orders/sku-quantities.ts'
import { sql, type Kysely, type Transaction } from 'kysely'
import { assessOrderRisk } from '../core/order-risk.ts'
import { addWithinStock } from './stock-range.ts'
import type { Database } from './tables.ts'
import type { WrittenOrder } from './written-order.ts'

type Db = Kysely<Database> | Transaction<Database>
type Obj = Record<string, unknown>

/**
 * What the projection does after an order.* event wrote the order (projection.ts upsertOrder):
 * the order's risk score, and the stock it takes.
 */
export async function afterOrderProjected(
  db: Db,
  storeId: string,
  orderId: string,
  historical: boolean,
  skipStock = false,
  written?: WrittenOrder,
): Promise<void> {
  const order =
    written ??
    (await db
      .selectFrom('orders')
      .select(['customer_key', 'created_at', 'data', 'cancelled', 'risk', 'stock_state', 'stock_lines'])
      .where('store_id', '=', storeId)
      .where('id', '=', orderId)
      .executeTakeFirst())
  if (!order) return
  const data = written ? written.snapshot : (JSON.parse(order.data) as Obj)

  const firstOrder = written?.firstOrder ?? (await isFirstOrder(db, storeId, orderId, order))
  const risk = JSON.stringify(assessOrderRisk({ order: data, firstOrder }))
  // the router's hot path: a repeated event writes nothing new
  if (risk !== order.risk) await db.updateTable('orders').set({ risk }).where('store_id', '=', storeId).where('id', '=', orderId).execute()

  // a sandbox whose workflow cannot observe stock (ViewSkips.inventory) moves none
  if (skipStock) return
  // imported history moves no stock: the shop's counts already reflect those orders
  if (historical) {
    if (order.stock_state === 0) await setStock(db, storeId, orderId, 2, null)
    return
  }
  await moveStock(db, storeId, orderId, order.stock_state, order.stock_lines, order.cancelled === 1, data)
}

/**
 * The customer's first order: no other order of theirs in the view created before this one (an
 * earlier order that arrives later is not seen here until this order's next event). The
 * projection knows it from its read of the customer's orders; this reads it otherwise.
 */
async function isFirstOrder(db: Db, storeId: string, orderId: string, order: { customer_key: string | null; created_at: string }): Promise<boolean> {
  if (!order.customer_key) return false
  const earlier = await db
    .selectFrom('orders')
    .select('id')
    .where('store_id', '=', storeId)
    .where('customer_key', '=', order.customer_key)
    .where('id', '!=', orderId)
    .where('created_at', '<', order.created_at)
    .limit(1)
    .executeTakeFirst()
  return !earlier
}

/**
 * Stock in the view follows orders: the order's first order.* event subtracts each line item's
 * quantity from its sku, once (stock_state 0 → 1, the lines subtracted kept in stock_lines); its
 * order.cancelled adds exactly those back, once (1 → 2). Repeated and later order.* events find
 * the marker and do nothing. An order whose first event is its cancellation never takes stock
 * (0 → 2), so the net effect of an order's events does not depend on their order.
 *
 * Where: the variants with the sku (`inventory_quantity`, when the shop gave one) and one
 * inventory level of the sku (location `default` if there is one, else the first by location id).
 * Stock may go below zero (oversold). The shop's own counts (inventory.updated, product.updated)
 * are absolute and replace what the view holds when they arrive.
 */
async function moveStock(db: Db, storeId: string, orderId: string, state: number, linesJson: string | null, cancelled: boolean, data: Obj) {
  if (state === 2) return
  if (state === 0 && cancelled) {
    await setStock(db, storeId, orderId, 2, null)
    return
  }
  if (state === 0) {
    const lines = stockLines(data)
    await addStockLines(db, storeId, lines, -1)
    await setStock(db, storeId, orderId, 1, JSON.stringify(lines))
    return
  }
  if (cancelled) {
    const lines = linesJson ? (JSON.parse(linesJson) as StockLine[]) : []
    await addStockLines(db, storeId, lines, 1)
    await setStock(db, storeId, orderId, 2, linesJson)
  }
}

type StockLine = SkuQuantity
const stockLines = skuQuantities

async function setStock(db: Db, storeId: string, orderId: string, state: number, lines: string | null) {
  await db.updateTable('orders').set({ stock_state: state, stock_lines: lines }).where('store_id', '=', storeId).where('id', '=', orderId).execute()
}

/**
 * An order's lines moved together (`sign` -1 takes, +1 gives back). Two reads find which of the
 * lines' SKUs the view counts at all (a variant with a quantity, an inventory level) and where, so
 * a store that keeps no stock in storeflow pays two statements per order, not three per line.
 */
async function addStockLines(db: Db, storeId: string, lines: readonly StockLine[], sign: 1 | -1) {
  if (lines.length === 0) return
  const skus = lines.map((l) => l.sku)
  const counted = new Set(
    (
      await db
        .selectFrom('variants')
        .select('sku')
        .distinct()
        .where('store_id', '=', storeId)
        .where('sku', 'in', skus)
        .where('inventory_quantity', 'is not', null)
        .execute()
    ).map((r) => r.sku),
  )
  const levels = await db
    .selectFrom('inventory_levels')
    .select(['sku', 'location_id'])
    .where('store_id', '=', storeId)
    .where('sku', 'in', skus)
    .orderBy('sku')
    .orderBy(sql`case when location_id = 'default' then 0 else 1 end`)
    .orderBy('location_id')
    .execute()
  // the first level of each sku in that order: `default` if there is one, else the first by id
  const location = new Map<string, string>()
  for (const l of levels) if (l.sku !== null && !location.has(l.sku)) location.set(l.sku, l.location_id)
  for (const line of lines) {
    const delta = sign * line.quantity
    if (counted.has(line.sku)) await addToVariants(db, storeId, line.sku, delta)
    const at = location.get(line.sku)
    if (at !== undefined) await addToLevel(db, storeId, line.sku, at, delta)
  }
}

async function addToVariants(db: Db, storeId: string, sku: string, delta: number) {
  await db
    .updateTable('variants')
    .set({ inventory_quantity: addWithinStock('inventory_quantity', delta) })
    .where('store_id', '=', storeId)
    .where('sku', '=', sku)
    .where('inventory_quantity', 'is not', null)
    .execute()
}

async function addToLevel(db: Db, storeId: string, sku: string, locationId: string, delta: number) {
  await db
    .updateTable('inventory_levels')
    .set({ available: addWithinStock('available', delta) })
    .where('store_id', '=', storeId)
    .where('sku', '=', sku)
    .where('location_id', '=', locationId)
    .execute()
}

/** One SKU's stock moved by `delta` (a purchase order received): as an order's lines are. */
export async function addStock(db: Db, storeId: string, sku: string, delta: number) {
  await addStockLines(db, storeId, [{ sku, quantity: delta }], 1)
}
