import { main } from './cli/main.ts'
import type { Config } from './config.ts'
import type { App, AppOptions, HttpServer } from './main.ts'

/**
 * `storeflow …` (bin/storeflow.mjs): the command line, handed the composition root. The app and
 * the HTTP server are imported when a command opens them, not before: `--help` and commands that
 * need no database start without the engine, the database drivers or Fastify.
 */
export async function runCommandLine(argv: string[]): Promise<void> {
  await main(argv, { createApp, buildServer, buildMetricsServer })
}

async function createApp(config: Config, options?: AppOptions): Promise<App> {
  const root = await import('./main.ts')
  return root.createApp(config, options)
}

async function buildServer(app: App): Promise<HttpServer> {
  const http = await import('./http/server.ts')
  const server = await http.buildServer(app)
  return {
    async listen(port, host) {
      await server.listen({ port, host })
      const address = server.server.address()
      return address && typeof address === 'object' ? address.port : port
    },
    close: () => server.close(),
  }
}

async function buildMetricsServer(app: App): Promise<HttpServer> {
  const { buildMetricsServer: build } = await import('./http/metrics-server.ts')
  const server = build(app)
  return {
    async listen(port, host) {
      await server.listen({ port, host })
      const address = server.server.address()
      return address && typeof address === 'object' ? address.port : port
    },
    close: () => server.close(),
  }
}
