import { pageOfList, type PageRequest } from '../store/keyset.ts'
import { createSegment, deleteSegment, listSegments, segmentCustomers, segmentSizes } from '../store/segments.repo.ts'
import type { ServiceContext } from './context.ts'

/** Segments (PRODUCT.md §7): the built-in ones and a store's own, their sizes and members. */
export function createSegmentsService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** `{ id, name, condition, size, built_in }`, built-in ones first; `size` counts the members now. */
    async list(storeId: string, page: PageRequest) {
      const [segments, sizes] = await Promise.all([listSegments(db, storeId), segmentSizes(db, storeId)])
      const items = segments.map((s) => ({ id: s.id, name: s.name, condition: s.condition, size: sizes.get(s.id) ?? 0, built_in: s.built_in }))
      return pageOfList(items, (s) => s.id, page)
    },
    /** Saves a store's own segment; its members are found by the next sweep or event about each customer. */
    async create(storeId: string, input: unknown) {
      const segment = await createSegment(db, storeId, input, ctx.clock.now())
      return { id: segment.id, name: segment.name, condition: segment.condition, size: 0, built_in: false }
    },
    customers: (storeId: string, id: string, page: PageRequest) => segmentCustomers(db, storeId, id, page),
    remove: (storeId: string, id: string) => deleteSegment(db, storeId, id),
  }
}

export type SegmentsService = ReturnType<typeof createSegmentsService>
