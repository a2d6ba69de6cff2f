/**
 * A customer entering or leaving a segment (store/segments.repo.ts decides; the engine records it
 * as one event): pure, so the router, the sweep and the tag actions name it the same way.
 */
export interface SegmentChange {
  kind: 'entered' | 'exited'
  segment: { id: string; name: string }
  customerKey: string
  /** how the event's `data.customer` names the customer: `{ id, key }` (the shop's id, storeflow's key) */
  customer: Record<string, unknown>
  /** which entry of this customer into this segment (1 for the first): the event id's last part */
  entry: number
}

/**
 * The event a change is recorded as. Its id is the change's idempotency key: whoever derives the
 * same change (the router, the sweep, a second worker with a stale read) gives the same id, so
 * the log stores it once.
 */
export function segmentEventOf(change: SegmentChange): { id: string; type: 'segment.entered' | 'segment.exited'; data: Record<string, unknown> } {
  const type = change.kind === 'entered' ? 'segment.entered' : 'segment.exited'
  return {
    id: `${type}:${change.segment.id}:${change.customerKey}:${change.entry}`,
    type,
    data: { segment: change.segment, customer: change.customer },
  }
}
