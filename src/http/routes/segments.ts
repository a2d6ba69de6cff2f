import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

/** Segments (docs/http-api.md, Segments). */
export function registerSegmentRoutes(server: FastifyInstance, app: App): void {
  const { segments } = app.services
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/segments', { preHandler: read }, async (request) =>
    segments.list(request.storeId, pageRequest(request.query)),
  )
  server.post('/api/v1/segments', { preHandler: admin }, async (request, reply) => {
    const created = await segments.create(request.storeId, request.body)
    return reply.code(201).send(created)
  })
  server.post('/api/v1/segments/refresh', { preHandler: admin }, async (request) => segments.refresh(request.storeId))
  server.get<{ Params: { id: string }; Querystring: { limit?: string; cursor?: string } }>(
    '/api/v1/segments/:id/customers',
    { preHandler: read },
    async (request) => segments.customers(request.storeId, request.params.id, pageRequest(request.query)),
  )
  server.delete<{ Params: { id: string } }>('/api/v1/segments/:id', { preHandler: admin }, async (request, reply) => {
    await segments.remove(request.storeId, request.params.id)
    return reply.code(204).send()
  })
}
