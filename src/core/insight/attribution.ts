/**
 * Which message an order is credited to, pure (docs/insight.md). Last touch: the most recent
 * message the customer clicked within the store's `attribution_window` before the order; opens
 * count too only when the store says so (`attribution_opens`), since mail privacy features load
 * every image and so fake opens. The window is closed at the order and open at its far end: a
 * touch at the very moment of the order counts, one exactly a window before does not. On a tie
 * in time a click beats an open (a tracked click also reports an open at the same moment), then
 * the lower message id wins, so the answer never depends on the order the touches are listed in.
 */

export type Touch = 'click' | 'open'

export interface TouchCandidate {
  messageId: string
  touch: Touch
  /** when the customer opened or clicked, ISO 8601 */
  at: string
}

export interface AttributionRule {
  /** the attribution window in ms */
  windowMs: number
  /** whether opens count (clicks always do) */
  opens: boolean
}

/** The touch the order at `orderedAt` is credited to, or null when none is in the window. */
export function creditedTouch<T extends TouchCandidate>(orderedAt: string, rule: AttributionRule, candidates: readonly T[]): T | null {
  const order = Date.parse(orderedAt)
  if (Number.isNaN(order)) return null
  let best: T | null = null
  let bestAt = 0
  for (const candidate of candidates) {
    if (candidate.touch === 'open' && !rule.opens) continue
    const at = Date.parse(candidate.at)
    if (Number.isNaN(at) || at > order || at <= order - rule.windowMs) continue
    if (best === null || at > bestAt || (at === bestAt && beatsOnTie(candidate, best))) {
      best = candidate
      bestAt = at
    }
  }
  return best
}

function beatsOnTie(a: TouchCandidate, b: TouchCandidate): boolean {
  if (a.touch !== b.touch) return a.touch === 'click'
  return a.messageId < b.messageId
}

/**
 * What refunds took back of an attributed order, in millionths: all of it once cancelled, else
 * what was refunded, never more than the order's amount nor less than nothing.
 */
export function takenBackMicros(amountMicros: bigint, refundedMicros: bigint, cancelled: boolean): bigint {
  if (cancelled) return amountMicros
  if (refundedMicros <= 0n) return 0n
  return refundedMicros > amountMicros ? amountMicros : refundedMicros
}
