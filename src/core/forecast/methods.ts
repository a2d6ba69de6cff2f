/**
 * Demand forecasting for one SKU's daily series (units sold per store-day, zero-filled), pure.
 *
 * Why these methods: retail demand per SKU is mostly sparse (many zero days, a few orders of
 * varying size) and, for the best sellers, weekly-seasonal. A method for smooth series forecasts a
 * sparse one badly (it chases every spike), and a method for sparse series ignores the weekly
 * pattern of a regular one, so the method is chosen per SKU from its history
 * (Syntetos–Boylan classification): the average inter-demand interval ADI = days / days with
 * demand; ADI > 1.32 is intermittent and gets TSB (Teunter–Syntetos–Babai: the probability of a
 * demand and its size smoothed separately, so the forecast decays when a SKU stops selling, which
 * Croston's does not); otherwise additive Holt-Winters with a damped trend and a period of 7 days,
 * or simple exponential smoothing when there are fewer than two weeks. Seasonal naive (the same
 * weekday last week) is the baseline every method is measured against with MASE.
 */

export type ForecastMethod = 'tsb' | 'holt_winters' | 'ses' | 'seasonal_naive' | 'none'

export const SEASON = 7
/** Syntetos–Boylan cut-off of the average inter-demand interval, in days */
export const ADI_INTERMITTENT = 1.32

export interface Classification {
  /** average inter-demand interval (days per day with demand); Infinity when nothing sold */
  adi: number
  /** squared coefficient of variation of the non-zero demand sizes */
  cv2: number
  intermittent: boolean
}

export function classify(series: number[]): Classification {
  const sizes = series.filter((q) => q > 0)
  if (sizes.length === 0) return { adi: Number.POSITIVE_INFINITY, cv2: 0, intermittent: true }
  const adi = series.length / sizes.length
  const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length
  const variance = sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / sizes.length
  return { adi, cv2: mean > 0 ? variance / mean ** 2 : 0, intermittent: adi > ADI_INTERMITTENT }
}

/** The method chosen for a series, from its history. */
export function chooseMethod(series: number[]): ForecastMethod {
  if (series.length === 0 || series.every((q) => q === 0)) return 'none'
  if (classify(series).intermittent) return 'tsb'
  return series.length >= 2 * SEASON ? 'holt_winters' : 'ses'
}

/** Forecasts `horizon` days after the series with `method` (never below zero). */
export function forecastWith(method: ForecastMethod, series: number[], horizon: number): number[] {
  const raw =
    method === 'tsb'
      ? tsb(series, horizon)
      : method === 'holt_winters'
        ? holtWinters(series, horizon)
        : method === 'ses'
          ? ses(series, horizon)
          : method === 'seasonal_naive'
            ? seasonalNaive(series, horizon)
            : new Array<number>(horizon).fill(0)
  return raw.map((q) => (Number.isFinite(q) && q > 0 ? q : 0))
}

/** The same weekday last week (the last value when there is less than a week). */
export function seasonalNaive(series: number[], horizon: number): number[] {
  const n = series.length
  if (n === 0) return new Array<number>(horizon).fill(0)
  return Array.from({ length: horizon }, (_, h) => (n >= SEASON ? series[n - SEASON + (h % SEASON)]! : series[n - 1]!))
}

const SES_ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.5]

/** Simple exponential smoothing, alpha chosen by in-sample one-step squared error. */
export function ses(series: number[], horizon: number): number[] {
  if (series.length === 0) return new Array<number>(horizon).fill(0)
  let best = { sse: Number.POSITIVE_INFINITY, level: 0 }
  for (const alpha of SES_ALPHAS) {
    let level = series[0]!
    let sse = 0
    for (let t = 1; t < series.length; t++) {
      const e = series[t]! - level
      sse += e * e
      level += alpha * e
    }
    if (sse < best.sse) best = { sse, level }
  }
  return new Array<number>(horizon).fill(best.level)
}

const TSB_ALPHAS = [0.05, 0.1, 0.2, 0.3]
const TSB_BETAS = [0.02, 0.05, 0.1, 0.2]

