/**
 * Insight's statistics, pure: what a workflow earns against its holdout group, and which
 * variant of an A/B split does better (docs/insight.md). No I/O: the caller hands in each
 * group's per-customer outcomes over the measured window.
 *
 * - Figures per group: customers, conversion (share of customers who converted), revenue per
 *   customer (the group's revenue divided by all its customers, buyers or not).
 * - `lift` is the relative lift in revenue per customer, treated / control − 1 (0.12 reads
 *   "+12% revenue per customer"); `revenue_difference` the same in money per customer and
 *   `conversion_difference` the difference of conversion rates (0.01 = one percentage point).
 * - Intervals: symmetric studentized bootstrap (bootstrap-t) of the customers, resampled
 *   within each group (bootstrap.ts), seeded, so the same outcomes always give the same answer;
 *   the lift's interval is taken on the log of the ratio.
 * - Minimum sample: MIN_CUSTOMERS customers and MIN_CONVERSIONS conversions in every group, and
 *   revenue in every group a ratio divides by; under it `enough_data` is false and every
 *   estimate of the effect is null, never a number.
 */
import { normalQuantile } from '../forecast/reorder.ts'
import { type Moments, moments, type ResampleGroup, resampleSums, Sfc32, type Sums, studentizedInterval } from './bootstrap.ts'

export { binomial, seededRandom } from './bootstrap.ts'

/** Customers a group needs before any effect is estimated */
export const MIN_CUSTOMERS = 100
/** Conversions a group needs before any effect is estimated: below it one big order decides the interval */
export const MIN_CONVERSIONS = 30
/** Bootstrap resamples per group, by default */
export const DEFAULT_RESAMPLES = 2000
/** The seed of the resampling generator, by default */
export const DEFAULT_SEED = 20260607
/** Power and two-sided significance of the sample-size calculation */
export const POWER = 0.8
export const ALPHA = 0.05

/** One customer's outcome over the measured window */
export interface CustomerOutcome {
  /** whether the customer converted (placed an order) in the window */
  converted: boolean
  /** revenue of the customer's orders in the window, ≥ 0, in the store's currency */
  revenue: number
}

/**
 * One group's outcomes: either every customer's outcome, or the number of customers and the
 * outcomes of those who converted or brought revenue (the others count as no conversion, no
 * revenue) — the form a database answers cheaply.
 */
export type GroupOutcomes = CustomerOutcome[] | { customers: number; outcomes: CustomerOutcome[] }

export interface GroupFigures {
  customers: number
  /** conversions / customers, 0..1 (0 for an empty group) */
  conversion: number
  /** revenue / customers, in the store's currency */
  revenue_per_customer: number
  /** customers who converted */
  conversions: number
  /** the group's revenue (at most Number.MAX_VALUE) */
  revenue: number
}

export interface Estimate {
  value: number
  /** the 95% interval (or the confidence the report states) */
  ci95: [number, number]
}

export interface Method {
  /** 'studentized_bootstrap': bootstrap-t of the customers, resampled within each group */
  name: 'studentized_bootstrap'
  resamples: number
  seed: number
  /** the level of the intervals: 0.95, or more for splits of three variants or more (Bonferroni) */
  confidence: number
}

/** The holdout comparison, as GET /api/v1/analytics/workflows/:id answers it under `holdout` */
export interface HoldoutReport {
  treated: GroupFigures
  control: GroupFigures
  /** treated / control − 1 of revenue per customer; null without enough data */
  lift: number | null
  /** the interval of `lift`; null without enough data */
  ci95: [number, number] | null
  enough_data: boolean
  /** treated − control revenue per customer, money; null without enough data */
  revenue_difference: Estimate | null
  /** treated − control conversion, 0..1 scale; null without enough data */
  conversion_difference: Estimate | null
  /** customers each group needs to detect the observed revenue difference (80% power, α 0.05); null when the interval already excludes 0 or nothing can be computed */
  sample_needed: number | null
  method: Method
}

export interface VariantFigures extends GroupFigures {
  id: string
}

/** The leader (highest revenue per customer) against one other variant */
export interface Comparison {
  variant: string
  against: string
  /** variant / against − 1 of revenue per customer; null when `against` has no revenue */
  lift: number | null
  ci95: [number, number] | null
  revenue_difference: Estimate
  conversion_difference: Estimate
}

