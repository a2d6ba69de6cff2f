import { useQuery } from '@tanstack/react-query'
import { api, currentStore, query } from './client.ts'
import { LIVE_INTERVAL_MS } from './hooks.ts'
import type { Page } from './types.ts'

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
  return useQuery({
    queryKey: ['store', currentStore(), 'events', filter],
    queryFn: () => api<Page<StoredEvent>>(`/api/v1/events${query({ ...filter, limit: 100 })}`),
    refetchInterval: LIVE_INTERVAL_MS,
  })
}
