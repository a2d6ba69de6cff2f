import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { notInstallable } from '../../services/template-library.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

/** The built-in template library (templates/workflows/), as `storeflow templates list` and `install` show it. */
export function registerTemplateRoutes(server: FastifyInstance, app: App): void {
  const { workflows } = app.services
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/templates', { preHandler: read }, async (request) => {
    const page = workflows.templates(pageRequest({ ...request.query, limit: request.query.limit ?? '100' }))
    return {
      items: page.items.map((t) => {
        const reason = notInstallable(t)
        return { name: t.name, title: t.title, description: t.description, trigger: t.trigger, installable: reason === null, reason }
      }),
      next_cursor: page.next_cursor,
    }
  })

  // installs the template as the store's workflow of the same id: 201 new, 200 a new version or unchanged
  server.post<{ Params: { name: string } }>('/api/v1/templates/:name/install', { preHandler: admin }, async (request, reply) => {
    const { summary, created } = await workflows.installTemplate(request.storeId, request.params.name)
    return reply.status(created ? 201 : 200).send({
      id: summary.id,
      name: summary.name,
      version: summary.version,
      active: summary.active,
      trigger: summary.trigger,
      created_at: summary.created_at,
      updated_at: summary.updated_at,
    })
  })
}
