import type { Kysely, Transaction } from 'kysely'
import { addDays, forecastSku, HISTORY_DAYS, type SkuForecast } from '../core/forecast/index.ts'
import { dayIn, demandRows, storeZone } from './demand.repo.ts'
import { manualReorderPoints, skuAvailable, storeSkus } from './inventory.repo.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * Forecasts read from the daily demand table (store/demand.repo.ts, kept as orders arrive) and
 * fitted per call: a year of one SKU's days is a few hundred numbers, so fitting is cheap, and
 * `as_of`, `horizon` and the supplier's terms differ per call anyway.
 */

export interface ForecastForOptions {
  /** last day of history used, YYYY-MM-DD in the store's zone; default today there */
  asOf?: string
  /** days forecast after asOf; default 28 */
  horizon?: number
  /** supplier lead time, days; default 7 */
  leadTimeDays?: number
  /** chance of no stock-out during a lead time, 0–1 exclusive; default 0.95 */
  serviceLevel?: number
  /** the supplier's minimum order, units; default 1 */
  minOrderQuantity?: number
  /** days an order must cover after it arrives; default 14 */
  reviewDays?: number
  /** the clock's now, for the default asOf (give this or asOf) */
  now?: Date
}

/** A SKU's manual reorder point wins over the forecast's. */
function withManual(forecast: SkuForecast, manual: number | undefined): SkuForecast {
  return manual === undefined ? forecast : { ...forecast, reorder_point: manual }
}

async function resolveAsOf(db: Db, storeId: string, options: ForecastForOptions): Promise<string> {
  if (options.asOf !== undefined) return options.asOf
  if (!options.now) throw new Error('forecastFor: give asOf or now (the clock, never the machine time)')
  return dayIn(options.now, await storeZone(db, storeId))
}

/**
 * The forecast of one SKU (the GET /api/v1/inventory/forecast shape), or null when the store knows no such SKU. For
 * the purchase orders: `forecastFor(db, store, sku, { leadTimeDays, minOrderQuantity, ... })`.
 */
export async function forecastFor(db: Db, storeId: string, sku: string, options: ForecastForOptions = {}): Promise<SkuForecast | null> {
  const asOf = await resolveAsOf(db, storeId, options)
  const [demand, available, manual] = await Promise.all([
    demandRows(db, storeId, asOf, sku, addDays(asOf, -(HISTORY_DAYS - 1))),
    skuAvailable(db, storeId, sku),
    manualReorderPoints(db, storeId),
  ])
  if (available === null && demand.length === 0) {
    const known = await db.selectFrom('variants').select('id').where('store_id', '=', storeId).where('sku', '=', sku).limit(1).executeTakeFirst()
    if (!known) return null
  }
  return withManual(forecastSku(sku, demand, available ?? 0, { ...options, asOf, horizon: options.horizon ?? 28 }), manual.get(sku))
}

/** Every SKU of the store forecast, sorted by days of cover ascending (none expected to sell: last), then SKU. */
export async function forecastAll(db: Db, storeId: string, options: ForecastForOptions = {}): Promise<SkuForecast[]> {
  const asOf = await resolveAsOf(db, storeId, options)
  const [skus, rows, manual] = await Promise.all([
    storeSkus(db, storeId),
    demandRows(db, storeId, asOf, undefined, addDays(asOf, -(HISTORY_DAYS - 1))),
    manualReorderPoints(db, storeId),
  ])
  const bySku = new Map<string, Array<{ day: string; quantity: number }>>()
  for (const r of rows) {
    const list = bySku.get(r.sku)
    if (list) list.push(r)
    else bySku.set(r.sku, [r])
  }
  const out = [...skus].map(([sku, available]) =>
    withManual(forecastSku(sku, bySku.get(sku) ?? [], available, { ...options, asOf, horizon: options.horizon ?? 28 }), manual.get(sku)),
  )
  return out.sort((a, b) => {
    const ca = a.days_of_cover ?? Number.POSITIVE_INFINITY
    const cb = b.days_of_cover ?? Number.POSITIVE_INFINITY
    return ca !== cb ? ca - cb : a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0
  })
}
