import type { FastifyInstance } from 'fastify'
import { cancelRun, retryRun } from '../../engine/run-control.ts'
import type { App } from '../../main.ts'
import { getRun, listRuns } from '../../store/runs.repo.ts'
import { requireScope } from '../auth.ts'
import { parseLimit } from '../pagination.ts'

export function registerRunRoutes(server: FastifyInstance, app: App): void {
  const db = app.handle.db
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  server.get<{ Querystring: { workflow?: string; status?: string; customer?: string; cursor?: string; limit?: string } }>('/api/v1/runs', { preHandler: read }, async (request) => {
    const { workflow, status, customer, cursor } = request.query
    return listRuns(db, request.storeId, { workflow, status, customer, cursor, limit: parseLimit(request.query.limit) })
  })
  server.get<{ Params: { id: string } }>('/api/v1/runs/:id', { preHandler: read }, async (request) => getRun(db, request.storeId, request.params.id))
  server.post<{ Params: { id: string } }>('/api/v1/runs/:id/cancel', { preHandler: admin }, async (request) => {
    await cancelRun(app.engine.storage, app.clock, request.storeId, request.params.id)
    return getRun(db, request.storeId, request.params.id)
  })
  server.post<{ Params: { id: string } }>('/api/v1/runs/:id/retry', { preHandler: admin }, async (request) => {
    await retryRun(app.engine.storage, app.clock, app.engine.cache, request.storeId, request.params.id)
    return getRun(db, request.storeId, request.params.id)
  })
}
