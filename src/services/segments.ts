import { sweepSegments } from '../engine/segments.ts'
import { pageOfList, type PageRequest } from '../store/keyset.ts'
import { createSegment, deleteSegment, listSegments, segmentCustomers, segmentSizes } from '../store/segments.repo.ts'
import type { ServiceContext } from './context.ts'

/**
 * The daily sweep, now: recomputes the store's RFM and re-evaluates every customer, each change
 * one segment event, then routes them. `historical` records the changes as history (after an
 * import: they start no runs). Returns how many changes there were.
 */
export async function sweepStoreSegments(ctx: ServiceContext, storeId: string, historical: boolean): Promise<number> {
  const { engine } = ctx
  const now = ctx.clock.now()
  const changes = await engine.storage.transaction((tx) =>
    sweepSegments(tx, storeId, now, (event) => engine.ingestInTransaction(tx, event, { historical, source: 'derived' })),
  )
  await engine.catchUp(storeId)
  return changes
}

/** Segments: the built-in ones and a store's own, their sizes and members. */
export function createSegmentsService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** `{ id, name, condition, size, built_in }`, built-in ones first; `size` counts the members now. */
    async list(storeId: string, page: PageRequest) {
      const [segments, sizes] = await Promise.all([listSegments(db, storeId), segmentSizes(db, storeId)])
      const items = segments.map((s) => ({ id: s.id, name: s.name, condition: s.condition, size: sizes.get(s.id) ?? 0, built_in: s.built_in }))
      return pageOfList(items, (s) => s.id, page)
    },
    /**
     * Saves a store's own segment and finds its members at once (the sweep of POST
     * /segments/refresh: each member's entry is a segment.entered, as for any later one), so the
     * answer's `size` is the segment's size. A store of many customers pays for that sweep here.
     */
    async create(storeId: string, input: unknown) {
      const segment = await createSegment(db, storeId, input, ctx.clock.now())
      await sweepStoreSegments(ctx, storeId, false)
      const size = (await segmentSizes(db, storeId)).get(segment.id) ?? 0
      return { id: segment.id, name: segment.name, condition: segment.condition, size, built_in: false }
    },
    customers: (storeId: string, id: string, page: PageRequest) => segmentCustomers(db, storeId, id, page),
    remove: (storeId: string, id: string) => deleteSegment(db, storeId, id, ctx.clock.now()),
    /** POST /segments/refresh: the daily sweep now (after an import, a change of inactive_after); its changes start runs like the sweep's */
    refresh: async (storeId: string) => ({ changes: await sweepStoreSegments(ctx, storeId, false) }),
  }
}

export type SegmentsService = ReturnType<typeof createSegmentsService>
