import type { Command } from 'commander'
import { loadConfig } from '../../config.ts'
import { openDatabase } from '../../store/db.ts'
import { migrate } from '../../store/migrate.ts'
import { ensureDefaultStore } from '../../store/stores.repo.ts'
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
        const handle = await openDatabase({ url: config.databaseUrl })
        try {
          const applied = await migrate(handle)
          await ensureDefaultStore(handle.db, new Date())
          if (opts.json) printJson({ applied, database: handle.location })
          else if (applied.length === 0) console.log(`database is up to date (${handle.location})`)
          else console.log(`applied ${applied.length} migration${applied.length === 1 ? '' : 's'} to ${handle.location}: ${applied.join(', ')}`)
        } finally {
          await handle.close()
        }
      }),
    )
}
