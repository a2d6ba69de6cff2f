import { sql, type Kysely, type Transaction } from 'kysely'
import { addDays, forecastSku, HISTORY_DAYS } from '../core/forecast/index.ts'
import { inventoryEventData, MAX_STOCK, stockCrossings, stockEventId, type InventoryChange, type StockState } from '../core/inventory.ts'
import type { InventoryAdjusted, InventoryAdjustment, InventoryServices } from '../plugin-api/inventory-services.ts'
import { UserError } from '../lib/errors.ts'
import { dayIn, demandRows, storeZone } from './demand.repo.ts'
import { clampStock } from './stock-range.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>
type Dialect = 'sqlite' | 'postgres'

/**
 * Stock alerts and reorder points per SKU (migration 0015; the rules are core/inventory.ts).
 *
 * The SKU's total available: the variants' `inventory_quantity` when the shop gave one (the
 * projection keeps it the sum of the SKU's levels, and orders move it), else the sum of its
 * inventory levels; a SKU with neither is unknown and gets no alerts.
 *
 * Its reorder point: a manual one (PUT /inventory/:sku/reorder-point) wins; else the forecast's,
 * recomputed when a live event touches the SKU and the stored one was computed on an earlier
 * store-day (at most once per SKU per store-day). Historical events do not recompute (an import
 * would otherwise refit once per order); they mark it stale, so the next live event refits it.
 */

