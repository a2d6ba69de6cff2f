import type { Command } from 'commander'
import { replayDelivery } from '../../http/webhook-pipeline.ts'
import { deliverySummary, listDeliveries } from '../../store/deliveries.repo.ts'
import { action, globals, intFlag, printJson, printTable, withApp } from '../shared.ts'

export function registerDeliveries(program: Command): void {
  const deliveries = program.command('deliveries').description('raw webhook deliveries, kept 30 days')

  deliveries
    .command('list')
    .description('list deliveries, newest first')
    .option('--connector <id>', 'only this connector\'s')
    .option('--status <status>', 'processed | duplicate | failed')
    .option('--limit <n>', 'how many; default 50, at most 500')
    .option('--json', 'print the deliveries as JSON')
    .action(
      action(async (opts: { connector?: string; status?: string; limit?: string; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const limit = Math.min(intFlag(opts.limit, '--limit', 50, 1), 500)
        const page = await withApp((app) => listDeliveries(app.handle.db, store, { ...(opts.connector ? { connector: opts.connector } : {}), ...(opts.status ? { status: opts.status } : {}), limit }))
        const items = page.items.map(deliverySummary)
        if (opts.json) printJson(items)
        else printTable(['ID', 'PLATFORM', 'TOPIC', 'STATUS', 'EVENTS', 'RECEIVED', 'ERROR'], page.items.map((d) => [d.id, d.platform, d.topic, d.status, d.result.events.length, d.received_at, d.error ?? '']))
      }),
    )

  deliveries
    .command('replay <id>')
    .description("run a stored delivery through today's mapping again; events already ingested are duplicates")
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const outcome = await withApp((app) => replayDelivery(app, store, id))
        if (opts.json) {
          printJson(outcome)
          return
        }
        const events = outcome['events'] as Array<{ id: string; type: string; duplicate: boolean; runs: number }>
        console.log(`replayed ${id}: ${String(outcome['status'])}${outcome['error'] ? ` (${String(outcome['error'])})` : ''}`)
        for (const e of events) console.log(`  ${e.type} ${e.id}${e.duplicate ? ' (duplicate)' : ` → ${e.runs} run(s)`}`)
      }),
    )
}
