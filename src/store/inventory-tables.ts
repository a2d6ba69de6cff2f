import type { Generated } from 'kysely'

/** Inventory alerts and demand forecasts (migration 0015, see its header). */

export interface SkuDailyDemandTable {
  store_id: string
  sku: string
  /** YYYY-MM-DD in the store's time zone */
  day: string
  quantity: number
}

export interface OrderDemandTable {
  store_id: string
  order_id: string
  /** 0 not counted, 1 counted, 2 settled (cancelled) */
  state: number
  day: string | null
  /** JSON [{ sku, quantity }] counted */
  lines: string | null
}

export interface InventorySkusTable {
  store_id: string
  sku: string
  reorder_point_manual: number | null
  reorder_point_forecast: number | null
  /** the store-day the forecast's reorder point was computed on */
  forecast_on: string | null
  /** the SKU's total available when last seen; null before */
  available: number | null
  low: Generated<number>
  out_of_stock: Generated<number>
  low_count: Generated<number>
  out_count: Generated<number>
  back_count: Generated<number>
  updated_at: string
}

export interface InventoryAdjustmentsTable {
  store_id: string
  idempotency_key: string
  sku: string
  location_id: string
  delta: number
  /** the location's level after */
  available: number
  /** the SKU's total after */
  total: number
  reason: string | null
  created_at: string
}
