/**
 * Forecasts on a real store's history (UCI Online Retail, CC BY 4.0; the data set is never
 * committed: its folder is an option). `node bin/run-ts.mjs bench/forecast.ts [--retail PATH]
 * [--limit N]`, or `npm run bench -- --only forecast [--retail PATH]`.
 *
 * 1. converts each order of `orders.ndjson.gz` to a canonical `order.paid` (fee and postage lines
 *    dropped, a guest order without a customer) and imports them as history through the path
 *    `storeflow events send --history` takes (services.events.ingestAll), timed (events/s);
 *    the cancellation invoices are not linked to their orders in the source, so they are left out;
 * 2. forecasts every SKU from the daily demand table the import kept (seconds);
 * 3. holds out the last 28 days: for the 50 SKUs that sold most units before them, forecasts
 *    28 days with each method from the history before, and reports MASE (scaled by in-sample
 *    seasonal naive) per method, the per-SKU chosen method beside seasonal naive; the chosen
 *    method must beat seasonal naive on the median SKU.
 *
 * Writes bench/results/forecast.json. Not a test: nothing here asserts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { parseEvent, type CanonicalEvent } from '../src/contracts/events.ts'
import { addDays, chooseMethod, dailySeries, forecastWith, mase, type ForecastMethod } from '../src/core/forecast/index.ts'
import { ManualClock } from '../src/lib/clock.ts'
import { demandRows } from '../src/store/demand.repo.ts'
import { forecastAll } from '../src/store/forecasts.repo.ts'
import { createBenchEnv, round } from './lib/env.ts'

export const DEFAULT_RETAIL_PATH = '../shared/data/online-retail/'
const HOLDOUT_DAYS = 28
const TOP_SKUS = 50
const METHODS: ForecastMethod[] = ['tsb', 'holt_winters', 'ses', 'seasonal_naive']

interface RetailOrder {
  order_id: string
  customer_id: string | null
  currency: string
  occurred_at: string
  lines: Array<{ sku: string; title: string; quantity: number; unit_price: number; non_product?: boolean }>
}

export interface ForecastBenchResult {
  skipped?: string
  orders: number
  import_seconds: number
  import_events_per_s: number
  skus: number
  forecast_all_seconds: number
  holdout: { as_of: string; days: number; skus: number }
  /** median MASE over the top SKUs, per method; `chosen` is each SKU's own method */
  median_mase: Record<string, number | null>
  /** SKUs on which the chosen method's MASE is below seasonal naive's */
  chosen_beats_naive_on: number
  chosen_methods: Record<string, number>
  per_sku: Array<{ sku: string; units: number; method: ForecastMethod; mase: Record<string, number | null> }>
  /**
   * RFM and segment membership over the real customers: the first refresh scores every customer
   * and records each entry (segment.entered, routed), the second finds nothing changed. The
   * ceiling is the least any RFM needs: reading every customer's last order, order count and
   * spend once and ranking them in memory.
   */
  rfm: { customers: number; first_refresh_seconds: number; entries: number; second_refresh_seconds: number; ceiling_read_and_rank_seconds: number }
}

function toEvent(o: RetailOrder): CanonicalEvent | null {
  const lines = o.lines.filter((l) => !l.non_product && l.quantity > 0)
  if (lines.length === 0) return null
  // pence, to keep the total exact
  const pence = lines.reduce((n, l) => n + Math.round(l.unit_price * 100) * l.quantity, 0)
  const raw = {
    id: `retail:${o.order_id}`,
    type: 'order.paid',
    store: 'default',
    occurred_at: o.occurred_at,
    data: {
      id: o.order_id,
      number: o.order_id,
      currency: o.currency,
      total_price: (pence / 100).toFixed(2),
      financial_status: 'paid',
      created_at: o.occurred_at,
      ...(o.customer_id ? { customer: { id: o.customer_id, email: `${o.customer_id}@retail.example` } } : {}),
      line_items: lines.map((l) => ({ sku: l.sku, title: l.title, quantity: l.quantity, price: l.unit_price })),
    },
  }
  const parsed = parseEvent(raw, { store: 'default', now: new Date('2012-01-01T00:00:00Z') })
  return parsed.ok ? parsed.event : null
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export async function benchForecast(path: string, options: { limit?: number } = {}): Promise<ForecastBenchResult | { skipped: string }> {
  const file = resolve(path, 'orders.ndjson.gz')
  if (!existsSync(file)) return { skipped: `no ${file}: give --retail PATH (the UCI Online Retail data set as one JSON order per line)` }
  const orders = gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RetailOrder)
    .slice(0, options.limit ?? Number.POSITIVE_INFINITY)
  const events = orders.map(toEvent).filter((e): e is CanonicalEvent => e !== null)
  events.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at))
  const last = events[events.length - 1]!.occurred_at
  const clock = new ManualClock(new Date(Date.parse(last) + 86_400_000).toISOString())
  const env = await createBenchEnv('sqlite', { clock })
  try {
    const { app } = env
    await app.handle.db.updateTable('stores').set({ timezone: 'Europe/London' }).where('id', '=', 'default').execute()
    const t0 = performance.now()
    await app.services.events.ingestAll(events, { historical: true, source: 'cli' })
    const importSeconds = (performance.now() - t0) / 1000

    const lastDay = last.slice(0, 10)
    const t1 = performance.now()
    const all = await forecastAll(app.handle.db, 'default', { asOf: lastDay })
    const forecastSeconds = (performance.now() - t1) / 1000

    // hold-out: history up to asOf, the 28 days after it to compare with
    const asOf = addDays(lastDay, -HOLDOUT_DAYS)
    const rows = await demandRows(app.handle.db, 'default', lastDay)
    const bySku = new Map<string, Array<{ day: string; quantity: number }>>()
    for (const r of rows) {
      const list = bySku.get(r.sku)
      if (list) list.push(r)
      else bySku.set(r.sku, [r])
    }
    const units = (sku: string) => (bySku.get(sku) ?? []).filter((d) => d.day <= asOf).reduce((n, d) => n + d.quantity, 0)
    const top = [...bySku.keys()]
      .map((sku) => ({ sku, units: units(sku) }))
      .sort((a, b) => b.units - a.units || (a.sku < b.sku ? -1 : 1))
      .slice(0, TOP_SKUS)
    const perSku: ForecastBenchResult['per_sku'] = []
    for (const { sku, units: sold } of top) {
      const demand = bySku.get(sku)!
      const train = dailySeries(demand, asOf)
      const actualByDay = new Map(demand.map((d) => [d.day, d.quantity]))
      const actual = Array.from({ length: HOLDOUT_DAYS }, (_, i) => Math.max(0, actualByDay.get(addDays(asOf, i + 1)) ?? 0))
      const method = chooseMethod(train)
      const scores: Record<string, number | null> = {}
      for (const m of METHODS) scores[m] = mase(train, actual, forecastWith(m, train, HOLDOUT_DAYS))
      scores.chosen = scores[method] ?? null
      perSku.push({ sku, units: sold, method, mase: Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, v === null ? null : round(v, 3)])) })
    }
    const medianMase: Record<string, number | null> = {}
    for (const m of [...METHODS, 'chosen']) {
      const v = median(perSku.map((p) => p.mase[m]).filter((x): x is number => x !== null && x !== undefined))
      medianMase[m] = v === null ? null : round(v, 3)
    }
    const rfm = await benchRfm(app)

    const chosenMethods: Record<string, number> = {}
    for (const p of perSku) chosenMethods[p.method] = (chosenMethods[p.method] ?? 0) + 1
    return {
      orders: events.length,
      import_seconds: round(importSeconds, 1),
      import_events_per_s: Math.round(events.length / importSeconds),
      skus: all.length,
      forecast_all_seconds: round(forecastSeconds, 2),
      holdout: { as_of: asOf, days: HOLDOUT_DAYS, skus: perSku.length },
      median_mase: medianMase,
      chosen_beats_naive_on: perSku.filter((p) => p.mase.chosen != null && p.mase.seasonal_naive != null && p.mase.chosen < p.mase.seasonal_naive).length,
      chosen_methods: chosenMethods,
      per_sku: perSku,
      rfm,
    }
  } finally {
    await env.cleanup()
  }
}

