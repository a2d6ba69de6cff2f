import type { Command } from 'commander'
import { parseEvent, type CanonicalEvent } from '../../contracts/events.ts'
import type { App } from '../../main.ts'
import { createKey, listKeys } from '../../store/stores.repo.ts'
import { createUser, findUserByEmail } from '../../store/users.repo.ts'
import { saveWorkflow } from '../../store/workflows.repo.ts'
import { generateDemo, type DemoSummary } from '../demo-data.ts'
import { Progress } from '../progress.ts'
import { loadTemplates } from '../template-library.ts'
import { action, globals, intFlag, printJson, withApp } from '../shared.ts'

const BATCH = 500

export interface DemoResult {
  summary: DemoSummary
  events: { accepted: number; duplicates: number }
  templates: { installed: string[]; unchanged: string[]; need_actions: Array<{ name: string; actions: string[] }> }
  key: { id: string; key: string; scope: string; store: string } | null
  admin: { email: string; created: boolean } | null
  url: string
}

/**
 * Seeds the demo store: history (as historical events, so no mail goes out for year-old
 * orders), the template workflows (inactive), an ingest key, and the admin user when
 * STOREFLOW_ADMIN_EMAIL and STOREFLOW_ADMIN_PASSWORD are set. Safe to run again: event ids are
 * deterministic (so they come back as duplicates), unchanged templates make no new version, and
 * a second key is not created while the store has one.
 */
export async function runDemo(app: App, options: { customers: number; days: number; store: string; end?: Date }): Promise<DemoResult> {
  const endEnv = process.env.STOREFLOW_DEMO_END
  // the history ends on the hour, so a second run within the hour gives identical events
  const end = options.end ?? (endEnv ? new Date(endEnv) : new Date(Math.floor(app.clock.now().getTime() / 3_600_000) * 3_600_000))
  const { events: raw, summary } = generateDemo({ customers: options.customers, days: options.days, end, store: options.store })
  const events: CanonicalEvent[] = raw.map((e) => {
    const parsed = parseEvent(e, { store: options.store, now: end })
    if (!parsed.ok) throw new Error(`demo event ${e.id} is invalid: ${JSON.stringify(parsed.issues)}`)
    return parsed.event
  })

  let accepted = 0
  let duplicates = 0
  const progress = new Progress('seeding demo store', events.length)
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH)
    const results = await app.engine.ingest(batch, { historical: true, source: 'demo' })
    for (const r of results) r.duplicate ? duplicates++ : accepted++
    progress.add(batch.length)
  }
  progress.finish()

  const templates: DemoResult['templates'] = { installed: [], unchanged: [], need_actions: [] }
  for (const t of loadTemplates(app.actions)) {
    if (!t.parsed) {
      templates.need_actions.push({ name: t.name, actions: t.missingActions })
      continue
    }
    // `active` is left out: a new workflow starts inactive, one the user activated stays so
    const { created } = await saveWorkflow(app.handle.db, options.store, t.parsed, t.source, app.clock.now())
    ;(created ? templates.installed : templates.unchanged).push(t.name)
  }

  const liveKeys = (await listKeys(app.handle.db, options.store)).filter((k) => k.scope === 'ingest' && k.revoked_at === null)
  const key = liveKeys.length === 0 ? await createKey(app.handle.db, options.store, 'ingest', app.clock.now()) : null

  let admin: DemoResult['admin'] = null
  const email = process.env.STOREFLOW_ADMIN_EMAIL
  const password = process.env.STOREFLOW_ADMIN_PASSWORD
  if (email && password) {
    const existing = await findUserByEmail(app.handle.db, email)
    if (!existing) await createUser(app.handle.db, { email, password }, app.clock.now())
    admin = { email: email.trim().toLowerCase(), created: !existing }
  }
  return { summary, events: { accepted, duplicates }, templates, key, admin, url: app.config.publicUrl }
}

export function printDemoResult(result: DemoResult): void {
  const s = result.summary
  const days = Math.round((Date.parse(s.to) - Date.parse(s.from)) / 86_400_000)
  console.log(`demo store: ${s.products} products (${s.variants} variants), ${s.customers} customers, ${s.orders} orders over ${days} days ($${s.revenue} net revenue, ${s.cancelled} cancelled, ${s.refunded} refunded)`)
  console.log(`events: ${result.events.accepted} stored, ${result.events.duplicates} already there`)
  const t = result.templates
  console.log(`templates (inactive): ${t.installed.length} installed, ${t.unchanged.length} unchanged${t.need_actions.length ? `, ${t.need_actions.length} waiting for actions not built yet (${[...new Set(t.need_actions.flatMap((n) => n.actions))].join(', ')})` : ''}`)
  console.log('')
  console.log(`  open:           ${result.url}`)
  if (result.key) console.log(`  ingest API key: ${result.key.key}   (store ${result.key.store}; shown once, stored hashed)`)
  else console.log('  ingest API key: the store already has one; create another with `storeflow keys create --scope ingest`')
  if (result.admin) console.log(`  admin login:    ${result.admin.email}${result.admin.created ? ' (created, password from STOREFLOW_ADMIN_PASSWORD)' : ' (exists)'}`)
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
