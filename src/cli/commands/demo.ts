import type { Command } from 'commander'
import type { App } from '../../main.ts'
import type { DemoResult, LiveStats } from '../../services/demo.ts'
import { Progress } from '../progress.ts'
import { action, globals, intFlag, positiveNumberFlag, printJson, withApp } from '../shared.ts'

/** the seed when none is given, for --help (services/demo-data.ts DEFAULT_SEED decides; repeated here so `--help` loads no service, and a test holds them equal) */
export const DEFAULT_SEED = 20260302
/** the most events a second `--live` sends */
const MAX_RATE = 1000

/**
 * Seeds the demo store (services/demo.ts). The history ends at STOREFLOW_DEMO_END when set, else
 * on the hour, so a second run within the hour gives identical events; the admin user comes from
 * STOREFLOW_ADMIN_EMAIL and STOREFLOW_ADMIN_PASSWORD when both are set.
 */
export async function runDemo(app: App, options: { customers: number; days: number; store: string; seed?: number; end?: Date }): Promise<DemoResult> {
  const endEnv = process.env.STOREFLOW_DEMO_END
  const end = options.end ?? (endEnv ? new Date(endEnv) : new Date(Math.floor(app.clock.now().getTime() / 3_600_000) * 3_600_000))
  const email = process.env.STOREFLOW_ADMIN_EMAIL
  const password = process.env.STOREFLOW_ADMIN_PASSWORD
  return app.services.demo.seed({
    customers: options.customers,
    days: options.days,
    store: options.store,
    seed: options.seed,
    end,
    admin: email && password ? { email, password } : undefined,
    progress: (events) => new Progress('seeding demo store', events),
  })
}

/**
 * `loginHintFollows`: `start` serves right after, and serve says how to get a dashboard login; said
 * once, not twice. `users`: how many dashboard users there are (no hint to create one when there are).
 */
export function printDemoResult(result: DemoResult, options: { loginHintFollows?: boolean; users?: number } = {}): void {
  const s = result.summary
  const days = Math.round((Date.parse(s.to) - Date.parse(s.from)) / 86_400_000)
  console.log(
    `demo store (seed ${s.seed}): ${s.products} products (${s.variants} variants) from ${s.suppliers} suppliers, ${s.customers} customers (${s.repeat_customers} bought more than once), ${s.orders} orders over ${days} days ($${s.revenue} net revenue, ${s.cancelled} cancelled, ${s.refunded} refunded)`,
  )
  console.log(
    `carts: ${s.checkouts} checkouts started, ${s.abandoned_carts} carts left without an order; ${s.subscriptions} subscriptions (${s.active_subscriptions} active)`,
  )
  console.log(`events: ${result.events.accepted} stored, ${result.events.duplicates} already there`)
  const sup = result.suppliers
  if (sup.created.length > 0 || sup.existing.length > 0)
    console.log(`suppliers: ${sup.created.length} created${sup.existing.length ? `, ${sup.existing.length} there already (kept as they are)` : ''}`)
  const t = result.templates
  console.log(
    `templates (inactive): ${t.installed.length} installed, ${t.unchanged.length} unchanged${t.need_actions.length ? `, ${t.need_actions.length} waiting for actions not built yet (${[...new Set(t.need_actions.flatMap((n) => n.actions))].join(', ')})` : ''}`,
  )
  console.log('')
  console.log(`  open:           ${result.url}`)
  if (result.key) console.log(`  ingest API key: ${result.key.key}   (store ${result.key.store}; shown once, stored hashed)`)
  else console.log('  ingest API key: the store already has one; create another with `storeflow keys create --scope ingest`')
  if (result.admin)
    console.log(`  admin login:    ${result.admin.email}${result.admin.created ? ' (created, password from STOREFLOW_ADMIN_PASSWORD)' : ' (exists)'}`)
  else if ((options.users ?? 0) > 0) console.log(`  admin login:    ${options.users} dashboard user(s); \`npx storeflow users list\``)
  else if (!options.loginHintFollows)
    console.log('  admin login:    create one with `npx storeflow users create EMAIL` (or set STOREFLOW_ADMIN_EMAIL and STOREFLOW_ADMIN_PASSWORD)')
  console.log('')
  console.log('  try: npx storeflow templates list · npx storeflow workflows activate order-confirmation')
}

/** One line of what `--live` has sent: the total and the last stretch by type. */
export function liveLine(stats: LiveStats, since: Record<string, number>): string {
  const recent = Object.entries(stats.by_type)
    .map(([type, n]) => [type, n - (since[type] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([type, n]) => `${n} ${type}`)
  return `live: ${stats.sent} events sent${recent.length ? ` (last: ${recent.join(', ')})` : ''}`
}

/**
 * `--live RATE`: new traffic at RATE events a second until SIGINT or SIGTERM, a line about every
 * ten seconds; then what was sent, and exit 0.
 */
async function runLive(app: App, options: { store: string; customers: number; seed: number | undefined; rate: number; json: boolean }): Promise<LiveStats> {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const every = Math.max(1, Math.round(options.rate * 10))
  let since: Record<string, number> = {}
  const log = (line: string) => (options.json ? console.error(line) : console.log(line))
  log(
    `live: sending about ${options.rate} event${options.rate === 1 ? '' : 's'} a second to store ${options.store} (carts, checkouts, orders, payments, shipments); Ctrl-C stops`,
  )
  try {
    const stats = await app.services.demo.live({
      store: options.store,
      customers: options.customers,
      seed: options.seed,
      rate: options.rate,
      signal: controller.signal,
      onEvent: (s) => {
        if (s.sent % every !== 0) return
        log(liveLine(s, since))
        since = { ...s.by_type }
      },
    })
    log(`live: stopped after ${stats.sent} events`)
    return stats
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('seed a realistic demo store with history (catalogue, suppliers, customers, orders, carts, subscriptions) and the templates, inactive')
    .option('--customers <n>', 'customers to create; default 200')
    .option('--days <d>', 'days of order history; default 180')
    .option('--seed <s>', `the generator's seed, a whole number: the same seed gives the same store, another seed another; default ${DEFAULT_SEED}`)
    .option(
      '--live <rate>',
      'after seeding, keep sending new traffic (carts, orders, payments, shipments, abandoned carts) at this many events a second, until Ctrl-C',
    )
    .option('--json', 'print what was seeded as JSON (with --live: the live lines go to stderr, and what was sent is printed at the end)')
    .action(
      action(async (opts: { customers?: string; days?: string; seed?: string; live?: string; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const customers = intFlag(opts.customers, '--customers', 200, 1)
        const days = intFlag(opts.days, '--days', 180, 1)
        const seed = opts.seed === undefined ? undefined : intFlag(opts.seed, '--seed', DEFAULT_SEED, 0, 0xffffffff)
        const rate = positiveNumberFlag(opts.live, '--live', MAX_RATE)
        await withApp(async (app) => {
          const result = await runDemo(app, { customers, days, store, seed })
          const users = await app.services.users.count()
          if (rate === undefined) {
            if (opts.json) printJson(result)
            else printDemoResult(result, { users })
            return
          }
          if (!opts.json) printDemoResult(result, { users })
          const live = await runLive(app, { store, customers, seed, rate, json: opts.json === true })
          if (opts.json) printJson({ ...result, live })
        })
      }),
    )
}