async function benchRfm(app: Awaited<ReturnType<typeof createBenchEnv>>['app']): Promise<ForecastBenchResult['rfm']> {
  const db = app.handle.db
  const t0 = performance.now()
  const rows = await db.selectFrom('customers').select(['key', 'last_order_at', 'orders_count', 'total_spent']).where('store_id', '=', 'default').execute()
  const rank = (value: (r: (typeof rows)[number]) => number) =>
    [...rows].sort((a, b) => value(a) - value(b)).map((r, i) => [r.key, Math.ceil(((i + 1) * 5) / rows.length)])
  rank((r) => Date.parse(String(r.last_order_at ?? 0)))
  rank((r) => Number(r.orders_count))
  rank((r) => Number(r.total_spent))
  const ceiling = (performance.now() - t0) / 1000
  const t1 = performance.now()
  const first = await app.services.segments.refresh('default')
  const firstSeconds = (performance.now() - t1) / 1000
  const t2 = performance.now()
  await app.services.segments.refresh('default')
  const secondSeconds = (performance.now() - t2) / 1000
  return {
    customers: rows.length,
    first_refresh_seconds: round(firstSeconds, 2),
    entries: first.changes,
    second_refresh_seconds: round(secondSeconds, 2),
    ceiling_read_and_rank_seconds: round(ceiling, 3),
  }
}

/** `--retail PATH`, else the default folder when it exists. */
export function retailPath(argv: string[]): string {
  const i = argv.indexOf('--retail')
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : (argv.find((a) => a.startsWith('--retail='))?.slice(9) ?? DEFAULT_RETAIL_PATH)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  const li = argv.indexOf('--limit')
  const limit = li >= 0 ? Number(argv[li + 1]) : undefined
  const result = await benchForecast(retailPath(argv), limit ? { limit } : {})
  if ('skipped' in result && result.skipped) {
    console.log(`forecast bench skipped: ${result.skipped}`)
  } else {
    const r = result as ForecastBenchResult
    console.log(
      `imported ${r.orders} orders in ${r.import_seconds} s (${r.import_events_per_s} events/s); forecast ${r.skus} SKUs in ${r.forecast_all_seconds} s`,
    )
    console.log(`hold-out ${r.holdout.days} days after ${r.holdout.as_of}, top ${r.holdout.skus} SKUs, median MASE: ${JSON.stringify(r.median_mase)}`)
    console.log(
      `RFM over ${r.rfm.customers} customers: first refresh ${r.rfm.first_refresh_seconds} s (${r.rfm.entries} segment entries), second ${r.rfm.second_refresh_seconds} s; ceiling (read and rank) ${r.rfm.ceiling_read_and_rank_seconds} s`,
    )
    console.log(`chosen beats seasonal naive on ${r.chosen_beats_naive_on} of ${r.holdout.skus}; methods chosen ${JSON.stringify(r.chosen_methods)}`)
    const dir = fileURLToPath(new URL('./results/', import.meta.url))
    mkdirSync(dir, { recursive: true })
    writeFileSync(`${dir}forecast.json`, `${JSON.stringify({ generated_at: new Date().toISOString(), ...r }, null, 2)}\n`)
    console.log('results: bench/results/forecast.json')
  }
}
