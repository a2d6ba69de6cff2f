import type { Kysely, Transaction } from 'kysely'
import type { Recommendation } from '../plugin-api/recommendation-services.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * "Bought together" recommendations, computed from the `orders` table (no table of their own).
 *
 * Bounded work:
 * - the customer's most recent CUSTOMER_ORDERS orders (not cancelled) say what they bought;
 * - the store's most recent SCAN_ORDERS orders (not cancelled, not the customer's own) are the
 *   candidates' evidence; SKUs of the store's other orders are never looked at.
 *
 * Scores (best first; ties by SKU):
 * - co-purchase: `0.5 + 0.5 * together / basis`, where `together` counts the scanned orders holding
 *   the candidate and at least one of the customer's SKUs, and `basis` counts the scanned orders
 *   holding any of the customer's SKUs. In (0.5, 1].
 * - popularity fallback, used when co-purchase gives fewer than `limit`: `0.5 * orders / recent`,
 *   where `orders` counts the scanned orders of the last POPULAR_DAYS days holding the SKU and
 *   `recent` all scanned orders of those days. In (0, 0.5], so below any co-purchase.
 * Left out: SKUs the customer bought, and SKUs out of stock: the sum of their inventory levels is
 * <= 0, or (without levels) their variants' known `inventory_quantity` sums to <= 0. Titles and
 * product ids come from the variants and products tables, else from the newest line item.
 */
export const CUSTOMER_ORDERS = 20
export const SCAN_ORDERS = 2000
export const POPULAR_DAYS = 90
/** candidates ranked before the stock check, per kind: the check's IN lists stay small */
const CANDIDATES = 200

interface Line {
  sku: string
  product_id: string | null
  title: string | null
}

function linesOf(data: string): Line[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(data)
  } catch {
    return []
  }
  const items = (parsed as { line_items?: unknown })?.line_items
  if (!Array.isArray(items)) return []
  const lines: Line[] = []
  for (const item of items as Array<Record<string, unknown>>) {
    if (!item || typeof item !== 'object') continue
    const sku = typeof item.sku === 'string' ? item.sku.trim() : typeof item.sku === 'number' ? String(item.sku) : ''
    if (!sku) continue
    lines.push({
      sku,
      product_id: item.product_id != null && item.product_id !== '' ? String(item.product_id) : null,
      title: typeof item.title === 'string' && item.title !== '' ? item.title : null,
    })
  }
  return lines
}

const ranked = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))

export async function recommendationsFor(db: Db, storeId: string, customerKey: string, limit: number, now: Date): Promise<Recommendation[]> {
  const own = await db
    .selectFrom('orders')
    .select('data')
    .where('store_id', '=', storeId)
    .where('customer_key', '=', customerKey)
    .where('cancelled', '=', 0)
    .orderBy('created_at', 'desc')
    .limit(CUSTOMER_ORDERS)
    .execute()
  const bought = new Set(own.flatMap((o) => linesOf(o.data).map((l) => l.sku)))

  const scanned = await db
    .selectFrom('orders')
    .select(['data', 'created_at'])
    .where('store_id', '=', storeId)
    .where('cancelled', '=', 0)
    .where((eb) => eb.or([eb('customer_key', 'is', null), eb('customer_key', '!=', customerKey)]))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(SCAN_ORDERS)
    .execute()

  const since = new Date(now.getTime() - POPULAR_DAYS * 86_400_000).toISOString()
  const together = new Map<string, number>()
  const popular = new Map<string, number>()
  const seen = new Map<string, Line>()
  let basis = 0
  let recent = 0
  for (const order of scanned) {
    const lines = linesOf(order.data)
    const skus = new Set(lines.map((l) => l.sku))
    // the newest line item's title and product id, each from the newest line that has one
    for (const l of lines) {
      const known = seen.get(l.sku)
      if (!known) seen.set(l.sku, { ...l })
      else {
        known.title ??= l.title
        known.product_id ??= l.product_id
      }
    }
    // a created_at the shop wrote oddly is compared as it is, never thrown on
    const created = new Date(order.created_at)
    const isRecent = (Number.isNaN(created.getTime()) ? order.created_at : created.toISOString()) >= since
    if (isRecent) recent++
    const withOwn = [...skus].some((s) => bought.has(s))
    if (withOwn) basis++
    for (const sku of skus) {
      if (bought.has(sku)) continue
      if (withOwn) together.set(sku, (together.get(sku) ?? 0) + 1)
      if (isRecent) popular.set(sku, (popular.get(sku) ?? 0) + 1)
    }
  }

  const co = ranked(together).slice(0, CANDIDATES)
  const pop = ranked(popular).slice(0, CANDIDATES)
  const candidates = [...new Set([...co.map(([s]) => s), ...pop.map(([s]) => s)])]
  if (candidates.length === 0) return []
  const out = await outOfStock(db, storeId, candidates)
  const catalog = await catalogOf(db, storeId, candidates)

  const result: Recommendation[] = []
  const taken = new Set<string>()
  const take = (sku: string, score: number) => {
    if (result.length >= limit || taken.has(sku) || out.has(sku)) return
    taken.add(sku)
    const known = catalog.get(sku)
    const line = seen.get(sku)
    result.push({
      sku,
      product_id: known?.product_id ?? line?.product_id ?? null,
      title: known?.title ?? line?.title ?? sku,
      score: Math.round(score * 10_000) / 10_000,
    })
  }
  for (const [sku, n] of co) take(sku, 0.5 + (0.5 * n) / basis)
  for (const [sku, n] of pop) take(sku, (0.5 * n) / recent)
  return result
}

async function outOfStock(db: Db, storeId: string, skus: string[]): Promise<Set<string>> {
  const out = new Set<string>()
  const levels = await db.selectFrom('inventory_levels').select(['sku', 'available']).where('store_id', '=', storeId).where('sku', 'in', skus).execute()
  const byLevel = new Map<string, number>()
  for (const l of levels) byLevel.set(l.sku, (byLevel.get(l.sku) ?? 0) + Number(l.available))
  for (const [sku, total] of byLevel) if (total <= 0) out.add(sku)
  const variants = await db
    .selectFrom('variants')
    .select(['sku', 'inventory_quantity'])
    .where('store_id', '=', storeId)
    .where('sku', 'in', skus)
    .where('inventory_quantity', 'is not', null)
    .execute()
  const byVariant = new Map<string, number>()
  for (const v of variants) if (v.sku) byVariant.set(v.sku, (byVariant.get(v.sku) ?? 0) + Number(v.inventory_quantity))
  // inventory levels, where the store keeps them, are the truth; the shop's variant count otherwise
  for (const [sku, total] of byVariant) if (!byLevel.has(sku) && total <= 0) out.add(sku)
  return out
}

async function catalogOf(db: Db, storeId: string, skus: string[]): Promise<Map<string, { product_id: string; title: string }>> {
  const rows = await db
    .selectFrom('variants')
    .innerJoin('products', (join) => join.onRef('products.store_id', '=', 'variants.store_id').onRef('products.id', '=', 'variants.product_id'))
    .select(['variants.sku', 'variants.product_id', 'products.title'])
    .where('variants.store_id', '=', storeId)
    .where('variants.sku', 'in', skus)
    .orderBy('variants.id')
    .execute()
  const map = new Map<string, { product_id: string; title: string }>()
  for (const r of rows) if (r.sku && !map.has(r.sku) && r.title) map.set(r.sku, { product_id: r.product_id, title: r.title })
  return map
}
