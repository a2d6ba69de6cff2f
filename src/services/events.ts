import type { CanonicalEvent } from '../contracts/events.ts'
import type { IngestOptions, IngestResult } from '../engine/route-event.ts'
import { listEvents, type EventFilter } from '../store/events.repo.ts'
import type { PageRequest } from '../store/keyset.ts'
import type { ServiceContext } from './context.ts'

/** events per ingest call when sending many: big enough to share commits, small enough to keep each one short */
const BATCH = 500

/** Counts what a long ingest has done so far (the CLI draws it as a progress bar). */
export interface IngestProgress {
  add(events: number): void
  finish(): void
}

/** Canonical events in (already parsed and checked against their store at the edge) and out. */
export function createEventService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** Accepts the events (appends them to the log; the router starts their runs); one result per event, in order. */
    ingest: (events: CanonicalEvent[], options: IngestOptions): Promise<IngestResult[]> => ctx.engine.ingest(events, options),

    /** Ingests any number of events, a batch at a time, counting new ones and repeats. */
    async ingestAll(events: CanonicalEvent[], options: IngestOptions, progress?: IngestProgress): Promise<{ accepted: number; duplicates: number }> {
      let accepted = 0
      let duplicates = 0
      for (let i = 0; i < events.length; i += BATCH) {
        const batch = events.slice(i, i + BATCH)
        const results = await ctx.engine.ingest(batch, options)
        for (const r of results) r.duplicate ? duplicates++ : accepted++
        progress?.add(batch.length)
      }
      // a command that sends events routes them before it ends: its profiles and runs are there
      // when it returns, whether or not a worker is running
      await ctx.engine.settle(`send:${process.pid}`)
      progress?.finish()
      return { accepted, duplicates }
    },

    /** The store's events, newest first, as GET /api/v1/events shows them. */
    async list(storeId: string, filter: EventFilter, page: PageRequest) {
      const { items, next_cursor } = await listEvents(db, storeId, filter, page)
      return {
        items: items.map((e) => ({
          id: e.id,
          type: e.type,
          occurred_at: e.occurred_at,
          received_at: e.received_at,
          store: e.store,
          historical: e.historical,
          data: e.data,
        })),
        next_cursor,
      }
    },
  }
}

export type EventService = ReturnType<typeof createEventService>
