import type { FastifyInstance } from 'fastify'
import type { App } from '../main.ts'

/**
 * The dashboard's place. Until the React dashboard lands (README.md, Status), `/` shows what the
 * server is and where the API is, rather than a 404.
 */
export function registerDashboard(server: FastifyInstance, app: App): void {
  server.get('/', async (_request, reply) => {
    return reply
      .type('text/html')
      .send(`<!doctype html><html><head><meta charset="utf-8"><title>storeflow</title><style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:.1rem .3rem}</style></head><body>
<h1>storeflow</h1><p>The engine is running on <code>${app.services.dashboard.databaseDialect()}</code>.</p>
<ul><li>API: <code>/api/v1</code> (bearer API key; <code>storeflow keys create</code>)</li><li>OpenAPI: <a href="/api/openapi.json">/api/openapi.json</a></li><li>Health: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li></ul>
<p>The visual dashboard is not built yet; use the API and the CLI.</p></body></html>`)
  })
}
