import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import { segmentEventOf } from '../core/segments.ts'
import type { SegmentChange, StorageTx } from './ports.ts'

/**
 * Segment membership, kept current by the router (store/segments.repo.ts holds the rules).
 *
 * Why here and not in a derived trigger: a derived trigger emits one event type and gets no
 * database, while a membership change is a read, a write and an event of either of two types
 * that must commit together. The router's transaction already has all three, so routeEvent
 * re-evaluates the customer an event is about (after the view took the event) through one
 * StorageTx method and appends the changes' events to the log, where they are routed in their
 * turn like any derived event. Time-based changes (a customer becoming `lapsed`) have no event: a
 * daily derived trigger (src/triggers/segments/) sweeps every customer through the same path.
 *
 * Exactly once: the membership row and the event commit in one transaction, and the event id
 * (`segment.entered:<segment>:<customer key>:<n-th entry>`) is the same whoever derives the same
 * change, so a repeat is refused by the log as a duplicate.
 */

/** The event a membership change is recorded as. */
export function segmentEvent(change: SegmentChange, storeId: string, occurredAt: string): CanonicalEvent {
  const raw = { ...segmentEventOf(change), occurred_at: occurredAt, store: storeId }
  const parsed = parseEvent(raw, { store: storeId, now: new Date(occurredAt) })
  if (!parsed.ok) throw new Error(`segment event is invalid: ${JSON.stringify(parsed.issues)}`)
  return parsed.event
}

/**
 * Re-evaluates the segments of the customer `event` is about, appending one event per change.
 * Segment events themselves change no membership (a condition reading `customer.segments` is
 * brought up to date by the next event or sweep), so a segment cannot feed itself.
 */
export async function updateSegmentsOnEvent(
  tx: StorageTx,
  event: CanonicalEvent & { historical: boolean },
  customerKey: string | null,
  source: string,
  now: Date,
): Promise<void> {
  if (!customerKey || event.type.startsWith('segment.')) return
  const changes = await tx.refreshSegments(event.store, customerKey, now)
  if (changes.length === 0) return
  // history moves membership too, recorded as history: at its time, starting no runs
  const at = event.historical ? event.occurred_at : now.toISOString()
  await tx.appendEvents(
    changes.map((c) => ({
      event: segmentEvent(c, event.store, at),
      receivedAt: now.toISOString(),
      historical: event.historical,
      source,
      customerKey: c.customerKey,
    })),
  )
}

/** The sweep: every customer of the store re-evaluated (RFM recomputed first), each change handed to `ingest`. */
export async function sweepSegments(tx: StorageTx, storeId: string, now: Date, ingest: (event: CanonicalEvent) => Promise<unknown>): Promise<number> {
  const changes = await tx.sweepSegments(storeId, now)
  for (const change of changes) await ingest(segmentEvent(change, storeId, now.toISOString()))
  return changes.length
}
