import type { SupplierInput } from '../core/purchasing/purchasing.ts'

/**
 * The port `create_purchase_order` uses (ActionServices.purchasing), implemented in
 * store/purchasing.repo.ts. Quantities are whole units; money is an exact decimal string.
 */

/** A stored supplier: the shape `POST /api/v1/suppliers` takes (core/purchasing). */
export type SupplierRecord = SupplierInput

export type PurchaseOrderStatus = 'draft' | 'sent' | 'received'

export interface PurchaseOrderLine {
  sku: string
  /** units ordered */
  quantity: number
  /** price per unit, exact decimal string; null when not known */
  unit_cost: string | null
  /** what the supplier reads on the order (the product's title by default); null when none */
  description: string | null
  /** units received so far (POST …/receive) */
  received: number
}

export interface PurchaseOrderRecord {
  id: string
  /** per store, in sequence: PO-000001, PO-000002, … */
  number: string
  supplier_id: string
  status: PurchaseOrderStatus
  lines: PurchaseOrderLine[]
  created_at: string
  sent_at: string | null
  received_at: string | null
}

/** What a reorder suggestion may start from: the trigger's own figures (an inventory.low event's). */
export interface ReorderHint {
  /** units in stock now; read from the store's view when absent */
  available?: number | null
  /** the SKU's reorder point, units */
  reorder_point?: number | null
}

export interface PurchaseOrderRequest {
  runId: string
  stepKey: string
  workflowId: string
  /** one order per supplier; each is made a draft, and marked sent once its email left */
  orders: Array<{ supplierId: string; lines: Array<Omit<PurchaseOrderLine, 'received'>> }>
}

export interface PurchasingServices {
  /**
   * How many units of `sku` to reorder, or null when nothing tells (no reorder point known). The
   * seam the forecasts plug into: today `max(2 × reorder_point − available, 0)` from the hint
   * (available from the view when the hint has none); the supplier's minimum is applied by the
   * action, per line.
   */
  suggestedQuantity(sku: string, hint: ReorderHint): Promise<number | null>
  /** the supplier of each SKU that has one: the one listing it with the shortest lead time, then the lowest id */
  suppliersFor(skus: string[]): Promise<Map<string, SupplierRecord>>
  /** the product title of each SKU the store's catalogue knows (a variant with that sku) */
  titlesOf(skus: string[]): Promise<Map<string, string>>
  /**
   * Makes the step's orders, numbered per store, in one transaction; on a retried step, answers
   * the ones it made before (`created: false`) and makes nothing.
   */
  createOrders(request: PurchaseOrderRequest): Promise<{ orders: PurchaseOrderRecord[]; created: boolean }>
  /** marks a draft sent (the email to the supplier left); a sent or received order is left as it is */
  markSent(orderId: string, at: string): Promise<void>
}
