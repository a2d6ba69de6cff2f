import { createStore, listStores, neverSeeded, storeExists, type StoreSummary } from '../store/stores.repo.ts'
import type { ServiceContext } from './context.ts'

export type { StoreSummary } from '../store/stores.repo.ts'

/** Several shops in one installation; `default` always exists. */
export function createStoresService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    create(input: { id: string; name?: string; currency?: string; timezone?: string }): Promise<StoreSummary> {
      return createStore(db, input, ctx.clock.now())
    },

    list(): Promise<StoreSummary[]> {
      return listStores(db)
    },

    exists(id: string): Promise<boolean> {
      return storeExists(db, id)
    },

    /** No workflows and no events in any store: a first start, or an empty database. */
    neverSeeded(): Promise<boolean> {
      return neverSeeded(db)
    },
  }
}

export type StoresService = ReturnType<typeof createStoresService>
