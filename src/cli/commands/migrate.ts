import type { Command } from 'commander'
import { loadConfig } from '../../config.ts'
import { action, printJson, waitForDatabase } from '../shared.ts'

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations, then exit')
    .option('--json', 'print { applied: [names], database } as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const config = await loadConfig()
        await waitForDatabase(config)
        const { migrateDatabase } = await import('../../services/database.ts')
        const { applied, location } = await migrateDatabase(config)
        if (opts.json) printJson({ applied, database: location })
        else if (applied.length === 0) console.log(`database is up to date (${location})`)
        else console.log(`applied ${applied.length} migration${applied.length === 1 ? '' : 's'} to ${location}: ${applied.join(', ')}`)
      }),
    )
}
