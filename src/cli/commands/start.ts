import type { Command } from 'commander'
import { action, config, waitForDatabase, withApp } from '../shared.ts'
import { printDemoResult, runDemo } from './demo.ts'
import { serve, serveFlags, withServeOptions, type ServeOptions } from './serve.ts'

/**
 * What `npm start` runs: on a database that has never held a workflow or an event, seeds the
 * demo store once; then serves, with serve's own options (`npm start -- --port 4000`).
 */
export function registerStart(program: Command): void {
  withServeOptions(program.command('start').description("what `npm start` runs: `demo` on the first start, then `serve` (with serve's options)")).action(
    action(async (opts: ServeOptions) => {
      // a bad flag is refused before anything is seeded
      const flags = serveFlags(opts)
      await waitForDatabase(await config(flags))
      await withApp(async (app) => {
        if (!(await app.services.stores.neverSeeded())) {
          console.log(
            'demo store: already seeded (or the database holds data of its own), nothing seeded; `npx storeflow demo` seeds again, adding only what is not there yet',
          )
          return
        }
        console.log('first start: seeding the demo store (it starts no runs; templates are installed inactive)')
        printDemoResult(await runDemo(app, { customers: 200, days: 180, store: 'default' }), { loginHintFollows: true })
      }, flags)
      await serve(opts)
    }),
  )
}
