import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

export function registerRunRoutes(server: FastifyInstance, app: App): void {
  const { runs } = app.services
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  server.get<{ Querystring: { workflow?: string; status?: string; customer?: string; cursor?: string; limit?: string } }>(
    '/api/v1/runs',
    { preHandler: read },
    async (request) => {
      const { workflow, status, customer } = request.query
      return runs.list(request.storeId, { workflow, status, customer }, pageRequest(request.query))
    },
  )
  server.get<{ Params: { id: string } }>('/api/v1/runs/:id', { preHandler: read }, async (request) => runs.get(request.storeId, request.params.id))
  server.post<{ Params: { id: string } }>('/api/v1/runs/:id/cancel', { preHandler: admin }, async (request) => runs.cancel(request.storeId, request.params.id))
  server.post<{ Params: { id: string } }>('/api/v1/runs/:id/retry', { preHandler: admin }, async (request) => runs.retry(request.storeId, request.params.id))
}
