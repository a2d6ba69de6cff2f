import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'

/**
 * Integrations (credentials of the remote services actions call: shippo, buffer, meta_ads) and
 * Shippo's tracking webhook `POST /webhooks/shippo/:store?token=<webhook_token>`.
 */
export function registerRemoteRoutes(server: FastifyInstance, app: App): void {
  const admin = requireScope(app.services.keys, 'admin')
  const remote = app.services.remote
  server.get('/api/v1/integrations', { preHandler: admin }, async (request) => ({ items: await remote.list(request.storeId), next_cursor: null }))
  server.put<{ Params: { kind: string } }>('/api/v1/integrations/:kind', { preHandler: admin }, async (request) =>
    remote.put(request.storeId, request.params.kind, request.body),
  )
  server.delete<{ Params: { kind: string } }>('/api/v1/integrations/:kind', { preHandler: admin }, async (request, reply) => {
    await remote.remove(request.storeId, request.params.kind)
    return reply.status(204).send()
  })
  server.post<{ Params: { store: string }; Querystring: { token?: string } }>('/webhooks/shippo/:store', async (request) =>
    remote.shippoWebhook(request.params.store, request.query.token, request.body),
  )
}
