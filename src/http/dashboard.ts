import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { App } from '../main.ts'

/** Where `vite build` writes the dashboard (web/vite.config.ts): from src/http and from dist/http alike. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url))

/**
 * Paths the dashboard never answers for: the API, probes, tracking links, forms and webhooks. A GET
 * under one of them that no route took is a 404 in the API's shape, not the dashboard's page.
 */
const NOT_THE_DASHBOARD = new Set(['api', 'healthz', 'readyz', 'metrics', 't', 'u', 'forms', 'webhooks'])

/**
 * The page's policy: its own scripts only; no plugin, no framing of the dashboard. Styles may be
 * inline and images come from anywhere over https because the outbox preview shows a mail as the
 * customer sees it, in an `<iframe sandbox srcdoc>` (which inherits this policy and runs no script).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-cache')
}

/**
 * The dashboard (web/, a React app built by `npm install`): `index.html` at `/` and at every path
 * of the app (`/workflows/…`, `/runs/…`), its hashed files under `/assets/` cached for a year.
 * Without a build, `/` says how to make one.
 */
export function registerDashboard(server: FastifyInstance, app: App, webDir: string = WEB_DIST): void {
  const root = resolve(webDir)
  const assets = join(root, 'assets')

  const page = async (reply: FastifyReply) => {
    const html = await readFile(join(root, 'index.html'), 'utf8').catch(() => null)
    if (html === null) return secure(reply).status(200).type('text/html; charset=utf-8').send(notBuilt(app.services.dashboard.databaseDialect()))
    return secure(reply).type('text/html; charset=utf-8').send(html)
  }

  server.get('/', async (_request, reply) => page(reply))

  const asset = async (reply: FastifyReply, relative: string) => {
    const file = resolve(assets, relative)
    // `..` (plain or percent-encoded, Fastify has decoded it) never leaves the assets folder
    if (!file.startsWith(assets + sep)) return reply.callNotFound()
    const info = await stat(file).catch(() => null)
    if (!info?.isFile()) return reply.callNotFound()
    return reply
      .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
      .header('content-length', info.size)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(createReadStream(file))
  }

  // one route for the rest (a second wildcard, /assets/*, would hide from printRoutes and the route
  // inventory): the built files under /assets/, the app's own paths (it routes in the browser), and
  // under the API's prefixes a 404 in the API's shape
  server.get<{ Params: { '*': string } }>('/*', async (request, reply) => {
    const rest = request.params['*']
    const first = rest.split('/')[0] ?? ''
    if (first === 'assets') return asset(reply, rest.slice('assets/'.length))
    if (NOT_THE_DASHBOARD.has(first)) return reply.callNotFound()
    return page(reply)
  })
}

function notBuilt(dialect: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>storeflow</title></head><body style="font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#222">
<h1>storeflow</h1><p>The engine is running on <code>${dialect}</code>.</p>
<p>The dashboard is not built in this checkout. Build it with <code>npm run build:web</code> (or <code>npm install</code>, which builds it), then reload.</p>
<ul><li>API: <code>/api/v1</code> (bearer API key; <code>storeflow keys create</code>)</li><li>OpenAPI: <a href="/api/openapi.json">/api/openapi.json</a></li><li>Health: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li></ul>
</body></html>`
}
