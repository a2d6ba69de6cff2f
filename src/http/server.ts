import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import type { App } from '../main.ts'
import { NUL, NUL_MESSAGE } from '../contracts/limits.ts'
import { UserError } from '../lib/errors.ts'
import type { IngestGuards } from '../services/ingest-guards.ts'
import { registerErrorHandler } from './errors.ts'
import { registerDiscountCodeRoutes } from './routes/discount-codes.ts'
import { registerEventRoutes } from './routes/events.ts'
import { registerFormRoutes } from './routes/forms.ts'
import { registerHealthRoutes } from './routes/health.ts'
import { registerRunRoutes } from './routes/runs.ts'
import { registerSegmentRoutes } from './routes/segments.ts'
import { registerInventoryRoutes } from './routes/inventory.ts'
import { registerMessageTemplateRoutes, registerStoreViewRoutes } from './routes/store-view.ts'
import { registerInvoiceRoutes } from './routes/invoices.ts'
import { registerPurchasingRoutes } from './routes/purchasing.ts'
import { registerTrackingRoutes } from './routes/tracking.ts'
import { registerWorkflowRoutes } from './routes/workflows.ts'
import { registerTemplateRoutes } from './routes/templates.ts'
import { registerWorkflowEditorRoutes } from './routes/workflow-editor.ts'
import { registerWebhookRoutes } from './routes/webhooks.ts'
import { registerRemoteRoutes } from './routes/remote.ts'
import { registerAuthRoutes } from './routes/auth.ts'
import { registerAuditLogRoutes } from './routes/audit-log.ts'
import { registerStoreAdminRoutes } from './routes/store-admin.ts'
import { registerAnalyticsRoutes } from './routes/analytics.ts'
import { registerOpenApi } from './openapi.ts'
import { registerDashboard } from './dashboard.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** the server's ingest rate limits and refused-signature tally */
    ingestGuards: IngestGuards
  }
}

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
    // behind a trusted proxy (STOREFLOW_TRUST_PROXY=1) request.protocol, .ip and .host follow X-Forwarded-*
    trustProxy: app.config.trustProxy === true,
    // tracking and unsubscribe tokens are signed payloads (a click token carries its URL), far
    // longer than Fastify's default 100-character limit on a path parameter, which answers 414
    routerOptions: { maxParamLength: 8192 },
    // errors Fastify raises before a route runs (a URL that is not valid percent-encoding, an
    // unsupported media type) answer in the API's own error shape, like every other 4xx
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
      const message = error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoded UTF-8' : error.message
      // the reply's generic types follow the route, and there is none yet
      void (reply as unknown as FastifyReply).status(status).send({ error: { code: 'bad_request', message, details: null } })
    },
  })
  registerErrorHandler(server)

  // workflows may be posted as YAML; forms (unsubscribe one-click) as urlencoded
  server.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  )
  server.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string' }, (_req, body, done) => done(null, body))

  // JSON as Fastify parses it (a `__proto__` key, or `constructor` holding `prototype`, refused),
  // but such a refusal says which object held the key rather than that the body is not JSON
  const fastifyJson = server.getDefaultJsonParser('error', 'error')
  server.removeContentTypeParser('application/json')
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    fastifyJson(request, body as string, (err, value) => {
      if (!err) return done(null, value)
      const where = prototypeKeyAt(String(body))
      if (where === null) return done(err, undefined)
      done(Object.assign(new Error(`${where.path}: a key "${where.key}" is refused (it could change how objects behave)`), { statusCode: 400 }), undefined)
    }),
  )

  // PostgreSQL refuses the NUL character in text (22021): a path or query parameter holding one is
  // refused here, for every route, before any handler puts it in a query
  server.addHook('onRequest', async (request) => {
    for (const [where, values] of [
      ['path parameter', request.params],
      ['query parameter', request.query],
    ] as const) {
      for (const [name, value] of Object.entries((values ?? {}) as Record<string, unknown>)) {
        // no route takes a list in its query: a repeated parameter is the client's mistake
        if (Array.isArray(value)) throw new UserError(`${where} ${name} is given more than once`, { code: 'validation_failed' })
        if (typeof value === 'string' && value.includes(NUL)) {
          throw new UserError(`${where} ${name} ${NUL_MESSAGE}`, { code: 'validation_failed' })
        }
      }
    }
  })
  // and so is a body holding one, or nested deeper than any route takes (a recursive step of a
  // handler, JSON.stringify included, would overflow its stack), whatever the route does with it
  server.addHook('preValidation', async (request) => {
    // the events API walks its body once itself, with the ingest limits (NUL included): not twice
    if ((request.routeOptions.config as { checksOwnBody?: boolean } | undefined)?.checksOwnBody) return
    const problem = bodyProblem(request.body)
    if (problem !== null) {
      throw new UserError(`${problem.path}: ${problem.message}`, { code: 'validation_failed', details: { issues: [problem] } })
    }
  })

  // rate limits and the refused-signature tally live as long as the server; closing it writes the tally
  const guards = app.services.ingestGuards.open()
  server.addHook('onClose', async () => guards.close())
  // reachable from outside so a test (or a plugin) can write the tally when it needs to, not a minute later
  server.decorate('ingestGuards', guards)

  registerAuthRoutes(server, app)
  registerHealthRoutes(server, app)
  registerEventRoutes(server, app, guards)
  registerWorkflowRoutes(server, app)
  registerTemplateRoutes(server, app)
  registerWorkflowEditorRoutes(server, app)
  registerRunRoutes(server, app)
  registerStoreViewRoutes(server, app)
  registerInvoiceRoutes(server, app)
  registerPurchasingRoutes(server, app)
  registerSegmentRoutes(server, app)
  registerInventoryRoutes(server, app)
  registerMessageTemplateRoutes(server, app)
  registerDiscountCodeRoutes(server, app)
  registerTrackingRoutes(server, app)
  registerWebhookRoutes(server, app, guards)
  registerFormRoutes(server, app)
  registerRemoteRoutes(server, app, guards)
  registerAuditLogRoutes(server, app)
  registerStoreAdminRoutes(server, app)
  registerAnalyticsRoutes(server, app)
  registerOpenApi(server)
  for (const plugin of options.plugins ?? []) await plugin(server, app)
  registerDashboard(server, app)
  await server.ready()
  return server
}

