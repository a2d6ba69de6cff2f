import type { Command } from 'commander'
import { action, printJson, printTable, withApp } from '../shared.ts'

export function registerStores(program: Command): void {
  const stores = program.command('stores').description('several shops in one installation; `default` always exists')

  stores
    .command('create <id>')
    .description('create a store')
    .option('--name <name>', 'display name; default: the id')
    .option('--currency <code>', 'ISO currency code; default USD')
    .option('--timezone <tz>', 'IANA time zone, e.g. Europe/Berlin; default UTC')
    .option('--json', 'print the store as JSON')
    .action(
      action(async (id: string, opts: { name?: string; currency?: string; timezone?: string; json?: boolean }) => {
        const store = await withApp((app) =>
          app.services.stores.create({
            id,
            ...(opts.name ? { name: opts.name } : {}),
            ...(opts.currency ? { currency: opts.currency } : {}),
            ...(opts.timezone ? { timezone: opts.timezone } : {}),
          }),
        )
        if (opts.json) printJson(store)
        else console.log(`created store ${store.id} (${store.name}, ${store.currency}, ${store.timezone})`)
      }),
    )

  stores
    .command('list')
    .description('list stores')
    .option('--json', 'print the stores as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const rows = await withApp((app) => app.services.stores.list())
        if (opts.json) printJson(rows)
        else
          printTable(
            ['ID', 'NAME', 'CURRENCY', 'TIMEZONE', 'CREATED'],
            rows.map((s) => [s.id, s.name, s.currency, s.timezone, s.created_at]),
          )
      }),
    )
}
