import type { FastifyInstance } from 'fastify'
import { parseWorkflow } from '../../core/workflow/parse.ts'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { deleteWorkflow, exportWorkflow, getWorkflow, listWorkflows, saveWorkflow, setWorkflowActive } from '../../store/workflows.repo.ts'
import { requireScope } from '../auth.ts'
import { pageOf } from '../pagination.ts'

/** A workflow arrives as YAML/JSON text (text/yaml, text/plain) or as a JSON object. */
function sourceOf(body: unknown): string {
  if (typeof body === 'string') return body
  if (body && typeof body === 'object') return JSON.stringify(body, null, 2)
  throw new UserError('body: send the workflow as YAML (Content-Type: application/yaml) or JSON', { code: 'validation_failed' })
}

function summary(w: { id: string; name: string; version: number; active: boolean; trigger: unknown; created_at: string; updated_at: string }) {
  return { id: w.id, name: w.name, version: w.version, active: w.active, trigger: w.trigger, created_at: w.created_at, updated_at: w.updated_at }
}

export function registerWorkflowRoutes(server: FastifyInstance, app: App): void {
  const db = app.handle.db
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')
  const parse = (source: string) => parseWorkflow(source, (t) => app.actions.get(t))

  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/workflows', { preHandler: read }, async (request) => pageOf((await listWorkflows(db, request.storeId)).map(summary), (w) => w.id, request.query))

  server.post('/api/v1/workflows', { preHandler: admin }, async (request, reply) => {
    const source = sourceOf(request.body)
    const { summary: saved, created } = await saveWorkflow(db, request.storeId, parse(source), source, app.clock.now())
    return reply.status(created ? 201 : 200).send(summary(saved))
  })

  server.put<{ Params: { id: string } }>('/api/v1/workflows/:id', { preHandler: admin }, async (request) => {
    const source = sourceOf(request.body)
    const parsed = parse(source)
    if (parsed.file.id !== request.params.id) throw new UserError(`id: the file says "${parsed.file.id}" but the URL says "${request.params.id}"`, { code: 'validation_failed', details: { field: 'id' } })
    return summary((await saveWorkflow(db, request.storeId, parsed, source, app.clock.now())).summary)
  })

  server.get<{ Params: { id: string }; Querystring: { version?: string } }>('/api/v1/workflows/:id', { preHandler: read }, async (request) => {
    const version = request.query.version ? Number(request.query.version) : undefined
    const wf = await getWorkflow(db, request.storeId, request.params.id, version)
    return { ...summary(wf), versions: wf.versions, definition: wf.definition, source: wf.source }
  })

  server.get<{ Params: { id: string }; Querystring: { format?: string; version?: string } }>('/api/v1/workflows/:id/export', { preHandler: read }, async (request, reply) => {
    const format = request.query.format === 'json' ? 'json' : 'yaml'
    const wf = await getWorkflow(db, request.storeId, request.params.id, request.query.version ? Number(request.query.version) : undefined)
    return reply.type(format === 'json' ? 'application/json' : 'application/yaml').send(exportWorkflow(wf, format))
  })

  server.post<{ Params: { id: string } }>('/api/v1/workflows/:id/activate', { preHandler: admin }, async (request) => summary(await setWorkflowActive(db, request.storeId, request.params.id, true, app.clock.now())))
  server.post<{ Params: { id: string } }>('/api/v1/workflows/:id/deactivate', { preHandler: admin }, async (request) => summary(await setWorkflowActive(db, request.storeId, request.params.id, false, app.clock.now())))
  server.delete<{ Params: { id: string } }>('/api/v1/workflows/:id', { preHandler: admin }, async (request, reply) => {
    await deleteWorkflow(db, request.storeId, request.params.id)
    return reply.status(204).send()
  })
}
