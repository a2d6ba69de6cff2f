import type { Command } from 'commander'
import type { KeyScope } from '../../services/keys.ts'
import { action, globals, printJson, printTable, withApp } from '../shared.ts'

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys, each bound to one store (--store, default `default`)')

  keys
    .command('create')
    .description('create an API key; the key is shown once and stored hashed')
    .option('--scope <scope>', 'ingest | read | admin', 'ingest')
    .option('--json', 'print { id, key, scope, store } as JSON')
    .action(
      action(async (opts: { scope: string; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const created = await withApp((app) => app.services.keys.create(store, opts.scope as KeyScope))
        if (opts.json) {
          printJson({ id: created.id, key: created.key, scope: created.scope, store: created.store })
          return
        }
        console.log(`created ${created.scope} key ${created.id} for store ${created.store}`)
        console.log(`key: ${created.key}`)
        console.log('(shown once: it is stored hashed)')
      }),
    )

  keys
    .command('list')
    .description("list the store's API keys (never the keys themselves)")
    .option('--json', 'print the keys as JSON')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const rows = await withApp((app) => app.services.keys.list(store))
        if (opts.json) printJson(rows)
        else
          printTable(
            ['ID', 'STORE', 'SCOPE', 'PREFIX', 'CREATED', 'REVOKED'],
            rows.map((k) => [k.id, k.store, k.scope, `${k.prefix}…`, k.created_at, k.revoked_at ?? '']),
          )
      }),
    )

  keys
    .command('revoke <id>')
    .description("revoke one of the store's API keys; requests with it are refused from then on")
    .action(
      action(async (id: string, _opts: unknown, cmd: Command) => {
        const { store } = globals(cmd)
        await withApp((app) => app.services.keys.revoke(store, id))
        console.log(`revoked key ${id} of store ${store}`)
      }),
    )
}
