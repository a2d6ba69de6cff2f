import type { Command } from 'commander'
import { action, globals, intFlag, printJson, printTable, withApp } from '../shared.ts'

export function registerDeliveries(program: Command): void {
  const deliveries = program.command('deliveries').description('raw webhook deliveries, kept 30 days')

  deliveries
    .command('list')
    .description('list deliveries, newest first')
    .option('--connector <id>', "only this connector's")
    .option('--status <status>', 'processed | duplicate | failed')
    .option('--limit <n>', 'how many; default 50, at most 500')
    .option('--json', 'print the deliveries as JSON')
    .action(
      action(async (opts: { connector?: string; status?: string; limit?: string; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const limit = Math.min(intFlag(opts.limit, '--limit', 50, 1), 500)
        const { page, items } = await withApp(async (app) => {
          const page = await app.services.deliveries.list(store, {
            ...(opts.connector ? { connector: opts.connector } : {}),
            ...(opts.status ? { status: opts.status } : {}),
            limit,
          })
          return { page, items: page.items.map(app.services.deliveries.summary) }
        })
        if (opts.json) printJson(items)
        else
          printTable(
            ['ID', 'PLATFORM', 'TOPIC', 'STATUS', 'EVENTS', 'RECEIVED', 'ERROR'],
            page.items.map((d) => [d.id, d.platform, d.topic, d.status, d.result.events.length, d.received_at, d.error ?? '']),
          )
      }),
    )

  deliveries
    .command('replay <id>')
    .description("run a stored delivery through today's mapping again; events already ingested are duplicates")
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const outcome = await withApp((app) => app.services.deliveries.replay(store, id))
        if (opts.json) {
          printJson(outcome)
          return
        }
        console.log(`replayed ${id}: ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}`)
        for (const e of outcome.events) console.log(`  ${e.type} ${e.id}${e.duplicate ? ' (duplicate)' : ' (accepted)'}`)
      }),
    )
}
