import { orderShipmentView } from './shipments.repo.ts'
import type { Selectable } from 'kysely'
import { moneyToNumber } from '../lib/money.ts'
import { engagementView } from './engagement.ts'
import { orderCommerceView } from './order-commerce-view.ts'
import type { CartsTable, CustomersTable, OrdersTable } from './tables.ts'

/** The customer as conditions, templates and GET /api/v1/customers/:id see it. */
export function customerView(row: Selectable<CustomersTable>): Record<string, unknown> {
  return {
    ...(JSON.parse(row.attributes) as Record<string, unknown>),
    id: row.external_id,
    key: row.key,
    email: row.email,
    phone: row.phone,
    first_name: row.first_name,
    last_name: row.last_name,
    accepts_marketing: row.accepts_marketing === 1 && !row.unsubscribed_at,
    unsubscribed_at: row.unsubscribed_at,
    birthday: row.birthday,
    timezone: row.timezone,
    tags: JSON.parse(row.tags) as string[],
    orders_count: row.orders_count,
    total_spent: moneyToNumber(row.total_spent),
    last_order_at: row.last_order_at,
    loyalty_points: row.loyalty_points,
    ...engagementView(row),
    // kept with the membership and the RFM recompute (store/segments.repo.ts)
    segments: JSON.parse(row.segments ?? '[]') as string[],
    rfm: row.rfm ? (JSON.parse(row.rfm) as unknown) : null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}

export function orderView(row: Selectable<OrdersTable>): Record<string, unknown> {
  const data = JSON.parse(row.data) as Record<string, unknown>
  return {
    ...data,
    id: row.id,
    number: row.number,
    currency: row.currency,
    total_price: moneyToNumber(row.total_price),
    subtotal_price: data.subtotal_price == null ? null : moneyToNumber(data.subtotal_price as string),
    total_discounts: data.total_discounts == null ? null : moneyToNumber(data.total_discounts as string),
    shipping_price: data.shipping_price == null ? null : moneyToNumber(data.shipping_price as string),
    line_items: ((data.line_items ?? []) as Array<Record<string, unknown>>).map((li) => ({ ...li, price: moneyToNumber(li.price as string) })),
    refunded: moneyToNumber(row.refunded),
    cancelled: row.cancelled === 1,
    financial_status: row.financial_status,
    fulfillment_status: row.fulfillment_status,
    checkout_id: row.checkout_id,
    ...orderCommerceView(row, data),
    ...orderShipmentView(row, data),
    created_at: row.created_at,
  }
}

export function cartView(row: Selectable<CartsTable>): Record<string, unknown> {
  const data = JSON.parse(row.data) as Record<string, unknown>
  return {
    ...data,
    id: row.id,
    currency: row.currency,
    total_price: moneyToNumber(row.total_price),
    line_items: ((data.line_items ?? []) as Array<Record<string, unknown>>).map((li) => ({ ...li, price: moneyToNumber(li.price as string) })),
    converted: row.converted === 1,
    updated_at: row.updated_at,
  }
}
