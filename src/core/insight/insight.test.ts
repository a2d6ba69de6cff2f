import { describe, expect, it } from 'vitest'
import { binomial, type CustomerOutcome, compareHoldout, compareSplit, MIN_CONVERSIONS, MIN_CUSTOMERS, seededRandom } from './index.ts'

/**
 * The statistics of the statistics: generated stores with a known true effect, seeded so every
 * run sees the same 100 repetitions. Revenue is skewed as a store's is: a buyer places one order
 * (70%) or two (30%), each a lognormal order value (median e^μ, log-sd σ), so a customer's
 * expected revenue is p × 1.3 × e^(μ + σ²/2). Repetitions use 1000 resamples (the default is
 * 2000) to keep the file within seconds on two cores; INSIGHT_FIGURES=1 prints the counts.
 */
const REPETITIONS = 100
const RESAMPLES = 1000
const MU = 4

interface Arm {
  customers: number
  conversion: number
  sigma: number
}

/** A group in the compact form: its customer count and the outcomes of its buyers. */
function generate(random: () => number, arm: Arm): { customers: number; outcomes: CustomerOutcome[] } {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const buyers = binomial(arm.customers, arm.conversion, random)
  const outcomes = Array.from({ length: buyers }, () => {
    const orders = random() < 0.3 ? 2 : 1
    let revenue = 0
    for (let i = 0; i < orders; i++) revenue += Math.round(Math.exp(MU + arm.sigma * normal()) * 100) / 100
    return { converted: true, revenue }
  })
  return { customers: arm.customers, outcomes }
}

const expectedRevenue = (arm: Arm) => arm.conversion * 1.3 * Math.exp(MU + arm.sigma ** 2 / 2)

/** The whole customer list of a compact group, in a shuffled order. */
function expand(group: { customers: number; outcomes: CustomerOutcome[] }, random: () => number): CustomerOutcome[] {
  const all = [...group.outcomes, ...Array.from({ length: group.customers - group.outcomes.length }, () => ({ converted: false, revenue: 0 }))]
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[all[i], all[j]] = [all[j]!, all[i]!]
  }
  return all
}

function figures(label: string, values: Record<string, number>) {
  if (process.env.INSIGHT_FIGURES) console.info(label, values)
}

describe('holdout: the 95% interval covers the true lift', () => {
  it('in at least 90 of 100 generated stores (20% holdout, conversion 6% against 5%, skewed order values)', () => {
    const treatedArm = { customers: 8000, conversion: 0.06, sigma: 1 }
    const controlArm = { customers: 2000, conversion: 0.05, sigma: 1 }
    const trueLift = expectedRevenue(treatedArm) / expectedRevenue(controlArm) - 1
    const trueDifference = expectedRevenue(treatedArm) - expectedRevenue(controlArm)
    let lift = 0
    let difference = 0
    let conversion = 0
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const random = seededRandom(10_000 + rep)
      const report = compareHoldout({ treated: generate(random, treatedArm), control: generate(random, controlArm) }, { resamples: RESAMPLES, seed: rep })
      expect(report.enough_data).toBe(true)
      const [lo, hi] = report.ci95!
      if (lo <= trueLift && trueLift <= hi) lift++
      const d = report.revenue_difference!.ci95
      if (d[0] - 0.005 <= trueDifference && trueDifference <= d[1] + 0.005) difference++
      const c = report.conversion_difference!.ci95
      if (c[0] <= 0.01 && 0.01 <= c[1]) conversion++
    }
    figures('holdout coverage', { lift, difference, conversion })
    expect(lift).toBeGreaterThanOrEqual(90)
    expect(difference).toBeGreaterThanOrEqual(90)
    expect(conversion).toBeGreaterThanOrEqual(90)
  })

  it('and with no true effect the interval excludes 0 in at most 10 of 100', () => {
    const arm = { customers: 4000, conversion: 0.05, sigma: 1 }
    let excluded = 0
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const random = seededRandom(20_000 + rep)
      const report = compareHoldout({ treated: generate(random, arm), control: generate(random, arm) }, { resamples: RESAMPLES, seed: rep })
      const [lo, hi] = report.ci95!
      if (lo > 0 || hi < 0) excluded++
    }
    figures('holdout null: intervals excluding 0', { excluded })
    expect(excluded).toBeLessThanOrEqual(10)
  })
})

