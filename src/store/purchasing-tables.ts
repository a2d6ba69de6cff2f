/** Tables of suppliers and purchase orders (migration 0016-purchasing). */

export interface SuppliersTable {
  store_id: string
  id: string
  name: string
  email: string
  lead_time_days: number
  min_order_quantity: number
  /** JSON list of SKUs */
  skus: string
  created_at: string
  updated_at: string
}

export interface PurchaseOrdersTable {
  store_id: string
  id: string
  number: string
  supplier_id: string
  /** draft | sent | received */
  status: string
  /** JSON list of { sku, quantity, unit_cost, description, received } */
  lines: string
  created_at: string
  sent_at: string | null
  received_at: string | null
  workflow_id: string | null
  run_id: string | null
  step_key: string | null
}

export interface PurchaseOrderCountersTable {
  store_id: string
  last_number: number
}

export interface PurchaseOrderReceiptsTable {
  store_id: string
  purchase_order_id: string
  id: string
  /** JSON list of { sku, quantity } */
  lines: string
  event_id: string
  created_at: string
}
