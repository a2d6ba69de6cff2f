/**
 * Backtest of a year of a store: `node bin/run-ts.mjs bench/backtest.ts [--orders N] [--workflow NAME]`,
 * or `npm run bench -- --only backtest`.
 *
 * 1. generates a year of a demo store (src/services/demo-data.ts, seeded) sized for about
 *    `--orders` orders (default 100,000), with its catalogue, customers, carts, checkouts,
 *    payments, shipments and subscriptions, and imports it as history the way
 *    `storeflow events send --history` does (not timed against the target; its rate is reported);
 * 2. backtests a template workflow (default abandoned-checkout: a checkout.started trigger, waits,
 *    a condition on the cart, a discount code, three reminders, ended by an order) over the whole
 *    year, as `storeflow backtest --since 365d` does, and times it against the target: under 60 s.
 *    (`--workflow post-purchase-cross-sell` renders "bought together" recommendations, whose query
 *    reads every order of the store per mail: quadratic in the orders, see the report.)
 *
 * `--partitions N` splits the replay into N sandboxes by customer (default: the machine's cores
 * for a large period; 1 replays in one sandbox, in this thread). `--replay all` feeds the sandbox every event (the method before it replayed only what the
 * workflow reads), to compare.
 *
 * Writes bench/results/backtest.json. Not a test: nothing here asserts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ManualClock } from '../src/lib/clock.ts'
import { generateDemo } from '../src/services/demo-data.ts'
import { parseEvent, type CanonicalEvent } from '../src/contracts/events.ts'
import { createBenchEnv, round } from './lib/env.ts'

export const BACKTEST_TARGET_SECONDS = 60
const DAY = 86_400_000

export interface BacktestBenchResult {
  workflow: string
  orders: number
  customers: number
  events: number
  generate_seconds: number
  import_seconds: number
  import_events_per_s: number
  backtest_seconds: number
  /** events of the year replayed per second of the backtest */
  events_per_s: number
  /** the process's CPU time during the backtest (user + system): read beside the wall time on a shared machine */
  backtest_cpu_seconds: number
  load_avg_1m: { start: number; end: number }
  runs: number
  /** sandboxes the replay was split into (one thread each when more than 1) */
  sandboxes: number
  target_seconds: number
  pass: boolean
  report: unknown
}

function argOf(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1)
}

export async function benchBacktest(
  options: { orders?: number; workflow?: string; replay?: 'read' | 'all'; partitions?: number; log?: (line: string) => void } = {},
): Promise<BacktestBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line))
  const targetOrders = options.orders ?? 100_000
  const workflow = options.workflow ?? 'abandoned-checkout'
  const end = new Date('2026-11-30T00:00:00Z')
  // the generator places about 0.011 orders per customer and day (seasons and growth around it)
  const customers = Math.max(50, Math.round(targetOrders / (0.011 * 365)))
  let t = Date.now()
  const demo = generateDemo({ customers, days: 365, end, store: 'default', seed: 7 })
  const generateSeconds = (Date.now() - t) / 1000
  log(`  backtest: generated ${demo.summary.orders} orders, ${demo.events.length} events of ${customers} customers in ${round(generateSeconds, 1)} s`)

  const clock = new ManualClock(end)
  const env = await createBenchEnv('sqlite', { clock })
  try {
    const { app } = env
    const events: CanonicalEvent[] = []
    for (const raw of demo.events) {
      const parsed = parseEvent(raw, { store: 'default', now: end })
      if (parsed.ok) events.push(parsed.event)
    }
    t = Date.now()
    await app.services.events.ingestAll(events, { historical: true, source: 'cli' })
    const importSeconds = (Date.now() - t) / 1000
    log(`  backtest: imported ${events.length} events as history in ${round(importSeconds, 1)} s`)

    const source = readFileSync(fileURLToPath(new URL(`../templates/workflows/${workflow}.yaml`, import.meta.url)), 'utf8')
    let last = 0
    t = Date.now()
    const cpu = process.cpuUsage()
    const load = loadavg()[0]!
    const report = await app.services.backtest.run(
      'default',
      { source, fileName: `${workflow}.yaml` },
      {
        since: new Date(end.getTime() - 365 * DAY),
        until: end,
        ...(options.replay ? { replay: options.replay } : {}),
        ...(options.partitions ? { partitions: options.partitions } : {}),
        onProgress: (done, total) => {
          if (Date.now() - last < 5000) return
          last = Date.now()
          log(`  backtest: ${done}/${total} events after ${round((Date.now() - t) / 1000, 1)} s`)
        },
      },
    )
    const backtestSeconds = (Date.now() - t) / 1000
    const used = process.cpuUsage(cpu)
    const cpuSeconds = (used.user + used.system) / 1e6
    log(
      `  backtest: ${workflow} over a year: ${round(backtestSeconds, 1)} s (target < ${BACKTEST_TARGET_SECONDS} s); ${report.runs} runs, ${report.messages_total} messages`,
    )
    return {
      workflow,
      orders: demo.summary.orders,
      customers,
      events: events.length,
      generate_seconds: round(generateSeconds, 2),
      import_seconds: round(importSeconds, 2),
      import_events_per_s: Math.round(events.length / importSeconds),
      backtest_seconds: round(backtestSeconds, 2),
      events_per_s: Math.round(events.length / backtestSeconds),
      backtest_cpu_seconds: round(cpuSeconds, 2),
      load_avg_1m: { start: round(load, 1), end: round(loadavg()[0]!, 1) },
      runs: report.runs,
      sandboxes: report.sandboxes,
      target_seconds: BACKTEST_TARGET_SECONDS,
      pass: backtestSeconds < BACKTEST_TARGET_SECONDS,
      report,
    }
  } finally {
    await env.cleanup()
  }
}

/** bench/results/backtest.json */
export function writeBacktestResult(result: BacktestBenchResult): void {
  const dir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}backtest.json`, `${JSON.stringify({ measured_at: new Date().toISOString(), ...result }, null, 2)}\n`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  const orders = argOf(argv, '--orders')
  const result = await benchBacktest({
    ...(orders ? { orders: Number(orders) } : {}),
    ...(argOf(argv, '--workflow') ? { workflow: argOf(argv, '--workflow')! } : {}),
    ...(argOf(argv, '--replay') ? { replay: argOf(argv, '--replay') as 'read' | 'all' } : {}),
    ...(argOf(argv, '--partitions') ? { partitions: Number(argOf(argv, '--partitions')) } : {}),
  })
  writeBacktestResult(result)
  console.log(JSON.stringify({ ...result, report: undefined }, null, 2))
}