describe('split: the interval of the difference', () => {
  it('covers the true difference in at least 90 of 100 generated splits (conversion 12% against 10%, σ 1.2)', () => {
    const a = { customers: 3000, conversion: 0.1, sigma: 1.2 }
    const b = { customers: 3000, conversion: 0.12, sigma: 1.2 }
    let covered = 0
    let liftCovered = 0
    let winners = 0
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const random = seededRandom(30_000 + rep)
      const report = compareSplit(
        [
          { id: 'a', outcomes: generate(random, a) },
          { id: 'b', outcomes: generate(random, b) },
        ],
        { resamples: RESAMPLES, seed: rep },
      )
      expect(report.enough_data).toBe(true)
      const comparison = report.comparisons![0]!
      // the comparison is leader − other: orient the truth the same way
      const [x, y] = comparison.variant === 'b' ? [b, a] : [a, b]
      const truth = expectedRevenue(x) - expectedRevenue(y)
      const [lo, hi] = comparison.revenue_difference.ci95
      if (lo - 0.005 <= truth && truth <= hi + 0.005) covered++
      const trueLift = expectedRevenue(x) / expectedRevenue(y) - 1
      if (comparison.ci95![0] <= trueLift && trueLift <= comparison.ci95![1]) liftCovered++
      if (report.winner !== null) {
        winners++
        expect(report.winner).toBe(comparison.variant)
        expect(lo).toBeGreaterThan(0)
        expect(report.sample_needed_per_variant).toBeNull()
      } else {
        expect(report.sample_needed_per_variant).toBeGreaterThanOrEqual(MIN_CUSTOMERS)
      }
    }
    figures('split coverage', { covered, liftCovered, winners })
    expect(covered).toBeGreaterThanOrEqual(90)
    expect(liftCovered).toBeGreaterThanOrEqual(90)
  })

  it('declares a winner in at most 10 of 100 splits with no true effect', () => {
    const arm = { customers: 3000, conversion: 0.05, sigma: 1 }
    let winners = 0
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const random = seededRandom(40_000 + rep)
      const report = compareSplit(
        [
          { id: 'a', outcomes: generate(random, arm) },
          { id: 'b', outcomes: generate(random, arm) },
        ],
        { resamples: RESAMPLES, seed: rep },
      )
      if (report.winner !== null) winners++
    }
    figures('split null: false winners', { winners })
    expect(winners).toBeLessThanOrEqual(10)
  })

  it('names the winner once the difference is clear, and shows the sample needed while it is not', () => {
    const random = seededRandom(7)
    const clear = compareSplit([
      { id: 'plain', outcomes: generate(random, { customers: 5000, conversion: 0.05, sigma: 1 }) },
      { id: 'discount', outcomes: generate(random, { customers: 5000, conversion: 0.1, sigma: 1 }) },
    ])
    expect(clear.winner).toBe('discount')
    expect(clear.sample_needed_per_variant).toBeNull()
    expect(clear.comparisons![0]!.revenue_difference.ci95[0]).toBeGreaterThan(0)
    expect(clear.method).toEqual({ name: 'studentized_bootstrap', resamples: 2000, seed: expect.any(Number), confidence: 0.95 })

    const close = compareSplit([
      { id: 'plain', outcomes: generate(random, { customers: 1000, conversion: 0.05, sigma: 1 }) },
      { id: 'subject_b', outcomes: generate(random, { customers: 1000, conversion: 0.055, sigma: 1 }) },
    ])
    expect(close.winner).toBeNull()
    expect(close.sample_needed_per_variant).toBeGreaterThan(1000)
  })

  it('with three variants compares the leader with each other at 1 − 0.05/2 (Bonferroni)', () => {
    const random = seededRandom(8)
    const report = compareSplit([
      { id: 'a', outcomes: generate(random, { customers: 4000, conversion: 0.05, sigma: 1 }) },
      { id: 'b', outcomes: generate(random, { customers: 4000, conversion: 0.12, sigma: 1 }) },
      { id: 'c', outcomes: generate(random, { customers: 4000, conversion: 0.05, sigma: 1 }) },
    ])
    expect(report.method.confidence).toBe(0.975)
    expect(report.leader).toBe('b')
    expect(report.comparisons!.map((c) => [c.variant, c.against])).toEqual([
      ['b', 'a'],
      ['b', 'c'],
    ])
    expect(report.winner).toBe('b')
    expect(report.variants.map((v) => v.id)).toEqual(['a', 'b', 'c'])
  })
})