/** The SKU's total available now, or null when the view knows no stock for it. */
export async function skuAvailable(db: Db, storeId: string, sku: string): Promise<number | null> {
  const variant = await db
    .selectFrom('variants')
    .select((eb) => eb.fn.max('inventory_quantity').as('q'))
    .where('store_id', '=', storeId)
    .where('sku', '=', sku)
    .where('inventory_quantity', 'is not', null)
    .executeTakeFirst()
  if (variant?.q !== null && variant?.q !== undefined) return Number(variant.q)
  const levels = await db
    .selectFrom('inventory_levels')
    .select((eb) => [eb.fn.sum<number>('available').as('total'), eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where('sku', '=', sku)
    .executeTakeFirst()
  return levels && Number(levels.n) > 0 ? Number(levels.total) : null
}

/** skuAvailable for several SKUs in two reads (an order's lines on the router's path); SKUs without stock are absent. */
async function skuAvailables(db: Db, storeId: string, skus: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const variants = await db
    .selectFrom('variants')
    .select((eb) => ['sku', eb.fn.max('inventory_quantity').as('q')])
    .where('store_id', '=', storeId)
    .where('sku', 'in', skus)
    .where('inventory_quantity', 'is not', null)
    .groupBy('sku')
    .execute()
  for (const v of variants) if (v.sku !== null && v.q !== null) out.set(v.sku, Number(v.q))
  const rest = skus.filter((s) => !out.has(s))
  if (rest.length === 0) return out
  const levels = await db
    .selectFrom('inventory_levels')
    .select((eb) => ['sku', eb.fn.sum<number>('available').as('total')])
    .where('store_id', '=', storeId)
    .where('sku', 'in', rest)
    .groupBy('sku')
    .execute()
  for (const l of levels) out.set(l.sku, Number(l.total))
  return out
}

async function lockSkuRow(db: Db, dialect: Dialect, storeId: string, sku: string, now: string) {
  await db
    .insertInto('inventory_skus')
    .values({ store_id: storeId, sku, reorder_point_manual: null, reorder_point_forecast: null, forecast_on: null, available: null, updated_at: now })
    .onConflict((oc) => oc.columns(['store_id', 'sku']).doNothing())
    .execute()
  // PostgreSQL: the row serialises a router and a worker's adjust_inventory changing one SKU at once
  const lock = dialect === 'postgres' ? sql`for update` : sql``
  const { rows } = await sql<{
    reorder_point_manual: number | null
    reorder_point_forecast: number | null
    forecast_on: string | null
    available: number | null
    low: number
    out_of_stock: number
    low_count: number
    out_count: number
    back_count: number
  }>`select reorder_point_manual, reorder_point_forecast, forecast_on, available, low, out_of_stock, low_count, out_count, back_count
     from inventory_skus where store_id = ${storeId} and sku = ${sku} ${lock}`.execute(db)
  return rows[0]!
}

/** The reorder point the forecast gives a SKU on `day`, with the default lead time and service level. */
async function forecastReorderPoint(db: Db, storeId: string, sku: string, day: string, available: number): Promise<number> {
  const demand = await demandRows(db, storeId, day, sku, addDays(day, -(HISTORY_DAYS - 1)))
  return forecastSku(sku, demand, available, { asOf: day, horizon: 28 }).reorder_point
}

/**
 * Brings the alert state of `skus` up to date with their stock now, answering the crossings as
 * events to append (their ids name the crossing, so deriving one twice stores it once).
 */
export async function refreshInventory(db: Db, dialect: Dialect, storeId: string, skus: string[], now: Date, historical: boolean): Promise<InventoryChange[]> {
  if (skus.length === 0) return []
  const stock = await skuAvailables(db, storeId, [...new Set(skus)])
  // an imported order of SKUs the view holds no stock for: nothing to judge
  if (stock.size === 0) return []
  const zone = await storeZone(db, storeId)
  const today = dayIn(now, zone)
  const at = now.toISOString()
  const changes: InventoryChange[] = []
  // one order for the row locks, whoever takes them
  for (const sku of [...stock.keys()].sort()) {
    const available = stock.get(sku)!
    const row = await lockSkuRow(db, dialect, storeId, sku, at)
    let forecastPoint = row.reorder_point_forecast
    let forecastOn = row.forecast_on
    if (historical) forecastOn = null
    else if (forecastOn !== today) {
      forecastPoint = await forecastReorderPoint(db, storeId, sku, today, available)
      forecastOn = today
    }
    const reorderPoint = row.reorder_point_manual ?? forecastPoint
    const state: StockState = {
      known: row.available !== null,
      low: row.low === 1,
      out: row.out_of_stock === 1,
      lowCount: row.low_count,
      outCount: row.out_count,
      backCount: row.back_count,
    }
    const { next, crossings } = stockCrossings(state, available, reorderPoint)
    await db
      .updateTable('inventory_skus')
      .set({
        reorder_point_forecast: forecastPoint === null ? null : clampStock(forecastPoint),
        forecast_on: forecastOn,
        available: clampStock(available),
        low: next.low ? 1 : 0,
        out_of_stock: next.out ? 1 : 0,
        low_count: next.lowCount,
        out_count: next.outCount,
        back_count: next.backCount,
        updated_at: at,
      })
      .where('store_id', '=', storeId)
      .where('sku', '=', sku)
      .execute()
    if (crossings.length === 0) continue
    const product = await productOf(db, storeId, sku)
    for (const c of crossings) {
      changes.push({ type: c.type, id: stockEventId(c.type, sku, c.n), sku, n: c.n, available, reorder_point: reorderPoint, ...product })
    }
  }
  return changes
}

async function productOf(db: Db, storeId: string, sku: string): Promise<{ product_id?: string; title?: string; url?: string }> {
  const row = await db
    .selectFrom('variants')
    .leftJoin('products', (j) => j.onRef('products.store_id', '=', 'variants.store_id').onRef('products.id', '=', 'variants.product_id'))
    .select(['variants.product_id', 'products.title', 'products.data'])
    .where('variants.store_id', '=', storeId)
    .where('variants.sku', '=', sku)
    .orderBy('variants.id')
    .limit(1)
    .executeTakeFirst()
  if (!row) return {}
  const url = pageUrl(row.data)
  return { product_id: row.product_id, ...(row.title ? { title: row.title } : {}), ...(url ? { url } : {}) }
}

/** The product's page as its product.updated gave it (`url`), if it is an absolute http(s) URL. */
function pageUrl(data: string | null): string | null {
  if (!data) return null
  const url = (JSON.parse(data) as { url?: unknown }).url
  if (typeof url !== 'string') return null
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null
  } catch {
    return null
  }
}

type AdjustRequest = InventoryAdjustment
type AdjustResult = InventoryAdjusted

/**
 * adjust_inventory: moves one location's level by `delta` or to `set`, once per step, and makes
 * the SKU's variants carry the new sum of its levels. The location: the one named, else `default`
 * if the SKU has it, else its first by id, else `default` made from the variants' quantity.
 */
export async function adjustInventory(db: Db, dialect: Dialect, storeId: string, req: AdjustRequest, now: Date): Promise<AdjustResult> {
  const at = now.toISOString()
  const done = await db
    .selectFrom('inventory_adjustments')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('idempotency_key', '=', req.idempotencyKey)
    .executeTakeFirst()
  if (done) return { sku: done.sku, location_id: done.location_id, delta: done.delta, available: done.available, total: done.total, adjusted: false }
  // PostgreSQL: lock in the router's order (an order's stock moves variants, then levels; the alert
  // state comes last, in refreshInventory), so a worker adjusting a SKU while the router moves it
  // waits rather than deadlocks; two adjustments of one SKU wait on the same rows
  if (dialect === 'postgres') {
    await sql`select id from variants where store_id = ${storeId} and sku = ${req.sku} order by id for update`.execute(db)
    await sql`select location_id from inventory_levels where store_id = ${storeId} and sku = ${req.sku} order by location_id for update`.execute(db)
  }
  const levels = await db
    .selectFrom('inventory_levels')
    .select(['location_id', 'available'])
    .where('store_id', '=', storeId)
    .where('sku', '=', req.sku)
    .execute()
  let location = req.locationId
  if (!location)
    location =
      levels.find((l) => l.location_id === 'default')?.location_id ??
      [...levels].sort((a, b) => (a.location_id < b.location_id ? -1 : 1))[0]?.location_id ??
      'default'
  const level = levels.find((l) => l.location_id === location)
  let before = level?.available
  if (before === undefined) {
    // a SKU known only from product.updated: its first level starts at the variants' quantity
    before = levels.length === 0 ? ((await skuAvailable(db, storeId, req.sku)) ?? 0) : 0
  }
  const after = req.set !== undefined ? req.set : before + (req.delta ?? 0)
  if (!Number.isSafeInteger(after) || Math.abs(after) > MAX_STOCK) {
    throw new UserError(`adjusting ${req.sku} would put its stock out of range`, { code: 'validation_failed', details: { field: 'delta' } })
  }
  if (level) {
    await db
      .updateTable('inventory_levels')
      .set({ available: after, updated_at: at })
      .where('store_id', '=', storeId)
      .where('sku', '=', req.sku)
      .where('location_id', '=', location)
      .execute()
  } else {
    await db.insertInto('inventory_levels').values({ store_id: storeId, sku: req.sku, location_id: location, available: after, updated_at: at }).execute()
  }
  const total = clampStock(levels.filter((l) => l.location_id !== location).reduce((n, l) => n + Number(l.available), 0) + after)
  await db.updateTable('variants').set({ inventory_quantity: total }).where('store_id', '=', storeId).where('sku', '=', req.sku).execute()
  await db
    .insertInto('inventory_adjustments')
    .values({
      store_id: storeId,
      idempotency_key: req.idempotencyKey,
      sku: req.sku,
      location_id: location,
      delta: after - before,
      available: after,
      total,
      reason: req.reason ?? null,
      created_at: at,
    })
    .execute()
  return { sku: req.sku, location_id: location, delta: after - before, available: after, total, adjusted: true }
}

/** PUT /inventory/:sku/reorder-point: a manual reorder point (null clears it, back to the forecast's). */
export async function setManualReorderPoint(db: Db, storeId: string, sku: string, reorderPoint: number | null, now: Date): Promise<void> {
  await db
    .insertInto('inventory_skus')
    .values({
      store_id: storeId,
      sku,
      reorder_point_manual: reorderPoint,
      reorder_point_forecast: null,
      forecast_on: null,
      available: null,
      updated_at: now.toISOString(),
    })
    .onConflict((oc) => oc.columns(['store_id', 'sku']).doUpdateSet({ reorder_point_manual: reorderPoint, updated_at: now.toISOString() }))
    .execute()
}

/** Manual reorder points of the store, by SKU. */
export async function manualReorderPoints(db: Db, storeId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('inventory_skus')
    .select(['sku', 'reorder_point_manual'])
    .where('store_id', '=', storeId)
    .where('reorder_point_manual', 'is not', null)
    .execute()
  return new Map(rows.map((r) => [r.sku, r.reorder_point_manual!]))
}

/** Every SKU the store knows (variants, levels, demand), with its total available (0 when unknown). */
export async function storeSkus(db: Db, storeId: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const levels = await db.selectFrom('inventory_levels').select(['sku', 'available']).where('store_id', '=', storeId).execute()
  for (const l of levels) out.set(l.sku, (out.get(l.sku) ?? 0) + l.available)
  const variants = await db.selectFrom('variants').select(['sku', 'inventory_quantity']).where('store_id', '=', storeId).where('sku', 'is not', null).execute()
  const fromVariants = new Map<string, number>()
  for (const v of variants) {
    if (v.inventory_quantity === null) {
      if (!out.has(v.sku!)) out.set(v.sku!, 0)
    } else fromVariants.set(v.sku!, Math.max(fromVariants.get(v.sku!) ?? Number.NEGATIVE_INFINITY, v.inventory_quantity))
  }
  for (const [sku, q] of fromVariants) out.set(sku, q)
  const demand = await db.selectFrom('sku_daily_demand').select('sku').distinct().where('store_id', '=', storeId).execute()
  for (const d of demand) if (!out.has(d.sku)) out.set(d.sku, 0)
  return out
}

/** Whether the store knows the SKU at all (a variant, a level or a sale). */
export async function skuKnown(db: Db, storeId: string, sku: string): Promise<boolean> {
  const [v, l, d] = await Promise.all([
    db.selectFrom('variants').select('id').where('store_id', '=', storeId).where('sku', '=', sku).limit(1).executeTakeFirst(),
    db.selectFrom('inventory_levels').select('sku').where('store_id', '=', storeId).where('sku', '=', sku).limit(1).executeTakeFirst(),
    db.selectFrom('sku_daily_demand').select('sku').where('store_id', '=', storeId).where('sku', '=', sku).limit(1).executeTakeFirst(),
  ])
  return Boolean(v || l || d)
}

/** ActionServices.inventory, bound to the action's transaction. */
export function createInventoryServices(
  db: Db,
  storeId: string,
  dialect: Dialect,
  clock: { now(): Date },
  emit: (event: { id?: string; type: string; occurred_at?: string; data: Record<string, unknown> }) => Promise<unknown>,
): InventoryServices {
  return {
    async adjust(request) {
      const now = clock.now()
      const result = await adjustInventory(db, dialect, storeId, request, now)
      if (!result.adjusted) return result
      for (const change of await refreshInventory(db, dialect, storeId, [request.sku], now, false)) {
        await emit({ id: change.id, type: change.type, occurred_at: now.toISOString(), data: inventoryEventData(change) })
      }
      return result
    },
  }
}
