/**
 * The bootstrap behind insight's intervals, pure and seeded (docs/insight.md).
 *
 * A group's customers are resampled with replacement, B times. Most customers of a store buy
 * nothing in a window, and all of them look alike (no conversion, no revenue), so a resample of
 * n customers is drawn in two exact steps instead of n draws: how many of the n fall among the
 * `a` active customers (converted or with revenue) is Binomial(n, a/n), drawn by geometric
 * skips in O(min(a, n − a)); which active customers they are is that many uniform draws among
 * the `a`. This is the ordinary (multinomial) bootstrap, only faster: a resample costs about as
 * much as the group has buyers, not customers.
 *
 * Intervals are BCa (bias-corrected and accelerated, Efron 1987), which corrects the percentile
 * interval for the skew of revenue; the acceleration comes from the statistic's empirical
 * influence values, in closed form for the means used here (Davison & Hinkley 1997, §3.2 and
 * §5.3).
 */
import { normalQuantile } from '../forecast/reorder.ts'

/** A seeded generator of uniform numbers in [0, 1): sfc32, seeded through splitmix32. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  // 32-bit integer arithmetic throughout (| 0): V8 keeps the state in registers
  let a = splitmix() | 0
  let b = splitmix() | 0
  let c = splitmix() | 0
  let d = splitmix() | 0
  const next = () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 12; i++) next()
  return next
}

/** The standard normal distribution function (Abramowitz & Stegun 7.1.26 refined by erfc of Numerical Recipes, |error| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2
  const t = 1 / (1 + 0.5 * z)
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? 1 - erfc / 2 : erfc / 2
}

/** Binomial(n, p) by geometric skips: O(min(np, n(1 − p))) draws, exact. */
export function binomial(n: number, p: number, random: () => number): number {
  if (n <= 0 || p <= 0) return 0
  if (p >= 1) return n
  if (p > 0.5) return n - binomial(n, 1 - p, random)
  const logq = Math.log1p(-p)
  let count = 0
  let position = 0
  for (;;) {
    // failures before the next success; 1 − u lies in (0, 1], so the logarithm is finite
    position += Math.floor(Math.log(1 - random()) / logq) + 1
    if (position > n) return count
    count++
  }
}

/**
 * One group prepared for resampling: its active customers (converted or with revenue) in a
 * canonical order, so the answer depends on the customers' outcomes and not on the order they
 * were listed in; revenue is already divided by the caller's scale.
 */
export interface ResampleGroup {
  customers: number
  revenue: Float64Array
  converted: Uint8Array
}

/** B resampled (conversions, revenue) sums of one group, drawn from `random`. */
export function resampleSums(group: ResampleGroup, resamples: number, random: () => number): { conversions: Float64Array; revenue: Float64Array } {
  const conversions = new Float64Array(resamples)
  const revenue = new Float64Array(resamples)
  const active = group.revenue.length
  const p = group.customers > 0 ? active / group.customers : 0
  for (let b = 0; b < resamples; b++) {
    const k = binomial(group.customers, p, random)
    let c = 0
    let r = 0
    for (let i = 0; i < k; i++) {
      const j = Math.floor(random() * active)
      c += group.converted[j]!
      r += group.revenue[j]!
    }
    conversions[b] = c
    revenue[b] = r
  }
  return { conversions, revenue }
}

/** Sums of the first three central powers of a group's per-customer values (inactive customers count as 0). */
export interface Moments {
  n: number
  mean: number
  /** Σ (x − mean)² */
  m2: number
  /** Σ (x − mean)³ */
  m3: number
}

export function moments(values: ArrayLike<number>, customers: number): Moments {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]!
  const mean = customers > 0 ? sum / customers : 0
  const zeros = customers - values.length
  let m2 = zeros * mean * mean
  let m3 = -zeros * mean * mean * mean
  for (let i = 0; i < values.length; i++) {
    const d = values[i]! - mean
    m2 += d * d
    m3 += d * d * d
  }
  return { n: customers, mean, m2, m3 }
}

/**
 * The BCa acceleration of a statistic of independent groups whose empirical influence values
 * are `factor_g × (x − mean_g)` within group g: a = Σ n⁻³ Σ l³ / (6 (Σ n⁻² Σ l²)^{3/2}).
 */
export function acceleration(parts: Array<{ moments: Moments; factor: number }>): number {
  let num = 0
  let den = 0
  for (const { moments: m, factor } of parts) {
    if (m.n === 0) continue
    num += (factor ** 3 * m.m3) / m.n ** 3
    den += (factor ** 2 * m.m2) / m.n ** 2
  }
  if (!(den > 0)) return 0
  const a = num / (6 * den ** 1.5)
  return Number.isFinite(a) ? a : 0
}

/** The q-quantile of sorted values, interpolated between order statistics (type 7). */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * Math.min(1, Math.max(0, q))
  const lo = Math.floor(h)
  const hi = Math.min(sorted.length - 1, lo + 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

/**
 * The BCa interval of level `confidence` from the bootstrap replicates of a statistic, its
 * value on the data and its acceleration. Replicates that are not finite are dropped (a ratio
 * whose resampled denominator was 0); when fewer than half remain there is no interval.
 */
export function bcaInterval(replicates: Float64Array, estimate: number, accel: number, confidence: number): [number, number] | null {
  const finite = replicates.filter((x) => Number.isFinite(x))
  if (finite.length < replicates.length / 2 || finite.length === 0) return null
  finite.sort()
  const B = finite.length
  let below = 0
  let equal = 0
  for (let i = 0; i < B; i++) {
    if (finite[i]! < estimate) below++
    else if (finite[i] === estimate) equal++
  }
  // the share below the estimate, kept off 0 and 1 so the bias correction stays finite
  const share = Math.min(B / (B + 1), Math.max(1 / (B + 1), (below + equal / 2) / B))
  const z0 = normalQuantile(share)
  const alpha = (1 - confidence) / 2
  const adjusted = (z: number) => {
    const w = z0 + z
    const denominator = 1 - accel * w
    // a runaway acceleration falls back to the bias-corrected percentile
    return normalCdf(denominator > 0 ? z0 + w / denominator : z0 + w)
  }
  const lo = quantile(finite, adjusted(normalQuantile(alpha)))
  const hi = quantile(finite, adjusted(normalQuantile(1 - alpha)))
  return [Math.min(lo, hi), Math.max(lo, hi)]
}
