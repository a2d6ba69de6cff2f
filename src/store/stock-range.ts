import { sql, type RawBuilder } from 'kysely'
import { MAX_STOCK } from '../core/inventory.ts'

/**
 * Stock and demand counts are integer columns (32 bits on PostgreSQL). The events contract keeps
 * each count within ±MAX_STOCK, but counts add up (two locations, a day's orders): a sum past the
 * column would fail the router's transaction and the event would be passed over, its runs never
 * started. Sums are held at ±MAX_STOCK instead, as absurd as the stock they stand for.
 */
export function clampStock(n: number): number {
  return Math.max(-MAX_STOCK, Math.min(MAX_STOCK, n))
}

/**
 * `column + delta` held within ±MAX_STOCK, added as a bigint so the sum itself cannot overflow.
 * `delta` is a number, or an expression (`excluded.quantity` in a multi-row upsert).
 */
export function addWithinStock(column: string, delta: number | RawBuilder<number>): RawBuilder<number> {
  const sum = sql`(cast(${sql.ref(column)} as bigint) + ${delta})`
  return sql<number>`case when ${sum} > ${sql.lit(MAX_STOCK)} then ${sql.lit(MAX_STOCK)} when ${sum} < ${sql.lit(-MAX_STOCK)} then ${sql.lit(-MAX_STOCK)} else ${sum} end`
}
