import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** who a change is written as in the audit log: `key:<id>` once an API key is checked (auth.ts) */
    actor?: string
  }
}

/** GET /api/v1/audit-log: the store's admin changes, newest first (?action=&target=). */
export function registerAuditLogRoutes(server: FastifyInstance, app: App): void {
  const admin = requireScope(app.services.keys, 'admin')
  server.get<{ Querystring: { limit?: string; cursor?: string; action?: string; target?: string } }>(
    '/api/v1/audit-log',
    { preHandler: admin },
    async (request) =>
      app.services.auditLog.list(request.storeId, { ...pageRequest(request.query), action: request.query.action, target: request.query.target }),
  )
}
