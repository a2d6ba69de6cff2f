import { createServer, type Server } from 'node:http'
import type { Command } from 'commander'
import type { App } from '../../main.ts'
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
        const metrics = metricsPort === null ? null : await serveMetrics(app, config.host, metricsPort)
        onShutdown(app, [() => worker.stop(), async () => metrics && new Promise((resolve) => metrics.server.close(resolve))])
        worker.start()
        app.services.maintenance.start()
        settleMemoryAfterStart()
        if (metrics) console.log(`storeflow worker metrics on http://${config.host}:${metrics.port}/metrics`)
        console.log(`storeflow worker ${worker.id} running (concurrency ${concurrency}); Ctrl-C to stop`)
      }),
    )
}

/**
 * A worker's own GET /metrics: the database's figures, as every process reports them, and this
 * process's (the steps it carried out, Node.js's), which only it can tell (docs/operating.md).
 */
async function serveMetrics(app: App, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n')
      return
    }
    app.services.health.metrics().then(
      ({ contentType, text }) => response.writeHead(200, { 'content-type': contentType }).end(text),
      (err: unknown) => {
        app.log.warn({ err }, 'metrics failed')
        response.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n')
      },
    )
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  return { server, port: typeof address === 'object' && address ? address.port : port }
}