export interface SplitReport {
  variants: VariantFigures[]
  enough_data: boolean
  /** the variant with the highest revenue per customer; null without enough data */
  leader: string | null
  /** the leader against each other variant; null without enough data */
  comparisons: Comparison[] | null
  /** the leader, once every interval of its revenue difference lies above 0; else null */
  winner: string | null
  /** customers each variant needs to tell the leader from the runner-up at the observed difference (80% power); null once there is a winner or nothing can be computed */
  sample_needed_per_variant: number | null
  method: Method
}

export interface InsightOptions {
  /** bootstrap resamples per group; default DEFAULT_RESAMPLES */
  resamples?: number
  /** seed of the resampling generator; default DEFAULT_SEED */
  seed?: number
}

interface Prepared {
  figures: GroupFigures
  group: ResampleGroup
  revenue: Moments
  conversion: Moments
}

function validate(outcome: CustomerOutcome, where: string): void {
  if (typeof outcome.converted !== 'boolean') throw new RangeError(`${where}.converted must be a boolean`)
  if (!(Number.isFinite(outcome.revenue) && outcome.revenue >= 0)) throw new RangeError(`${where}.revenue must be a finite number ≥ 0`)
}

function toList(input: GroupOutcomes, name: string): { customers: number; active: CustomerOutcome[] } {
  const all = Array.isArray(input) ? input : input.outcomes
  const customers = Array.isArray(input) ? input.length : input.customers
  if (!(Number.isInteger(customers) && customers >= 0)) throw new RangeError(`${name}.customers must be a whole number ≥ 0`)
  for (const [i, o] of all.entries()) validate(o, `${name}.outcomes[${i}]`)
  const active = all.filter((o) => o.converted || o.revenue > 0)
  if (active.length > customers) throw new RangeError(`${name}: more outcomes than customers`)
  return { customers, active }
}

/** The largest revenue of any customer: every sum is taken in units of it, so none overflows. */
function scaleOf(groups: Array<{ active: CustomerOutcome[] }>): number {
  let max = 0
  for (const g of groups) for (const o of g.active) if (o.revenue > max) max = o.revenue
  return max > 0 ? max : 1
}

function prepare(list: { customers: number; active: CustomerOutcome[] }, scale: number): Prepared {
  const active = [...list.active].sort((x, y) => x.revenue - y.revenue || Number(x.converted) - Number(y.converted))
  const revenue = Float64Array.from(active, (o) => o.revenue / scale)
  const converted = Uint8Array.from(active, (o) => (o.converted ? 1 : 0))
  const conversions = converted.reduce((s, c) => s + c, 0)
  const revenueMoments = moments(revenue, list.customers)
  const n = list.customers
  return {
    figures: {
      customers: n,
      conversion: n > 0 ? conversions / n : 0,
      revenue_per_customer: revenueMoments.mean * scale,
      conversions,
      // a total beyond the range of a number (orders of 1e306) reads as the largest number
      revenue: Math.min(Number.MAX_VALUE, revenueMoments.mean * n * scale),
    },
    group: { customers: n, revenue, converted },
    revenue: revenueMoments,
    conversion: moments(converted, n),
  }
}

function enough(groups: Prepared[]): boolean {
  return groups.every((g) => g.figures.customers >= MIN_CUSTOMERS && g.figures.conversions >= MIN_CONVERSIONS)
}

function options(o: InsightOptions | undefined, confidence: number): Method {
  const resamples = o?.resamples ?? DEFAULT_RESAMPLES
  if (!(Number.isInteger(resamples) && resamples >= 100)) throw new RangeError('resamples must be a whole number ≥ 100')
  return { name: 'studentized_bootstrap', resamples, seed: (o?.seed ?? DEFAULT_SEED) >>> 0, confidence }
}

/** Rounds for display; the decisions are taken on the unrounded values. */
function round(x: number, places: number): number {
  const f = 10 ** places
  const r = Math.round(x * f) / f
  return Number.isFinite(r) ? r + 0 : x
}
const money = (x: number) => round(x, 2)
const share = (x: number) => round(x, 6)
const interval = (ci: [number, number], places: number): [number, number] => [round(ci[0], places), round(ci[1], places)]

function show(f: GroupFigures): GroupFigures {
  return { ...f, conversion: share(f.conversion), revenue_per_customer: money(f.revenue_per_customer), revenue: money(f.revenue) }
}

interface Pair {
  lift: number | null
  liftCi: [number, number] | null
  revenue: { value: number; ci: [number, number] }
  conversion: { value: number; ci: [number, number] }
}

/** A mean and the variance of that mean, from a count, a sum and a sum of squares. */
function meanAndVariance(n: number, sum: number, squares: number): [number, number] {
  const mean = sum / n
  const variance = n > 1 ? Math.max(0, squares - n * mean * mean) / (n - 1) / n : 0
  return [mean, variance]
}

