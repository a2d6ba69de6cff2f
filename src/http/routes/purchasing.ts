import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

/** Suppliers and purchase orders (docs/http-api.md, Suppliers and purchase orders). */
export function registerPurchasingRoutes(server: FastifyInstance, app: App): void {
  const { suppliers, purchaseOrders } = app.services
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  server.post('/api/v1/suppliers', { preHandler: admin }, async (request, reply) => {
    const { supplier, created } = await suppliers.upsert(request.storeId, request.body)
    return reply.code(created ? 201 : 200).send(supplier)
  })
  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/suppliers', { preHandler: read }, async (request) =>
    suppliers.list(request.storeId, pageRequest(request.query)),
  )
  server.get<{ Params: { id: string } }>('/api/v1/suppliers/:id', { preHandler: read }, async (request) => suppliers.get(request.storeId, request.params.id))
  server.delete<{ Params: { id: string } }>('/api/v1/suppliers/:id', { preHandler: admin }, async (request, reply) => {
    await suppliers.remove(request.storeId, request.params.id)
    return reply.code(204).send()
  })

  server.get<{ Querystring: { status?: string; supplier?: string; limit?: string; cursor?: string } }>(
    '/api/v1/purchase-orders',
    { preHandler: read },
    async (request) => purchaseOrders.list(request.storeId, { status: request.query.status, supplier: request.query.supplier }, pageRequest(request.query)),
  )
  // :id is storeflow's id (po_…) or the number (PO-000042)
  server.get<{ Params: { id: string } }>('/api/v1/purchase-orders/:id', { preHandler: read }, async (request) =>
    purchaseOrders.get(request.storeId, request.params.id),
  )
  server.post<{ Params: { id: string } }>('/api/v1/purchase-orders/:id/send', { preHandler: admin }, async (request) =>
    purchaseOrders.send(request.storeId, request.params.id),
  )
  server.post<{ Params: { id: string } }>('/api/v1/purchase-orders/:id/receive', { preHandler: admin }, async (request) => {
    const key = request.headers['idempotency-key']
    return purchaseOrders.receive(request.storeId, request.params.id, request.body, Array.isArray(key) ? key[0] : key)
  })
}
