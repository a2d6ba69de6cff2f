import type { Command } from 'commander'
import type { App } from '../../main.ts'
import type { DemoResult } from '../../services/demo.ts'
import { Progress } from '../progress.ts'
import { action, globals, intFlag, printJson, withApp } from '../shared.ts'

/**
 * Seeds the demo store (services/demo.ts). The history ends at STOREFLOW_DEMO_END when set, else
 * on the hour, so a second run within the hour gives identical events; the admin user comes from
 * STOREFLOW_ADMIN_EMAIL and STOREFLOW_ADMIN_PASSWORD when both are set.
 */
export async function runDemo(app: App, options: { customers: number; days: number; store: string; end?: Date }): Promise<DemoResult> {
  const endEnv = process.env.STOREFLOW_DEMO_END
  const end = options.end ?? (endEnv ? new Date(endEnv) : new Date(Math.floor(app.clock.now().getTime() / 3_600_000) * 3_600_000))
  const email = process.env.STOREFLOW_ADMIN_EMAIL
  const password = process.env.STOREFLOW_ADMIN_PASSWORD
  return app.services.demo.seed({
    customers: options.customers,
    days: options.days,
    store: options.store,
    end,
    admin: email && password ? { email, password } : undefined,
    progress: (events) => new Progress('seeding demo store', events),
  })
}

export function printDemoResult(result: DemoResult): void {
  const s = result.summary
  const days = Math.round((Date.parse(s.to) - Date.parse(s.from)) / 86_400_000)
  console.log(
    `demo store: ${s.products} products (${s.variants} variants), ${s.customers} customers, ${s.orders} orders over ${days} days ($${s.revenue} net revenue, ${s.cancelled} cancelled, ${s.refunded} refunded)`,
  )
  console.log(`events: ${result.events.accepted} stored, ${result.events.duplicates} already there`)
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
  else console.log('  admin login:    create one with `storeflow users create EMAIL` (or set STOREFLOW_ADMIN_EMAIL and STOREFLOW_ADMIN_PASSWORD)')
  console.log('')
  console.log('  try: storeflow templates list · storeflow workflows activate order-confirmation')
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('seed a realistic demo store with history (catalogue, customers, orders) and the templates, inactive')
    .option('--customers <n>', 'customers to create; default 200')
    .option('--days <d>', 'days of order history; default 180')
    .option('--json', 'print what was seeded as JSON')
    .action(
      action(async (opts: { customers?: string; days?: string; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const customers = intFlag(opts.customers, '--customers', 200, 1)
        const days = intFlag(opts.days, '--days', 180, 1)
        const result = await withApp((app) => runDemo(app, { customers, days, store }))
        if (opts.json) printJson(result)
        else printDemoResult(result)
      }),
    )
}
