import { chooseMethod, forecastWith, type ForecastMethod } from './methods.ts'
import { DEFAULT_LEAD_TIME_DAYS, DEFAULT_REVIEW_DAYS, DEFAULT_SERVICE_LEVEL, reorderAdvice } from './reorder.ts'

export { chooseMethod, classify, forecastWith, holtWinters, mase, seasonalNaive, ses, tsb, type ForecastMethod } from './methods.ts'
export { DEFAULT_LEAD_TIME_DAYS, DEFAULT_REVIEW_DAYS, DEFAULT_SERVICE_LEVEL, normalQuantile, reorderAdvice, stddev } from './reorder.ts'

/** How far back a forecast looks, days: a year holds every weekday ~52 times and the yearly peak once */
export const HISTORY_DAYS = 365

export interface ForecastOptions {
  /** the last day of history used, YYYY-MM-DD in the store's zone */
  asOf: string
  /** days forecast, from the day after asOf */
  horizon: number
  leadTimeDays?: number
  reviewDays?: number
  serviceLevel?: number
  minOrderQuantity?: number
}

/** The forecast of one SKU, as GET /api/v1/inventory/forecast answers it (docs/http-api.md, InventoryForecast) */
export interface SkuForecast {
  sku: string
  available: number
  /** mean forecast units per day over the horizon */
  daily_demand: number
  method: ForecastMethod
  forecast: Array<{ date: string; quantity: number }>
  /** available / daily_demand, days; null when nothing is expected to sell */
  days_of_cover: number | null
  reorder_point: number
  suggested_quantity: number
}

/** `day` plus `n` days, both YYYY-MM-DD (calendar arithmetic, no zone). */
export function addDays(day: string, n: number): string {
  const t = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) + n * 86_400_000
  return new Date(t).toISOString().slice(0, 10)
}

/** The zero-filled daily series from the SKU's first sale (at most HISTORY_DAYS back) through asOf. */
export function dailySeries(demand: Array<{ day: string; quantity: number }>, asOf: string): number[] {
  const start = addDays(asOf, -(HISTORY_DAYS - 1))
  const used = demand.filter((d) => d.day >= start && d.day <= asOf && d.quantity !== 0)
  if (used.length === 0) return []
  const first = used.reduce((m, d) => (d.day < m ? d.day : m), used[0]!.day)
  const length = Math.round((Date.parse(`${asOf}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000) + 1
  const series = new Array<number>(length).fill(0)
  for (const d of used) {
    const i = Math.round((Date.parse(`${d.day}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000)
    series[i] = (series[i] ?? 0) + d.quantity
  }
  return series.map((q) => Math.max(0, q))
}

const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places

/** The forecast, reorder point and suggested quantity of one SKU from its daily demand. */
export function forecastSku(sku: string, demand: Array<{ day: string; quantity: number }>, available: number, options: ForecastOptions): SkuForecast {
  const leadTimeDays = options.leadTimeDays ?? DEFAULT_LEAD_TIME_DAYS
  const reviewDays = options.reviewDays ?? DEFAULT_REVIEW_DAYS
  const series = dailySeries(demand, options.asOf)
  const method = chooseMethod(series)
  const ahead = forecastWith(method, series, Math.max(options.horizon, leadTimeDays + reviewDays))
  const advice = reorderAdvice({
    forecast: ahead,
    history: series,
    available,
    leadTimeDays,
    reviewDays,
    serviceLevel: options.serviceLevel ?? DEFAULT_SERVICE_LEVEL,
    minOrderQuantity: options.minOrderQuantity ?? 1,
  })
  const shown = ahead.slice(0, options.horizon)
  const daily = shown.length > 0 ? shown.reduce((a, b) => a + b, 0) / shown.length : 0
  return {
    sku,
    available,
    daily_demand: round(daily, 3),
    method,
    forecast: shown.map((q, i) => ({ date: addDays(options.asOf, i + 1), quantity: round(q, 3) })),
    days_of_cover: daily > 0 ? round(Math.max(0, available) / daily, 1) : null,
    reorder_point: advice.reorderPoint,
    suggested_quantity: advice.suggestedQuantity,
  }
}