/**
 * The effects of group x over group y with their studentized bootstrap intervals; money in
 * units of the caller's scale. The lift's interval is taken on log(x / y), where the
 * studentized statistic is closest to symmetric, and turned back (exp − 1).
 */
function comparePair(x: Prepared, y: Prepared, bx: Sums, by: Sums, confidence: number): Pair {
  const B = bx.revenue.length
  const nx = x.figures.customers
  const ny = y.figures.customers
  const [mx, vx] = [x.revenue.mean, x.revenue.m2 / (nx - 1) / nx]
  const [my, vy] = [y.revenue.mean, y.revenue.m2 / (ny - 1) / ny]
  const [px, pvx] = [x.conversion.mean, x.conversion.m2 / (nx - 1) / nx]
  const [py, pvy] = [y.conversion.mean, y.conversion.m2 / (ny - 1) / ny]
  const difference = mx - my
  const convDifference = px - py
  const logRatio = mx > 0 && my > 0 ? Math.log(mx / my) : Number.NaN
  const tDiff = new Float64Array(B)
  const tConv = new Float64Array(B)
  const tLog = new Float64Array(B)
  for (let b = 0; b < B; b++) {
    const [rx, rvx] = meanAndVariance(nx, bx.revenue[b]!, bx.squares[b]!)
    const [ry, rvy] = meanAndVariance(ny, by.revenue[b]!, by.squares[b]!)
    tDiff[b] = (rx - ry - difference) / Math.sqrt(rvx + rvy)
    const cx = bx.conversions[b]! / nx
    const cy = by.conversions[b]! / ny
    tConv[b] = (cx - cy - convDifference) / Math.sqrt((cx * (1 - cx)) / (nx - 1) + (cy * (1 - cy)) / (ny - 1))
    tLog[b] = (Math.log(rx / ry) - logRatio) / Math.sqrt(rvx / (rx * rx) + rvy / (ry * ry))
  }
  const diffCi = studentizedInterval(tDiff, difference, Math.sqrt(vx + vy), confidence) ?? [difference, difference]
  const convCi = studentizedInterval(tConv, convDifference, Math.sqrt(pvx + pvy), confidence) ?? [convDifference, convDifference]
  let lift: number | null = null
  let liftCi: [number, number] | null = null
  if (Number.isFinite(logRatio)) {
    const logCi = studentizedInterval(tLog, logRatio, Math.sqrt(vx / (mx * mx) + vy / (my * my)), confidence)
    if (logCi !== null) {
      lift = Math.expm1(logRatio)
      liftCi = [Math.expm1(logCi[0]), Math.expm1(logCi[1])]
    }
  }
  return { lift, liftCi, revenue: { value: difference, ci: diffCi }, conversion: { value: convDifference, ci: convCi } }
}

/**
 * Customers per group to detect a difference of means `delta` with a two-sided test at level
 * `alpha` and power POWER: (z_{1−α/2} + z_{power})² (s_x² + s_y²) / δ², at least MIN_CUSTOMERS;
 * null when there is no difference or no variance to work with. Scale-free: the moments and δ
 * are in the same units.
 */
function sampleNeeded(x: Moments, y: Moments, delta: number, alpha: number): number | null {
  if (x.n < 2 || y.n < 2 || delta === 0) return null
  const variance = x.m2 / (x.n - 1) + y.m2 / (y.n - 1)
  if (!(variance > 0)) return null
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(POWER)
  const n = Math.ceil((z * z * variance) / (delta * delta))
  return Number.isFinite(n) ? Math.max(MIN_CUSTOMERS, n) : null
}

/**
 * Treated against control: conversion and revenue per customer of each, and — with enough data
 * — the lift of revenue per customer with its 95% studentized bootstrap interval.
 */
