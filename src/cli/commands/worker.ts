import type { Command } from 'commander'
import { startMaintenance } from '../maintenance.ts'
import { loadConfig } from '../../config.ts'
import { Worker } from '../../engine/worker.ts'
import { createApp } from '../../main.ts'
import { action, intFlag, serviceLogger } from '../shared.ts'
import { onShutdown } from './serve.ts'

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('execute due runs only (run as many as wanted against the same database)')
    .option('--concurrency <n>', 'runs advanced at once; default 8')
    .action(
      action(async (opts: { concurrency?: string }) => {
        const concurrency = intFlag(opts.concurrency, '--concurrency', 8, 1)
        const config = await loadConfig()
        const app = await createApp(config, { log: serviceLogger() })
        const worker = new Worker(app.engine, app.log, { concurrency })
        onShutdown(app, [() => worker.stop()])
        worker.start()
        startMaintenance(app)
        console.log(`storeflow worker ${worker.id} running (concurrency ${concurrency}); Ctrl-C to stop`)
      }),
    )
}