/**
 * TSB: z smooths the demand size (updated on demand days only, by alpha), p the probability of a
 * demand on a day (updated every day, by beta); the forecast is p × z every day ahead. Parameters
 * from a small grid by in-sample one-step squared error; initial z the mean non-zero size, p the
 * share of days with demand.
 */
export function tsb(series: number[], horizon: number): number[] {
  const sizes = series.filter((q) => q > 0)
  if (sizes.length === 0) return new Array<number>(horizon).fill(0)
  const z0 = sizes.reduce((a, b) => a + b, 0) / sizes.length
  const p0 = sizes.length / series.length
  let best = { sse: Number.POSITIVE_INFINITY, value: 0 }
  for (const alpha of TSB_ALPHAS) {
    for (const beta of TSB_BETAS) {
      let z = z0
      let p = p0
      let sse = 0
      for (const y of series) {
        const e = y - p * z
        sse += e * e
        if (y > 0) {
          z += alpha * (y - z)
          p += beta * (1 - p)
        } else {
          p += beta * (0 - p)
        }
      }
      if (sse < best.sse) best = { sse, value: p * z }
    }
  }
  return new Array<number>(horizon).fill(best.value)
}

const HW_ALPHAS = [0.05, 0.1, 0.2, 0.4]
const HW_BETAS = [0, 0.05, 0.15]
const HW_GAMMAS = [0.05, 0.15, 0.3]
/** trend damping: a trend carries on, fading, rather than running away over a 28-day horizon */
const HW_PHI = 0.98

/**
 * Additive Holt-Winters with a damped trend and a 7-day season. Initial level the first week's
 * mean, trend the change between the first two weeks' means per day, seasonal indices the first
 * week's values less its mean; parameters from a small grid by in-sample one-step squared error.
 * A series that repeats one week exactly is forecast exactly, whatever the parameters.
 */
export function holtWinters(series: number[], horizon: number): number[] {
  const n = series.length
  if (n < 2 * SEASON) return ses(series, horizon)
  const mean = (a: number, b: number) => series.slice(a, b).reduce((s, v) => s + v, 0) / (b - a)
  const l0 = mean(0, SEASON)
  const b0 = (mean(SEASON, 2 * SEASON) - l0) / SEASON
  const s0 = series.slice(0, SEASON).map((v) => v - l0)
  let best: { sse: number; level: number; trend: number; season: number[] } = { sse: Number.POSITIVE_INFINITY, level: l0, trend: 0, season: s0 }
  for (const alpha of HW_ALPHAS) {
    for (const beta of HW_BETAS) {
      for (const gamma of HW_GAMMAS) {
        let level = l0
        let trend = b0
        const season = [...s0]
        let sse = 0
        for (let t = SEASON; t < n; t++) {
          const y = series[t]!
          const i = t % SEASON
          const s = season[i]!
          const e = y - (level + HW_PHI * trend + s)
          sse += e * e
          const prevLevel = level
          level = alpha * (y - s) + (1 - alpha) * (prevLevel + HW_PHI * trend)
          trend = beta * (level - prevLevel) + (1 - beta) * HW_PHI * trend
          season[i] = gamma * (y - level) + (1 - gamma) * s
        }
        if (sse < best.sse) best = { sse, level, trend, season }
      }
    }
  }
  const out: number[] = []
  let damp = 0
  for (let h = 1; h <= horizon; h++) {
    damp += HW_PHI ** h
    out.push(best.level + damp * best.trend + best.season[(n + h - 1) % SEASON]!)
  }
  return out
}

/**
 * Mean absolute scaled error of `forecast` against `actual`, scaled by the in-sample mean absolute
 * error of seasonal naive on `train` (one week back). 1 means as good as seasonal naive was in
 * sample; lower is better. Null when the scale is 0 (a constant training series).
 */
export function mase(train: number[], actual: number[], forecast: number[]): number | null {
  let scale = 0
  let count = 0
  for (let t = SEASON; t < train.length; t++) {
    scale += Math.abs(train[t]! - train[t - SEASON]!)
    count++
  }
  if (count === 0 || scale === 0) return null
  scale /= count
  const h = Math.min(actual.length, forecast.length)
  if (h === 0) return null
  let err = 0
  for (let i = 0; i < h; i++) err += Math.abs(actual[i]! - forecast[i]!)
  return err / h / scale
}
