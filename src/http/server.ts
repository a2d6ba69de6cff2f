import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { App } from '../main.ts'
import { registerErrorHandler } from './errors.ts'
import { createIngestGuards } from './ingest-guards.ts'
import { registerEventRoutes } from './routes/events.ts'
import { registerHealthRoutes } from './routes/health.ts'
import { registerRunRoutes } from './routes/runs.ts'
import { registerMessageTemplateRoutes, registerStoreViewRoutes } from './routes/store-view.ts'
import { registerTrackingRoutes } from './routes/tracking.ts'
import { registerWorkflowRoutes } from './routes/workflows.ts'
import { registerWebhookRoutes } from './routes/webhooks.ts'
import { registerOpenApi } from './openapi.ts'
import { registerDashboard } from './dashboard.ts'

export interface ServerOptions {
  /** extra route registrations (connectors add their webhook routes here) */
  plugins?: Array<(server: FastifyInstance, app: App) => void | Promise<void>>
}

/** The HTTP API, webhooks, tracking links and dashboard. The only layer that knows Fastify. */
export async function buildServer(app: App, options: ServerOptions = {}): Promise<FastifyInstance> {
  const server: FastifyInstance = Fastify({
    bodyLimit: app.config.bodyLimit,
    // pino JSON logs for requests, at the app's level
    loggerInstance: app.log as FastifyBaseLogger,
    // one log line per request would dominate at ingest rates; STOREFLOW_LOG_REQUESTS=1 turns them on
    logController: new LogController({ disableRequestLogging: process.env.STOREFLOW_LOG_REQUESTS !== '1' }),
    return503OnClosing: true,
    // tracking and unsubscribe tokens are signed payloads (a click token carries its URL), far
    // longer than Fastify's default 100-character limit on a path parameter, which answers 414
    routerOptions: { maxParamLength: 8192 },
  })
  registerErrorHandler(server)

  // workflows may be posted as YAML; forms (unsubscribe one-click) as urlencoded
  server.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body))
  server.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string' }, (_req, body, done) => done(null, body))

  // rate limits and the refused-signature tally live as long as the server; closing it writes the tally
  const guards = createIngestGuards(app)
  server.addHook('onClose', async () => guards.close())

  registerHealthRoutes(server, app)
  registerEventRoutes(server, app, guards)
  registerWorkflowRoutes(server, app)
  registerRunRoutes(server, app)
  registerStoreViewRoutes(server, app)
  registerMessageTemplateRoutes(server, app)
  registerTrackingRoutes(server, app)
  registerWebhookRoutes(server, app, guards)
  registerOpenApi(server)
  for (const plugin of options.plugins ?? []) await plugin(server, app)
  registerDashboard(server, app)
  await server.ready()
  return server
}
