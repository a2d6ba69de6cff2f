import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

export function registerInvoiceRoutes(server: FastifyInstance, app: App): void {
  const { invoices } = app.services
  const read = requireScope(app.services.keys, 'read')
  server.get<{ Querystring: { status?: string; customer?: string; limit?: string; cursor?: string } }>(
    '/api/v1/invoices',
    { preHandler: read },
    async (request) => invoices.list(request.storeId, { status: request.query.status, customer: request.query.customer }, pageRequest(request.query)),
  )
  // :id is storeflow's invoice id (inv_…) or its number (INV-000042)
  server.get<{ Params: { id: string } }>('/api/v1/invoices/:id', { preHandler: read }, async (request) => invoices.get(request.storeId, request.params.id))
}
