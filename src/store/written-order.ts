import type { Selectable } from 'kysely'
import type { OrdersTable } from './tables.ts'

/**
 * An order as the projection just wrote it (projection.ts upsertOrder), handed to what runs after
 * it in the same transaction (risk and stock, demand, attribution) so that none of them reads the
 * row back and parses its JSON again: four reads of the same row per order event before.
 * `snapshot` is `data` already parsed.
 */
export type WrittenOrder = Pick<
  Selectable<OrdersTable>,
  'customer_key' | 'created_at' | 'data' | 'cancelled' | 'risk' | 'stock_state' | 'stock_lines' | 'currency' | 'total_price' | 'refunded'
> & {
  snapshot: Record<string, unknown>
  /** no other order of the customer was created before this one (set when the customer's orders were read) */
  firstOrder?: boolean
}
