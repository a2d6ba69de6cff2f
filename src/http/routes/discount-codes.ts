import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

export function registerDiscountCodeRoutes(server: FastifyInstance, app: App): void {
  const { discountCodes } = app.services
  server.get<{ Querystring: { workflow?: unknown; customer?: unknown; limit?: string; cursor?: string } }>(
    '/api/v1/discount-codes',
    { preHandler: requireScope(app.services.keys, 'read') },
    async (request) => discountCodes.list(request.storeId, request.query, pageRequest(request.query)),
  )
}
