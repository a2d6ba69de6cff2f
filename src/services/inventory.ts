import { isCalendarDay } from '../lib/calendar-day.ts'
import { UserError } from '../lib/errors.ts'
import { pageOfList, type PageRequest } from '../store/keyset.ts'
import { forecastAll, forecastFor } from '../store/forecasts.repo.ts'
import { setManualReorderPoint } from '../store/inventory.repo.ts'
import type { ServiceContext } from './context.ts'

/** Longest forecast horizon, days */
export const MAX_HORIZON = 365

export interface ForecastQuery {
  sku?: string | undefined
  as_of?: string | undefined
  horizon?: string | undefined
  lead_time_days?: string | undefined
  service_level?: string | undefined
  limit?: string | undefined
  cursor?: string | undefined
}

function invalid(field: string, message: string): UserError {
  return new UserError(`${field}: ${message}`, { code: 'validation_failed', details: { field } })
}

function wholeNumber(field: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw invalid(field, `give a whole number from ${min} to ${max}`)
  return Number(value)
}

function calendarDay(field: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  if (!isCalendarDay(value)) throw invalid(field, 'give a date as YYYY-MM-DD, from 1970')
  return value
}

/** A repeated query parameter (`?sku=a&sku=b`) is the client's mistake, named. */
function singleValues(query: ForecastQuery): ForecastQuery {
  for (const [field, value] of Object.entries(query)) if (value !== undefined && typeof value !== 'string') throw invalid(field, 'give one value')
  return query
}

/** Demand forecasts and reorder points (docs/http-api.md, Inventory). */
export function createInventoryService(ctx: ServiceContext) {
  const db = ctx.handle.db
  const options = (raw: ForecastQuery) => {
    const query = singleValues(raw)
    const serviceLevel = query.service_level === undefined || query.service_level === '' ? undefined : Number(query.service_level)
    if (serviceLevel !== undefined && !(serviceLevel >= 0.5 && serviceLevel <= 0.9999)) throw invalid('service_level', 'give a number from 0.5 to 0.9999')
    const asOf = calendarDay('as_of', query.as_of)
    const horizon = wholeNumber('horizon', query.horizon, 1, MAX_HORIZON)
    const leadTimeDays = wholeNumber('lead_time_days', query.lead_time_days, 0, 365)
    return {
      now: ctx.clock.now(),
      ...(asOf !== undefined ? { asOf } : {}),
      ...(horizon !== undefined ? { horizon } : {}),
      ...(leadTimeDays !== undefined ? { leadTimeDays } : {}),
      ...(serviceLevel !== undefined ? { serviceLevel } : {}),
    }
  }
  return {
    /** One SKU's forecast; 404 for a SKU the store does not know. */
    async forecast(storeId: string, raw: ForecastQuery) {
      const query = singleValues(raw)
      const sku = query.sku?.trim() ?? ''
      if (!sku) throw invalid('sku', 'give a SKU')
      const result = await forecastFor(db, storeId, sku, options(query))
      if (!result) throw new UserError(`sku "${sku}" not found`, { code: 'not_found', details: { field: 'sku' } })
      return result
    },
    /** Every SKU's forecast, fewest days of cover first, paged. */
    async list(storeId: string, query: ForecastQuery, page: PageRequest) {
      const all = await forecastAll(db, storeId, options(query))
      return pageOfList(all, (f) => f.sku, page)
    },
    async setReorderPoint(storeId: string, rawSku: string, body: unknown) {
      // trimmed as the forecast, receipts and suppliers take a SKU: " MUG " is MUG's reorder point
      const sku = rawSku.trim()
      const value = (body as { reorder_point?: unknown } | null)?.reorder_point
      if (value !== null && !(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1_000_000_000)) {
        throw invalid('reorder_point', 'give a whole number of units from 0, or null to go back to the forecast')
      }
      if (!sku || sku.length > 200) throw invalid('sku', 'give a SKU')
      await setManualReorderPoint(db, storeId, sku, value, ctx.clock.now())
      return { sku, reorder_point: value }
    },
  }
}

export type InventoryService = ReturnType<typeof createInventoryService>
