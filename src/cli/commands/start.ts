import type { Command } from 'commander'
import { action, config, waitForDatabase, withApp } from '../shared.ts'
import { printDemoResult, runDemo } from './demo.ts'
import { serve } from './serve.ts'

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('what `npm start` runs: `demo` on the first start, then `serve`')
    .action(
      action(async () => {
        await waitForDatabase(await config())
        await withApp(async (app) => {
          if (!(await app.services.stores.neverSeeded())) return
          console.log('first start: seeding the demo store (it starts no runs; templates are installed inactive)')
          printDemoResult(await runDemo(app, { customers: 200, days: 180, store: 'default' }))
        })
        await serve({})
      }),
    )
}
