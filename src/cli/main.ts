import { Command } from 'commander'
import { registerBacktest } from './commands/backtest.ts'
import { registerConnectors } from './commands/connectors.ts'
import { registerCustomers } from './commands/customers.ts'
import { registerDeliveries } from './commands/deliveries.ts'
import { registerDemo } from './commands/demo.ts'
import { registerDoctor } from './commands/doctor.ts'
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
import { UserError } from '../lib/errors.ts'
import type { CommandLineRoot } from '../main.ts'
import { fail, provideRoot, withApp } from './shared.ts'
import { STOREFLOW_VERSION } from '../lib/version.ts'

/**
 * `storeflow`: the command line (docs/cli.md, generated from it). Command names and flags are a
 * contract. The command modules import at their top only what their options need; an action
 * imports the services it uses when it runs, so `--help` and each command start without loading
 * every other command's dependencies (the database drivers, zod, the template library).
 */
export function buildProgram(): Command {
  const program = new Command('storeflow')
    .description('Self-hosted ecommerce automation engine: trigger → condition → action workflows, durably.')
    .version(STOREFLOW_VERSION)
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
  registerBacktest(program)
  registerEvents(program)
  registerStores(program)
  registerKeys(program)
  registerUsers(program)
  registerConnectors(program)
  registerDeliveries(program)
  registerCustomers(program)
  registerDoctor(program)
  // a command pointed at a store that does not exist says so, rather than showing an empty list
  program.hook('preAction', async (_program, actionCommand) => {
    const store = (actionCommand.optsWithGlobals() as { store?: string }).store
    const top = actionCommand.parent === program ? actionCommand.name() : actionCommand.parent?.name()
    if (!store || store === 'default' || STORE_FREE_COMMANDS.has(top ?? '')) return
    const known = await withApp((app) => app.services.stores.exists(store))
    if (!known) throw new UserError(`store "${store}" not found; create it with: storeflow stores create ${store}`, { code: 'not_found' })
  })
  return program
}

/** commands that do not act on one store (or create it) */
const STORE_FREE_COMMANDS = new Set(['start', 'serve', 'worker', 'migrate', 'stores', 'users', 'doctor'])

/**
 * Runs the command line with what the composition root provides (src/command-line.ts, which
 * bin/storeflow.mjs calls). Importing this module runs nothing, so the docs generator can
 * read the program's commands and options.
 */
export async function main(argv: string[], root: CommandLineRoot): Promise<void> {
  provideRoot(root)
  try {
    await buildProgram().parseAsync(argv)
  } catch (err) {
    fail(err)
  }
}
