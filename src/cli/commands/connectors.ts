import type { Command } from 'commander'
import { PLATFORMS } from '../../contracts/platforms.ts'
import { UserError } from '../../lib/errors.ts'
import { action, globals, printJson, printTable, withApp } from '../shared.ts'

const collect = (value: string, previous: string[] = []) => [...previous, value]

export function registerConnectors(program: Command): void {
  const connectors = program.command('connectors').description('shop connections: webhook secrets (encrypted at rest) and shop API credentials')

  connectors
    .command('add')
    .description('connect a shop; its webhooks go to POST /webhooks/<platform>/<store>')
    .requiredOption('--platform <platform>', PLATFORMS.join(' | '))
    .requiredOption('--secret <secret>', 'webhook secret; give it twice while rotating (old and new both valid)', collect)
    .option('--shop-domain <domain>', "Shopify: the shop's myshopify.com domain; deliveries for other shops are refused")
    .option('--api-url <url>', "the shop's API base, store path included (BigCommerce: https://api.bigcommerce.com/stores/{store_hash})")
    .option('--access-token <token>', 'API access token (BigCommerce: X-Auth-Token), with --api-url')
    .option('--json', 'print the connector as JSON')
    .action(
      action(async (opts: { platform: string; secret: string[]; shopDomain?: string; apiUrl?: string; accessToken?: string; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        if ((opts.apiUrl === undefined) !== (opts.accessToken === undefined))
          throw new UserError('--api-url and --access-token go together', { code: 'validation_failed' })
        const created = await withApp((app) =>
          app.services.connectors.add(store, {
            platform: opts.platform,
            secrets: opts.secret,
            shop_domain: opts.shopDomain ?? null,
            api_url: opts.apiUrl ?? null,
            access_token: opts.accessToken ?? null,
          }),
        )
        if (opts.json) {
          printJson(created)
          return
        }
        console.log(`added ${created.platform} connector ${created.id} for store ${created.store}`)
        console.log(`webhook URL: <your public URL>/webhooks/${created.platform}/${created.store}`)
      }),
    )

  connectors
    .command('list')
    .description("list the store's connectors (secrets are never shown)")
    .option('--json', 'print the connectors as JSON')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const rows = await withApp((app) => app.services.connectors.list(store))
        if (opts.json) printJson(rows)
        else
          printTable(
            ['ID', 'PLATFORM', 'SHOP DOMAIN', 'API URL', 'SECRETS', 'TOKEN', 'CREATED'],
            rows.map((c) => [c.id, c.platform, c.shop_domain ?? '', c.api_url ?? '', String(c.secret_count), c.access_token_set ? 'set' : '', c.created_at]),
          )
      }),
    )

  connectors
    .command('remove <id>')
    .description('remove a connector; its webhooks are refused from then on, past deliveries stay 30 days')
    .action(
      action(async (id: string, _opts: unknown, cmd: Command) => {
        const { store } = globals(cmd)
        await withApp((app) => app.services.connectors.remove(store, id))
        console.log(`removed connector ${id}`)
      }),
    )
}
