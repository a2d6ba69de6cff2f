/**
 * Stock alerts, pure: which of `inventory.low`, `inventory.out_of_stock`, `inventory.back_in_stock`
 * a SKU's new total available causes, given what was seen before.
 *
 * A SKU is `low` while its available is below its reorder point and `out of stock` while it is at
 * or below zero. An event is a change of either flag in one direction: low when it becomes low
 * (not again until it has been back to or above the reorder point), out_of_stock when it becomes
 * out, back_in_stock when it stops being out. The first sighting of a SKU only records its flags:
 * nothing is known of a crossing before it. Without a reorder point, a SKU is never low.
 */

/**
 * The most units of a SKU storeflow holds, either way (a level, a variant's count): stock is an
 * integer column, 32 bits on PostgreSQL, so a change that would pass this is refused up front
 * rather than failing later where the log is applied.
 */
export const MAX_STOCK = 2_000_000_000

export type StockEventType = 'inventory.low' | 'inventory.out_of_stock' | 'inventory.back_in_stock'

export interface StockState {
  /** false before the SKU was first seen */
  known: boolean
  low: boolean
  out: boolean
  lowCount: number
  outCount: number
  backCount: number
}

export interface StockCrossing {
  type: StockEventType
  /** the n-th crossing of this kind for the SKU: part of the event id */
  n: number
}

export function stockCrossings(state: StockState, available: number, reorderPoint: number | null): { next: StockState; crossings: StockCrossing[] } {
  const low = reorderPoint !== null && available < reorderPoint
  const out = available <= 0
  const next: StockState = { ...state, known: true, low, out }
  const crossings: StockCrossing[] = []
  if (!state.known) return { next, crossings }
  if (low && !state.low) crossings.push({ type: 'inventory.low', n: ++next.lowCount })
  if (out && !state.out) crossings.push({ type: 'inventory.out_of_stock', n: ++next.outCount })
  if (!out && state.out) crossings.push({ type: 'inventory.back_in_stock', n: ++next.backCount })
  return { next, crossings }
}

/** The deterministic id of a crossing's event: whoever derives it, it is the same, so the log keeps one. */
export function stockEventId(type: StockEventType, sku: string, n: number): string {
  return `${type}:${sku}:${n}`
}

type Obj = Record<string, unknown>

/** The SKUs whose stock an event may change (orders, products, stock levels); none for other events. */
export function skusOfEvent(type: string, data: Obj): string[] {
  const skus = new Set<string>()
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) skus.add(v.trim())
  }
  if (type === 'inventory.updated') add(data.sku)
  else if (type === 'product.updated') for (const v of (Array.isArray(data.variants) ? data.variants : []) as Obj[]) add(v?.sku)
  else if (type.startsWith('order.') && Array.isArray(data.line_items)) for (const li of data.line_items as Obj[]) add(li?.sku)
  return [...skus]
}

/** A crossing of one SKU, as the store layer answers it: the event to append. */
export interface InventoryChange {
  type: StockEventType
  /** stockEventId(type, sku, n) */
  id: string
  sku: string
  n: number
  available: number
  reorder_point: number | null
  product_id?: string
  title?: string
  /** the product's page in the shop, when the shop gave one */
  url?: string
}

/** The data of a crossing's event: `{ sku, available, reorder_point, product_id?, title?, url? }`. */
export function inventoryEventData(change: InventoryChange): Record<string, unknown> {
  return {
    sku: change.sku,
    available: change.available,
    reorder_point: change.reorder_point,
    ...(change.product_id !== undefined ? { product_id: change.product_id } : {}),
    ...(change.title !== undefined ? { title: change.title } : {}),
    ...(change.url !== undefined ? { url: change.url } : {}),
  }
}