export function compareHoldout(input: { treated: GroupOutcomes; control: GroupOutcomes }, opts?: InsightOptions): HoldoutReport {
  const method = options(opts, 1 - ALPHA)
  const lists = [toList(input.treated, 'treated'), toList(input.control, 'control')]
  const scale = scaleOf(lists)
  const [treated, control] = lists.map((l) => prepare(l, scale)) as [Prepared, Prepared]
  const base = { treated: show(treated.figures), control: show(control.figures), method }
  const notEnough = (): HoldoutReport => ({
    ...base,
    lift: null,
    ci95: null,
    enough_data: false,
    revenue_difference: null,
    conversion_difference: null,
    sample_needed: sampleNeeded(treated.revenue, control.revenue, treated.revenue.mean - control.revenue.mean, ALPHA),
  })
  if (!(enough([treated, control]) && control.revenue.mean > 0)) return notEnough()
  const generator = new Sfc32(method.seed)
  const bt = resampleSums(treated.group, method.resamples, generator)
  const bc = resampleSums(control.group, method.resamples, generator)
  const pair = comparePair(treated, control, bt, bc, method.confidence)
  // a ratio with too many resampled controls without revenue has no interval: not enough data either
  if (pair.lift === null || pair.liftCi === null) return notEnough()
  const excludesZero = pair.revenue.ci[0] > 0 || pair.revenue.ci[1] < 0
  return {
    ...base,
    lift: share(pair.lift),
    ci95: interval(pair.liftCi, 6),
    enough_data: true,
    revenue_difference: { value: money(pair.revenue.value * scale), ci95: interval([pair.revenue.ci[0] * scale, pair.revenue.ci[1] * scale], 2) },
    conversion_difference: { value: share(pair.conversion.value), ci95: interval(pair.conversion.ci, 6) },
    sample_needed: excludesZero ? null : sampleNeeded(treated.revenue, control.revenue, treated.revenue.mean - control.revenue.mean, ALPHA),
  }
}

/**
 * Variants of an A/B split: each variant's figures, the leader (highest revenue per customer)
 * against every other variant, and a winner only when every interval of the leader's revenue
 * difference lies above 0. With k > 2 variants the intervals are at 1 − 0.05/(k − 1)
 * (Bonferroni), so the chance of a false winner stays at most 5%.
 */
export function compareSplit(variants: Array<{ id: string; outcomes: GroupOutcomes }>, opts?: InsightOptions): SplitReport {
  if (variants.length < 2) throw new RangeError('a split compares at least 2 variants')
  const ids = new Set(variants.map((v) => v.id))
  if (ids.size !== variants.length) throw new RangeError('variant ids must be distinct')
  const alpha = ALPHA / (variants.length - 1)
  const method = options(opts, 1 - alpha)
  const lists = variants.map((v) => toList(v.outcomes, `variants.${v.id}`))
  const scale = scaleOf(lists)
  const prepared = lists.map((l) => prepare(l, scale))
  const figures = prepared.map((p, i) => ({ id: variants[i]!.id, ...show(p.figures) }))
  // the leader: highest revenue per customer, ties to the first listed
  let leader = 0
  for (let i = 1; i < prepared.length; i++) if (prepared[i]!.revenue.mean > prepared[leader]!.revenue.mean) leader = i
  let runnerUp = leader === 0 ? 1 : 0
  for (let i = 0; i < prepared.length; i++) if (i !== leader && prepared[i]!.revenue.mean > prepared[runnerUp]!.revenue.mean) runnerUp = i
  const lead = prepared[leader]!
  const needed = () => sampleNeeded(lead.revenue, prepared[runnerUp]!.revenue, lead.revenue.mean - prepared[runnerUp]!.revenue.mean, alpha)
  if (!enough(prepared)) {
    return { variants: figures, enough_data: false, leader: null, comparisons: null, winner: null, sample_needed_per_variant: needed(), method }
  }
  const generator = new Sfc32(method.seed)
  const sums = prepared.map((p) => resampleSums(p.group, method.resamples, generator))
  const comparisons: Comparison[] = []
  let allAbove = true
  for (let i = 0; i < prepared.length; i++) {
    if (i === leader) continue
    const pair = comparePair(lead, prepared[i]!, sums[leader]!, sums[i]!, method.confidence)
    if (!(pair.revenue.ci[0] > 0)) allAbove = false
    comparisons.push({
      variant: variants[leader]!.id,
      against: variants[i]!.id,
      lift: pair.lift === null ? null : share(pair.lift),
      ci95: pair.liftCi === null ? null : interval(pair.liftCi, 6),
      revenue_difference: { value: money(pair.revenue.value * scale), ci95: interval([pair.revenue.ci[0] * scale, pair.revenue.ci[1] * scale], 2) },
      conversion_difference: { value: share(pair.conversion.value), ci95: interval(pair.conversion.ci, 6) },
    })
  }
  const winner = allAbove ? variants[leader]!.id : null
  return {
    variants: figures,
    enough_data: true,
    leader: variants[leader]!.id,
    comparisons,
    winner,
    sample_needed_per_variant: winner === null ? needed() : null,
    method,
  }
}
