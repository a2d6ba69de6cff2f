import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

export function registerStoreViewRoutes(server: FastifyInstance, app: App): void {
  const { storeView } = app.services
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  // :id is the shop's customer id; storeflow's key (cus_…) and the email work too
  server.get<{ Params: { id: string } }>('/api/v1/customers/:id', { preHandler: read }, async (request) =>
    storeView.customer(request.storeId, request.params.id),
  )

  server.get<{ Params: { id: string }; Querystring: { limit?: string } }>('/api/v1/customers/:id/recommendations', { preHandler: read }, async (request) =>
    app.services.recommendations.forCustomer(request.storeId, request.params.id, request.query.limit),
  )

  server.get<{ Querystring: { status?: string; channel?: string; customer?: string; limit?: string; cursor?: string } }>(
    '/api/v1/messages',
    { preHandler: read },
    async (request) => {
      const { status, channel, customer } = request.query
      return storeView.messages(request.storeId, { status, channel, customer }, pageRequest(request.query))
    },
  )

  server.get('/api/v1/settings', { preHandler: read }, async (request) => storeView.settings(request.storeId))
  server.put('/api/v1/settings', { preHandler: admin }, async (request) => storeView.updateSettings(request.storeId, request.body, request.actor))
}

export function registerMessageTemplateRoutes(server: FastifyInstance, app: App): void {
  const { storeView } = app.services
  server.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/api/v1/message-templates',
    { preHandler: requireScope(app.services.keys, 'read') },
    async (request) => storeView.messageTemplates(request.storeId, pageRequest(request.query)),
  )
  server.put<{ Params: { name: string } }>('/api/v1/message-templates/:name', { preHandler: requireScope(app.services.keys, 'admin') }, async (request) =>
    storeView.saveMessageTemplate(request.storeId, request.params.name, request.body),
  )
}
