import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import { inventoryEventData, skusOfEvent, type InventoryChange } from '../core/inventory.ts'
import type { StorageTx } from './ports.ts'

/**
 * Stock alerts, kept by the router like segment membership (engine/segments.ts says why not a
 * derived trigger: a read, a write and events of three types that must commit together). After
 * the view took an event that may move a SKU's stock (an order, a product, a stock level),
 * routeEvent asks the store to compare each of its SKUs' total available with what was seen
 * before (store/inventory.repo.ts, rules in core/inventory.ts) and appends one event per crossing,
 * routed in its turn. adjust_inventory does the same through its service.
 *
 * Exactly once: the SKU's state row and the event commit together, and the event id
 * (`inventory.low:<sku>:<n-th crossing>`) is the same whoever derives it, so a re-route or a
 * second router refused by the lease cannot store one twice. History moves the state too, and its
 * events are history (at their time, starting no runs).
 */

export function inventoryEvent(change: InventoryChange, storeId: string, occurredAt: string): CanonicalEvent {
  const parsed = parseEvent(
    { id: change.id, type: change.type, store: storeId, occurred_at: occurredAt, data: inventoryEventData(change) },
    { store: storeId, now: new Date(occurredAt) },
  )
  if (!parsed.ok) throw new Error(`inventory event is invalid: ${JSON.stringify(parsed.issues)}`)
  return parsed.event
}

export async function updateInventoryOnEvent(tx: StorageTx, event: CanonicalEvent & { historical: boolean }, source: string, now: Date): Promise<void> {
  const skus = skusOfEvent(event.type, event.data)
  if (skus.length === 0) return
  const changes = await tx.refreshInventory(event.store, skus, now, event.historical)
  if (changes.length === 0) return
  const at = event.historical ? event.occurred_at : now.toISOString()
  await tx.appendEvents(
    changes.map((c) => ({ event: inventoryEvent(c, event.store, at), receivedAt: now.toISOString(), historical: event.historical, source })),
  )
}
