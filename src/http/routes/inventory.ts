import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import type { ForecastQuery } from '../../services/inventory.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

/** Inventory forecasts and reorder points (docs/http-api.md, Inventory). */
export function registerInventoryRoutes(server: FastifyInstance, app: App): void {
  const { inventory } = app.services
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  server.get<{ Querystring: ForecastQuery }>('/api/v1/inventory/forecast', { preHandler: read }, async (request) => {
    const query = request.query
    if (query.sku !== undefined) return inventory.forecast(request.storeId, query)
    return inventory.list(request.storeId, query, pageRequest(query))
  })
  server.put<{ Params: { sku: string } }>('/api/v1/inventory/:sku/reorder-point', { preHandler: admin }, async (request) =>
    inventory.setReorderPoint(request.storeId, request.params.sku, request.body),
  )
}
