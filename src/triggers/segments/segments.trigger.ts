import { defineTrigger } from '../../plugin-api/define-trigger.ts'

/**
 * The daily segment sweep. Membership changes with events (the router re-evaluates the customer
 * an event is about, engine/segments.ts), but also with time alone: a customer becomes `lapsed`
 * 90 days after their last order, stops being `new` after 30, and everyone's RFM recency moves
 * as others order. Once a day (03:30 in the store's zone) this recomputes the store's RFM and
 * re-evaluates every customer, recording each change as one `segment.entered` or
 * `segment.exited` event through the context's `segments` port, in the tick's transaction.
 *
 * It is declared as the emitter of `segment.exited` (a derived trigger names one type); its
 * events of both types go through the port, so `derive` itself returns none.
 */
export const segmentSweepTrigger = defineTrigger({
  kind: 'derived',
  type: 'segment.exited',
  title: 'Segment sweep',
  description:
    "Once a day (03:30 in the store's time zone): recomputes RFM scores and re-evaluates every customer's segments; each change is a segment.entered or segment.exited event.",
  reactsTo: { schedule: { cron: '30 3 * * *' } },
  async derive({ cause, segments, log }) {
    if (cause.kind !== 'schedule' || !segments) return []
    const changes = await segments.sweep()
    log.info({ changes }, 'segments swept')
    return []
  },
})
