import type { Command } from 'commander'
import { loadConfig, type ConfigFlags } from '../../config.ts'
import type { App } from '../../main.ts'
import { dashboardLogin } from '../dashboard-login.ts'
import { settleMemoryAfterStart } from '../settle-memory.ts'
import { action, commandLineRoot, intFlag, serviceLogger, waitForDatabase } from '../shared.ts'

export interface ServeOptions {
  port?: string
  host?: string
  /** commander's --no-worker sets worker: false */
  worker?: boolean
}

/**
 * Shuts down once on SIGTERM/SIGINT: stop accepting, let in-flight steps finish, close the
 * server and the database, exit 0. A second signal exits at once.
 */
export function onShutdown(app: App, steps: Array<() => Promise<unknown>>): void {
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(1)
    }
    stopping = true
    app.log.info({ signal }, 'shutting down')
    void (async () => {
      try {
        for (const step of steps) await step()
        await app.close()
        app.log.info('stopped')
        process.exit(0)
      } catch (err) {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      }
    })()
  }
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
}

/** serve's flags as configuration; a bad one is an error naming it (checked before anything starts) */
export function serveFlags(opts: ServeOptions): ConfigFlags {
  const flags: ConfigFlags = {}
  if (opts.port !== undefined) flags.port = intFlag(opts.port, '--port', 3000, 0, 65535)
  if (opts.host !== undefined) flags.host = opts.host
  return flags
}

/** The options of `serve`, also taken by `start` (`npm start -- --port 4000`), declared once. */
export function withServeOptions(command: Command): Command {
  return command
    .option('--port <port>', 'port to listen on; default 3000 (STOREFLOW_PORT)')
    .option('--host <host>', 'address to listen on; default 127.0.0.1 (STOREFLOW_HOST)')
    .option('--no-worker', 'API only: do not execute runs in this process')
}

export async function serve(opts: ServeOptions): Promise<void> {
  const config = await loadConfig(serveFlags(opts))
  await waitForDatabase(config)
  const root = commandLineRoot()
  const app = await root.createApp(config, { log: await serviceLogger() })
  const server = await root.buildServer(app)
  const worker = opts.worker === false ? null : app.services.workers.create()
  let serverClosed: Promise<unknown> | null = null
  onShutdown(app, [
    async () => {
      // fastify's close stops accepting at once, then waits for requests in flight
      serverClosed = server.close()
    },
    async () => worker?.stop(),
    async () => serverClosed,
  ])
  const port = await server.listen(config.port, config.host)
  worker?.start()
  app.services.maintenance.start()
  settleMemoryAfterStart()
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  // before the URL line, which whoever waits for the server reads as "ready"
  const login = await dashboardLogin(app)
  if (login) console.log(login)
  console.log(`storeflow listening on http://${shown}:${port}${worker ? ' (with an embedded worker)' : ' (API only: run `storeflow worker` for runs)'}`)
}

export function registerServe(program: Command): void {
  withServeOptions(program.command('serve').description('HTTP API, webhooks, dashboard, and (unless told) an embedded worker')).action(
    action(async (opts: ServeOptions) => serve(opts)),
  )
}
