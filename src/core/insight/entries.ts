/**
 * A customer's entries into a workflow, as insight's cohort aggregate keeps them (migration
 * 0026, store/workflow-entries.repo.ts): pure, so the same facts always give the same rows.
 *
 * A report over a range [from, to) needs, per customer who entered in it, the group and variant
 * of their entries in the range and the outcome (orders, revenue) within the attribution window
 * after the first of them. Each entry carries what makes that a filter instead of a grouping:
 *
 * - `prev_at`: when the customer's previous entry (same workflow) started; an entry is the
 *   customer's first in [from, to) exactly when it starts in the range and `prev_at` is null or
 *   before `from`.
 * - `break_at`: when the first later entry starts that is in the other group, or takes a second
 *   variant; the entries from this one up to `to` all agree when `break_at` is null or ≥ `to`.
 * - `variant_from` / `run_variant` / `run_split_key`: the first entry from this one on (before
 *   `break_at`) that took a variant, that variant and the split it took it at; the customer's
 *   variant in the range is `run_variant` when `variant_from` < `to`, else none. A variant taken
 *   at another split than the first one seen breaks the run of agreeing entries too.
 * - `orders` / `revenue_micros`: orders not cancelled placed after the entry started and within
 *   the window after it, and their counted amount (total − refunds).
 */

export interface EntryFacts {
  run_id: string
  started_at: string
  /** 1 in the holdout group */
  holdout: number
  /** the variant the run took at the workflow's split; null until (or unless) it took one */
  variant: string | null
  /** the split step (its key) the variant was taken at; null with no variant */
  split_key: string | null
}

export interface EntryChain {
  prev_at: string | null
  break_at: string | null
  variant_from: string | null
  run_variant: string | null
  run_split_key: string | null
}

/** Entries in the order they count: by start, then run id (as the cohort's "first run" is chosen). */
export function byStart(a: { started_at: string; run_id: string }, b: { started_at: string; run_id: string }): number {
  return a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0
}

/** The chain fields of one customer's entries into one workflow, given sorted by byStart. */
export function chainOf(entries: readonly EntryFacts[]): EntryChain[] {
  return entries.map((e, i) => {
    let variant: string | null = null
    let splitKey: string | null = null
    let variantFrom: string | null = null
    let breakAt: string | null = null
    for (let j = i; j < entries.length; j++) {
      const x = entries[j]!
      const otherVariant = x.variant !== null && variant !== null && (x.variant !== variant || x.split_key !== splitKey)
      if (x.holdout !== e.holdout || otherVariant) {
        breakAt = x.started_at
        break
      }
      if (x.variant !== null && variant === null) {
        variant = x.variant
        splitKey = x.split_key
        variantFrom = x.started_at
      }
    }
    return { prev_at: i > 0 ? entries[i - 1]!.started_at : null, break_at: breakAt, variant_from: variantFrom, run_variant: variant, run_split_key: splitKey }
  })
}

export interface OrderFacts {
  created_at: string
  cancelled: number
  /** counted amount (total − refunds), millionths */
  counted_micros: bigint
}

/**
 * The outcome of an entry: orders placed strictly after it started (an order that started the
 * run is not its outcome) and at most `windowMs` after, not cancelled. Times compare as the
 * stored ISO text, the window's end written as toISOString() writes it.
 */
export function outcomeOf(startedAt: string, windowMs: number, orders: readonly OrderFacts[]): { orders: number; revenue_micros: bigint } {
  const end = new Date(Date.parse(startedAt) + Math.round(windowMs)).toISOString()
  let count = 0
  let revenue = 0n
  for (const o of orders) {
    if (o.cancelled !== 0 || !(o.created_at > startedAt) || o.created_at > end) continue
    count++
    revenue += o.counted_micros
  }
  return { orders: count, revenue_micros: revenue }
}
