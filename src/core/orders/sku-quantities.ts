/** One SKU's units in an order. */
export interface SkuQuantity {
  sku: string
  quantity: number
}

/**
 * The units per SKU an order's line items hold, summed over lines of the same SKU; lines without a
 * SKU or a whole positive quantity count for nothing. Stock (store/order-commerce.ts) and demand
 * (store/demand.repo.ts) both read an order this way, so they always agree on what it moved.
 */
export function skuQuantities(data: Record<string, unknown>): SkuQuantity[] {
  const bySku = new Map<string, number>()
  for (const li of (Array.isArray(data.line_items) ? data.line_items : []) as Array<Record<string, unknown> | null>) {
    const sku = typeof li?.sku === 'string' ? li.sku.trim() : ''
    const quantity = typeof li?.quantity === 'number' ? li.quantity : Number(li?.quantity)
    if (!sku || !Number.isInteger(quantity) || quantity <= 0) continue
    bySku.set(sku, (bySku.get(sku) ?? 0) + quantity)
  }
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }))
}
