import type { Kysely, Selectable, Transaction } from 'kysely'
import type { Database, OrdersTable } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * shipment.updated in the store's view: the order's shipment status and estimated delivery follow
 * the newest update by occurred_at (the view is order-independent: a late redelivery of an older
 * update changes nothing); an update without an ETA keeps the one known. A shipping notice can
 * say when it arrives and a workflow can compare it with the promise.
 */
export async function applyShipment(db: Db, storeId: string, data: Record<string, unknown>, at: string): Promise<void> {
  const eta = typeof data.estimated_delivery_at === 'string' ? data.estimated_delivery_at : null
  await db
    .updateTable('orders')
    .set({ shipment_status: String(data.status), shipment_updated_at: at, ...(eta ? { estimated_delivery_at: eta } : {}) })
    .where('store_id', '=', storeId)
    .where('id', '=', String(data.order_id))
    .where((w) => w.or([w('shipment_updated_at', 'is', null), w('shipment_updated_at', '<=', at)]))
    .execute()
}

/** `order.estimated_delivery_at` and `order.shipment_status` as conditions and templates see them (views.ts orderView). */
export function orderShipmentView(row: Selectable<OrdersTable>, data: Record<string, unknown>): Record<string, unknown> {
  return {
    estimated_delivery_at: row.estimated_delivery_at ?? data.estimated_delivery_at ?? null,
    shipment_status: row.shipment_status ?? null,
  }
}

/** The order a label bought by create_shipping_label in this store carries this tracking number for, or null. */
export async function orderForTracking(db: Db, storeId: string, trackingNumber: string): Promise<{ orderId: string; carrier: string } | null> {
  const row = await db
    .selectFrom('shipping_labels')
    .select(['order_id', 'carrier'])
    .where('store_id', '=', storeId)
    .where('tracking_number', '=', trackingNumber)
    .where('status', '=', 'bought')
    .executeTakeFirst()
  return row?.order_id ? { orderId: row.order_id, carrier: row.carrier } : null
}
