import { Command } from 'commander'
import { registerConnectors } from './commands/connectors.ts'
import { registerCustomers } from './commands/customers.ts'
import { registerDeliveries } from './commands/deliveries.ts'
import { registerDemo } from './commands/demo.ts'
import { registerEvents } from './commands/events.ts'
import { registerKeys } from './commands/keys.ts'
import { registerMigrate } from './commands/migrate.ts'
import { registerServe } from './commands/serve.ts'
import { registerSimulate } from './commands/simulate.ts'
import { registerStart } from './commands/start.ts'
import { registerStores } from './commands/stores.ts'
import { registerTemplates } from './commands/templates.ts'
import { registerUsers } from './commands/users.ts'
import { registerWorker } from './commands/worker.ts'
import { registerWorkflows } from './commands/workflows.ts'
import { fail } from './shared.ts'

/** `storeflow`: the command line (PRODUCT.md §2). Command names and flags are a contract. */
export function buildProgram(): Command {
  const program = new Command('storeflow')
    .description('Self-hosted ecommerce automation engine: trigger → condition → action workflows, durably.')
    .version('0.1.0')
    .option('--store <id>', 'the store a command acts on', 'default')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
  registerStart(program)
  registerServe(program)
  registerWorker(program)
  registerMigrate(program)
  registerDemo(program)
  registerWorkflows(program)
  registerTemplates(program)
  registerSimulate(program)
  registerEvents(program)
  registerStores(program)
  registerKeys(program)
  registerUsers(program)
  registerConnectors(program)
  registerDeliveries(program)
  registerCustomers(program)
  return program
}

try {
  await buildProgram().parseAsync(process.argv)
} catch (err) {
  fail(err)
}