describe('minimum sample', () => {
  const random = seededRandom(9)

  it(`under ${MIN_CUSTOMERS} customers a group: not enough data, and no number for the effect`, () => {
    const report = compareHoldout({
      treated: generate(random, { customers: 5000, conversion: 0.3, sigma: 1 }),
      control: generate(random, { customers: MIN_CUSTOMERS - 1, conversion: 0.5, sigma: 1 }),
    })
    expect(report.enough_data).toBe(false)
    expect(report.lift).toBeNull()
    expect(report.ci95).toBeNull()
    expect(report.revenue_difference).toBeNull()
    expect(report.conversion_difference).toBeNull()
    expect(report.control.customers).toBe(MIN_CUSTOMERS - 1)
    expect(report.treated.conversion).toBeGreaterThan(0.25)
  })

  it(`under ${MIN_CONVERSIONS} conversions a group: not enough data, in a holdout and in a split`, () => {
    const few = { customers: 2000, outcomes: Array.from({ length: MIN_CONVERSIONS - 1 }, () => ({ converted: true, revenue: 60 })) }
    const many = generate(random, { customers: 2000, conversion: 0.2, sigma: 1 })
    const holdout = compareHoldout({ treated: many, control: few })
    expect([holdout.enough_data, holdout.lift, holdout.ci95]).toEqual([false, null, null])
    const split = compareSplit([
      { id: 'a', outcomes: few },
      { id: 'b', outcomes: many },
    ])
    expect([split.enough_data, split.leader, split.comparisons, split.winner]).toEqual([false, null, null, null])
    expect(split.variants[0]).toEqual({ id: 'a', customers: 2000, conversion: 0.0145, revenue_per_customer: 0.87, conversions: 29, revenue: 1740 })
  })

  it(`at ${MIN_CUSTOMERS} customers and ${MIN_CONVERSIONS} conversions each: a number`, () => {
    const group = (revenue: number) => ({
      customers: MIN_CUSTOMERS,
      outcomes: Array.from({ length: MIN_CONVERSIONS }, (_, i) => ({ converted: true, revenue: revenue + i })),
    })
    const report = compareHoldout({ treated: group(60), control: group(40) })
    expect(report.enough_data).toBe(true)
    expect(report.lift).toBeCloseTo((60 + 14.5) / (40 + 14.5) - 1, 6)
    expect(report.ci95![0]).toBeLessThan(report.lift!)
    expect(report.ci95![1]).toBeGreaterThan(report.lift!)
  })
})

/** Every number in a report, however deep. */
function numbers(value: unknown): number[] {
  if (typeof value === 'number') return [value]
  if (Array.isArray(value)) return value.flatMap(numbers)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(numbers)
  return []
}

