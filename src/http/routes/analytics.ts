import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import type { AnalyticsQuery } from '../../services/analytics.ts'
import { requireScope } from '../auth.ts'

/** Insight: a workflow's figures, holdout and variants; the store's overview (docs/insight.md). */
export function registerAnalyticsRoutes(server: FastifyInstance, app: App): void {
  const { analytics } = app.services
  const read = requireScope(app.services.keys, 'read')

  server.get<{ Params: { id: string }; Querystring: AnalyticsQuery }>('/api/v1/analytics/workflows/:id', { preHandler: read }, async (request) =>
    analytics.workflow(request.storeId, request.params.id, request.query),
  )
  server.get<{ Querystring: AnalyticsQuery }>('/api/v1/analytics/overview', { preHandler: read }, async (request) =>
    analytics.overview(request.storeId, request.query),
  )
}
