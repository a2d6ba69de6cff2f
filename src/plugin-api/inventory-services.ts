/** The port adjust_inventory uses (ActionServices.inventory), implemented in store/inventory.repo.ts. */

export interface InventoryAdjustment {
  /** the step's idempotency key: one adjustment per step, however often it is tried */
  idempotencyKey: string
  sku: string
  /** units to add (negative to take off); give this or `set` */
  delta?: number
  /** the level to set; give this or `delta` */
  set?: number
  /** the location; default: `default` if the SKU has it, else its first location */
  locationId?: string
  reason?: string | null
}

export interface InventoryAdjusted {
  sku: string
  location_id: string
  /** what the level moved by */
  delta: number
  /** the location's level after */
  available: number
  /** the SKU's total available after */
  total: number
  /** false when the step had adjusted already (a retry) */
  adjusted: boolean
}

export interface InventoryServices {
  /**
   * Moves a level once per step and brings the SKU's variants to the sum of its levels; a crossing
   * of the reorder point or of zero is emitted as inventory.low / out_of_stock / back_in_stock in
   * the same transaction.
   */
  adjust(request: InventoryAdjustment): Promise<InventoryAdjusted>
}