describe('edge cases: no NaN, no Infinity', () => {
  const finite = (report: object) => expect(numbers(report).every(Number.isFinite), JSON.stringify(report)).toBe(true)

  it('all revenue zero: figures of 0, and no lift (there is no revenue to divide by)', () => {
    const group = { customers: 500, outcomes: Array.from({ length: 60 }, () => ({ converted: true, revenue: 0 })) }
    const holdout = compareHoldout({ treated: group, control: group })
    finite(holdout)
    expect(holdout.treated).toEqual({ customers: 500, conversion: 0.12, revenue_per_customer: 0, conversions: 60, revenue: 0 })
    expect([holdout.enough_data, holdout.lift, holdout.ci95]).toEqual([false, null, null])
    const split = compareSplit([
      { id: 'a', outcomes: group },
      { id: 'b', outcomes: group },
    ])
    finite(split)
    expect(split.winner).toBeNull()
    expect(split.comparisons![0]!.revenue_difference).toEqual({ value: 0, ci95: [0, 0] })
    expect(split.comparisons![0]!.lift).toBeNull()
  })

  it('a group with no conversions', () => {
    const none = { customers: 3000, outcomes: [] }
    const some = generate(seededRandom(11), { customers: 3000, conversion: 0.05, sigma: 1 })
    for (const report of [
      compareHoldout({ treated: none, control: some }),
      compareHoldout({ treated: some, control: none }),
      compareSplit([
        { id: 'a', outcomes: none },
        { id: 'b', outcomes: some },
      ]),
    ]) {
      finite(report)
      expect(report.enough_data).toBe(false)
    }
    expect(compareHoldout({ treated: none, control: some }).treated).toEqual({
      customers: 3000,
      conversion: 0,
      revenue_per_customer: 0,
      conversions: 0,
      revenue: 0,
    })
  })

  it('one customer, and no customer at all', () => {
    const one = [{ converted: true, revenue: 42 }]
    const report = compareHoldout({ treated: one, control: [] })
    finite(report)
    expect(report.treated).toEqual({ customers: 1, conversion: 1, revenue_per_customer: 42, conversions: 1, revenue: 42 })
    expect(report.control).toEqual({ customers: 0, conversion: 0, revenue_per_customer: 0, conversions: 0, revenue: 0 })
    expect([report.enough_data, report.lift, report.ci95, report.sample_needed]).toEqual([false, null, null, null])
    finite(
      compareSplit([
        { id: 'a', outcomes: one },
        { id: 'b', outcomes: one },
      ]),
    )
  })

  it('huge order values: the sums are taken in units of the largest, so nothing overflows (a group total beyond the range of a number reads as the largest number)', () => {
    const random = seededRandom(12)
    const huge = (customers: number, p: number) => ({
      customers,
      outcomes: Array.from({ length: Math.round(customers * p) }, () => ({ converted: true, revenue: 1e306 * (1 + random()) })),
    })
    const holdout = compareHoldout({ treated: huge(1000, 0.2), control: huge(1000, 0.1) })
    finite(holdout)
    expect(holdout.enough_data).toBe(true)
    expect(holdout.lift).toBeGreaterThan(0.5)
    expect(holdout.treated.revenue_per_customer).toBeGreaterThan(1e305)
    expect(holdout.treated.revenue).toBe(Number.MAX_VALUE)
    const split = compareSplit([
      { id: 'a', outcomes: huge(1000, 0.2) },
      { id: 'b', outcomes: huge(1000, 0.2) },
    ])
    finite(split)
  })

  it('refuses what is not an outcome, naming it', () => {
    expect(() => compareHoldout({ treated: [{ converted: true, revenue: -1 }], control: [] })).toThrow(
      'treated.outcomes[0].revenue must be a finite number ≥ 0',
    )
    expect(() => compareHoldout({ treated: [], control: [{ converted: true, revenue: Number.NaN }] })).toThrow('control.outcomes[0].revenue')
    expect(() => compareHoldout({ treated: { customers: 1, outcomes: [] }, control: { customers: 1.5, outcomes: [] } })).toThrow('control.customers')
    expect(() => compareSplit([{ id: 'a', outcomes: [] }])).toThrow('at least 2 variants')
  })
})

describe('determinism', () => {
  it('the same outcomes in any order give the same report; another seed moves the interval only slightly', () => {
    const random = seededRandom(13)
    const treated = generate(random, { customers: 3000, conversion: 0.08, sigma: 1 })
    const control = generate(random, { customers: 1000, conversion: 0.06, sigma: 1 })
    const compact = compareHoldout({ treated, control })
    const listed = compareHoldout({ treated: expand(treated, random), control: expand(control, random) })
    expect(listed).toEqual(compact)
    expect(compareHoldout({ treated, control })).toEqual(compact)
    const other = compareHoldout({ treated, control }, { seed: 99 })
    expect(other.lift).toBe(compact.lift)
    expect(other.ci95).not.toEqual(compact.ci95)
    expect(Math.abs(other.ci95![0] - compact.ci95![0])).toBeLessThan(0.05)
  })

  it('handles a store of 100,000 customers in the compact form', () => {
    const random = seededRandom(14)
    const report = compareHoldout({
      treated: generate(random, { customers: 90_000, conversion: 0.06, sigma: 1 }),
      control: generate(random, { customers: 10_000, conversion: 0.05, sigma: 1 }),
    })
    expect(report.enough_data).toBe(true)
    expect(report.treated.customers + report.control.customers).toBe(100_000)
    expect(report.ci95![0]).toBeLessThan(report.lift!)
  })
})
