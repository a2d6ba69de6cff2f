import type { FastifyInstance, FastifyRequest } from 'fastify'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import type { IngestGuards } from '../../services/ingest-guards.ts'
import { requireScope } from '../auth.ts'

/**
 * Integrations (credentials of the remote services actions call: shippo, buffer, meta_ads) and
 * Shippo's tracking webhook `POST /webhooks/shippo/:store?token=<webhook_token>`.
 */
export function registerRemoteRoutes(server: FastifyInstance, app: App, guards: IngestGuards): void {
  const admin = requireScope(app.services.keys, 'admin')
  const remote = app.services.remote
  server.get('/api/v1/integrations', { preHandler: admin }, async (request) => ({ items: await remote.list(request.storeId), next_cursor: null }))
  server.put<{ Params: { kind: string } }>('/api/v1/integrations/:kind', { preHandler: admin }, async (request) =>
    remote.put(request.storeId, request.params.kind, request.body, request.actor),
  )
  server.delete<{ Params: { kind: string } }>('/api/v1/integrations/:kind', { preHandler: admin }, async (request, reply) => {
    await remote.remove(request.storeId, request.params.kind, request.actor)
    return reply.status(204).send()
  })
  // the token in the URL is Shippo's only credential: a request log line (STOREFLOW_LOG_REQUESTS=1) shows the URL without it
  const logSerializers = {
    req: (req: FastifyRequest) => ({
      method: req.method,
      url: req.url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]'),
      host: req.host,
      remoteAddress: req.ip,
    }),
  }
  server.post<{ Params: { store: string }; Querystring: { token?: string } }>('/webhooks/shippo/:store', { logSerializers }, async (request, reply) => {
    const store = request.params.store
    // the store's webhook budget (STOREFLOW_INGEST_RATE_LIMIT), spent only once the token matched
    const admit = () => {
      const wait = guards.rate?.forStore(store) ?? null
      if (wait === null) return
      reply.header('retry-after', String(wait))
      throw new UserError(
        `rate limited: store "${store}" takes ${guards.rate!.describe('webhook deliveries')} (STOREFLOW_INGEST_RATE_LIMIT); retry in ${wait}s`,
        {
          code: 'rate_limited',
          details: { retry_after: wait },
        },
      )
    }
    return remote.shippoWebhook(store, request.query.token, request.body, admit)
  })
}