/** A JSON body nested deeper than this is refused on every route; events have their own, lower limit. */
const BODY_DEPTH_LIMIT = 64

/** The first NUL character or excess nesting in a parsed body, with its path (`a.b[2]`; `body` for the whole), or null. */
function bodyProblem(body: unknown): { path: string; message: string } | null {
  if (Buffer.isBuffer(body)) return body.includes(0) ? { path: 'body', message: NUL_MESSAGE } : null
  const stack: Array<[unknown, string, number]> = [[body, '', 0]]
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!
    if (typeof value === 'string') {
      if (value.includes(NUL)) return { path: path || 'body', message: NUL_MESSAGE }
      continue
    }
    if (value === null || typeof value !== 'object') continue
    if (depth >= BODY_DEPTH_LIMIT) return { path: path || 'body', message: `nested deeper than the body depth limit of ${BODY_DEPTH_LIMIT} levels` }
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) stack.push([item, `${path}[${i}]`, depth + 1])
      continue
    }
    for (const [key, item] of Object.entries(value)) {
      const here = path === '' ? key : `${path}.${key}`
      if (key.includes(NUL)) return { path: here, message: `a key ${NUL_MESSAGE}` }
      stack.push([item, here, depth + 1])
    }
  }
  return null
}

/** The most of a path a prototype-key refusal shows. */
const PATH_SHOWN = 200

/**
 * Where a JSON text has a `__proto__` key or a `constructor` holding `prototype` (what Fastify's
 * parser refuses), as a field path (`body`, `data`, `events[0].data.customer`), or null when it has
 * none within BODY_DEPTH_LIMIT levels (or is no JSON at all). JSON.parse makes such keys plain own
 * properties, so they can be looked at. It runs before any key is checked, on up to a body limit of
 * text: each value is visited once, a path is kept as a link to its parent's and spelt out only
 * for the one reported (cut to PATH_SHOWN characters), and nothing deeper than the limit is walked.
 */
function prototypeKeyAt(text: string): { path: string; key: string } | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  const links: Array<{ parent: number; step: string }> = []
  const spelt = (at: number): string => {
    const steps: string[] = []
    for (let i = at; i >= 0; i = links[i]!.parent) steps.push(links[i]!.step)
    const path = steps.reverse().join('').replace(/^\./, '')
    return path === '' ? 'body' : path.length > PATH_SHOWN ? `${path.slice(0, PATH_SHOWN)}…` : path
  }
  const stack: Array<{ node: unknown; link: number; depth: number }> = [{ node: value, link: -1, depth: 1 }]
  while (stack.length > 0) {
    const { node, link, depth } = stack.pop()!
    if (node === null || typeof node !== 'object' || depth > BODY_DEPTH_LIMIT) continue
    const child = (step: string, item: unknown) => {
      links.push({ parent: link, step })
      stack.push({ node: item, link: links.length - 1, depth: depth + 1 })
    }
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) if (item !== null && typeof item === 'object') child(`[${i}]`, item)
      continue
    }
    const own = node as Record<string, unknown>
    if (Object.hasOwn(own, '__proto__')) return { path: link < 0 ? 'body' : spelt(link), key: '__proto__' }
    const ctor = own.constructor
    if (Object.hasOwn(own, 'constructor') && ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype'))
      return { path: link < 0 ? 'body' : spelt(link), key: 'constructor' }
    for (const [k, v] of Object.entries(own)) if (v !== null && typeof v === 'object') child(`.${k}`, v)
  }
  return null
}
