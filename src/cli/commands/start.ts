import type { Command } from 'commander'
import type { App } from '../../main.ts'
import { action, config, waitForDatabase, withApp } from '../shared.ts'
import { printDemoResult, runDemo } from './demo.ts'
import { serve } from './serve.ts'

/** Never seeded: no workflows and no events in any store (a first start, or an empty database). */
export async function neverSeeded(app: App): Promise<boolean> {
  const db = app.handle.db
  const workflow = await db.selectFrom('workflows').select('id').limit(1).executeTakeFirst()
  if (workflow) return false
  const event = await db.selectFrom('events').select('seq').limit(1).executeTakeFirst()
  return !event
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('what `npm start` runs: `demo` on the first start, then `serve`')
    .action(
      action(async () => {
        await waitForDatabase(await config())
        await withApp(async (app) => {
          if (!(await neverSeeded(app))) return
          console.log('first start: seeding the demo store (it starts no runs; templates are installed inactive)')
          printDemoResult(await runDemo(app, { customers: 200, days: 180, store: 'default' }))
        })
        await serve({})
      }),
    )
}
