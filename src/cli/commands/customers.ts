import type { Command } from 'commander'
import { action, globals, printJson, withApp } from '../shared.ts'

export function registerCustomers(program: Command): void {
  const customers = program
    .command('customers')
    .description("privacy requests: a customer's data exported or erased (ID: the shop's id, storeflow's key, or the email)")

  customers
    .command('export <id>')
    .description('print everything storeflow holds on the customer as JSON')
    .option('--json', 'the output is JSON either way; accepted for symmetry with other commands')
    .action(
      action(async (id: string, _opts: unknown, cmd: Command) => {
        const { store } = globals(cmd)
        printJson(await withApp((app) => app.services.privacy.exportCustomer(store, id)))
      }),
    )

  customers
    .command('erase <id>')
    .description(
      "erase the customer's personal data in this store (profile, events, orders, carts, messages, runs, deliveries, exports), keeping anonymised aggregates; ends their runs",
    )
    .option('--json', 'print what was erased as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const result = await withApp((app) => app.services.privacy.eraseCustomer(store, id))
        if (!result.disk_settled)
          console.error(
            'warning: the database stayed busy; the erased data leaves the write-ahead log at its next checkpoint (run this command again to retry now)',
          )
        if (opts.json) printJson(result)
        else
          console.log(
            `erased customer ${id}: ${result.events} events, ${result.orders} orders, ${result.messages} messages, ${result.runs} runs, ${result.deliveries} deliveries scrubbed; ${result.runs_cancelled} runs cancelled`,
          )
      }),
    )
}
