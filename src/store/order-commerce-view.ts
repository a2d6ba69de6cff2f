import type { Selectable } from 'kysely'
import type { OrderRisk } from '../core/order-risk.ts'
import type { OrdersTable } from './tables.ts'

const NO_RISK: OrderRisk = { score: 0, level: 'low', reasons: [] }

/** `order.tags`, `order.held`, `order.held_reason` and `order.risk` as conditions see them (views.ts orderView). */
export function orderCommerceView(row: Selectable<OrdersTable>, data: Record<string, unknown>): Record<string, unknown> {
  // the shop's own tags (Shopify: one comma-separated string) and tag_order's, once each
  const shopTags = Array.isArray(data.tags) ? data.tags.map(String) : typeof data.tags === 'string' ? data.tags.split(',') : []
  const tags = [...shopTags.map((t) => t.trim()).filter(Boolean), ...(JSON.parse(row.tags ?? '[]') as string[])]
  return {
    tags: [...new Set(tags)],
    held: row.held === 1,
    held_reason: row.held_reason ?? null,
    risk: row.risk ? (JSON.parse(row.risk) as OrderRisk) : NO_RISK,
  }
}
