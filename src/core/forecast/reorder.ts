/**
 * Reorder point and suggested quantity from a forecast, pure.
 *
 * - lead-time demand: the forecast summed over the lead time (days);
 * - safety stock: z × σ × √(lead time), σ the sample standard deviation of the daily demand
 *   history, z the standard normal quantile of the service level (0.95 → 1.645);
 * - reorder point: ⌈lead-time demand + safety stock⌉ units;
 * - suggested quantity: the forecast over lead time + review period, plus safety stock, less what
 *   is available, rounded up to whole units and to at least the supplier's minimum order (0 when
 *   nothing is needed).
 */

/** Default lead time, days, when no supplier says otherwise */
export const DEFAULT_LEAD_TIME_DAYS = 7
/** Default review period, days: how long an order must last until the next is placed */
export const DEFAULT_REVIEW_DAYS = 14
/** Default service level: the chance of not running out during a lead time */
export const DEFAULT_SERVICE_LEVEL = 0.95

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.15e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('p must be between 0 and 1')
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const low = 0.02425
  const poly = (k: number[], x: number) => k.reduce((acc, v) => acc * x + v, 0)
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p))
    return poly(c, q) / (poly(d, q) * q + 1)
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    return -poly(c, q) / (poly(d, q) * q + 1)
  }
  const q = p - 0.5
  const r = q * q
  return (poly(a, r) * q) / (poly(b, r) * r + 1)
}

/** Sample standard deviation (n − 1); 0 below two values. */
export function stddev(values: number[]): number {
  if (values.length < 2) return 0
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1))
}

export interface ReorderInput {
  /** daily forecast from the day after as_of, at least leadTimeDays + reviewDays long */
  forecast: number[]
  /** the daily demand history the forecast came from */
  history: number[]
  available: number
  leadTimeDays: number
  reviewDays: number
  serviceLevel: number
  minOrderQuantity: number
}

export interface ReorderAdvice {
  safetyStock: number
  leadTimeDemand: number
  reorderPoint: number
  suggestedQuantity: number
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

/** A tolerance so that float noise (28.000000001) does not round a whole number up. */
const ceil = (x: number) => Math.ceil(x - 1e-9)

export function reorderAdvice(input: ReorderInput): ReorderAdvice {
  const z = normalQuantile(input.serviceLevel)
  const safetyStock = Math.max(0, z * stddev(input.history) * Math.sqrt(input.leadTimeDays))
  const leadTimeDemand = sum(input.forecast.slice(0, input.leadTimeDays))
  const coverDemand = sum(input.forecast.slice(0, input.leadTimeDays + input.reviewDays))
  const need = ceil(coverDemand + safetyStock - input.available)
  const suggestedQuantity = need <= 0 ? 0 : Math.max(need, input.minOrderQuantity)
  return { safetyStock, leadTimeDemand, reorderPoint: Math.max(0, ceil(leadTimeDemand + safetyStock)), suggestedQuantity }
}
