import type { Command } from 'commander'
import { loadConfig } from '../../config.ts'
import { settleMemoryAfterStart } from '../settle-memory.ts'
import { action, commandLineRoot, intFlag, serviceLogger, waitForDatabase } from '../shared.ts'
import { onShutdown } from './serve.ts'

/** How long a worker's statements wait for an unreachable PostgreSQL before failing; ms. */
const WORKER_CONNECT_WAIT_MS = 60_000

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('execute due runs only (run as many as wanted against the same database)')
    .option('--concurrency <n>', 'runs advanced at once; default 8')
    .option('--metrics-port <port>', "serve this worker's GET /metrics (Prometheus) on this port, at STOREFLOW_HOST; off by default")
    .action(
      action(async (opts: { concurrency?: string; metricsPort?: string }) => {
        const concurrency = intFlag(opts.concurrency, '--concurrency', 8, 1)
        const metricsPort = opts.metricsPort === undefined ? null : intFlag(opts.metricsPort, '--metrics-port', 0, 0, 65535)
        const config = await loadConfig()
        await waitForDatabase(config)
        // nothing waits on a worker but its own runs: riding out a database restart by waiting
        // (rather than failing the statement) keeps what it was doing from being done twice,
        // e.g. the mail handed to SMTP whose `sent` mark must still be written
        const app = await commandLineRoot().createApp(config, { log: await serviceLogger(), connectWaitMs: WORKER_CONNECT_WAIT_MS })
        const worker = app.services.workers.create({ concurrency })
        // this worker's own GET /metrics: the steps it carries out are measured here, and only here
        const metrics = metricsPort === null ? null : await commandLineRoot().buildMetricsServer(app)
        const shownPort = metrics === null || metricsPort === null ? null : await metrics.listen(metricsPort, config.host)
        onShutdown(app, [() => worker.stop(), async () => metrics?.close()])
        worker.start()
        app.services.maintenance.start()
        settleMemoryAfterStart()
        if (shownPort !== null) console.log(`storeflow worker metrics on http://${config.host}:${shownPort}/metrics`)
        console.log(`storeflow worker ${worker.id} running (concurrency ${concurrency}); Ctrl-C to stop`)
      }),
    )
}
