import { currentStore } from './client.ts'
import { LIVE_INTERVAL_MS } from './hooks.ts'
import { usePagedList } from './paged.ts'

/** A stored event as GET /api/v1/events lists it. */
export interface StoredEvent {
  id: string
  type: string
  occurred_at: string
  received_at: string
  historical: boolean
  data: unknown
}

/** The newest events of the store, filtered by type and customer, asked again every few seconds (live). */
export function useEvents(filter: { type?: string; customer?: string }) {
  return usePagedList<StoredEvent>(['store', currentStore(), 'events', filter], '/api/v1/events', { ...filter }, LIVE_INTERVAL_MS)
}
