import type { FastifyInstance } from 'fastify'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import type { WorkflowTestRequest } from '../../services/simulate.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

/** A workflow arrives as YAML/JSON text (text/yaml, text/plain) or as a JSON object. */
function sourceOf(body: unknown): string {
  if (typeof body === 'string') return body
  if (body && typeof body === 'object') return JSON.stringify(body, null, 2)
  throw new UserError('body: send the workflow as YAML (Content-Type: application/yaml) or JSON', { code: 'validation_failed' })
}

function summary(w: { id: string; name: string; version: number; active: boolean; trigger: unknown; created_at: string; updated_at: string }) {
  return { id: w.id, name: w.name, version: w.version, active: w.active, trigger: w.trigger, created_at: w.created_at, updated_at: w.updated_at }
}

const TEST_FIELDS = ['event', 'event_id', 'version', 'at']
const invalid = (field: string, message: string) => new UserError(`${field}: ${message}`, { code: 'validation_failed', details: { field } })

/** The body of POST /api/v1/workflows/:id/test, checked field by field. */
function testRequest(body: unknown): WorkflowTestRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw invalid('body', 'send a JSON object { "event": {…} } or { "event_id": "…" } with Content-Type: application/json')
  const b = body as Record<string, unknown>
  const unknown = Object.keys(b).find((k) => !TEST_FIELDS.includes(k))
  if (unknown !== undefined) throw invalid(unknown, `unknown field; expected ${TEST_FIELDS.join(', ')}`)
  const hasEvent = b.event !== undefined && b.event !== null
  const hasId = b.event_id !== undefined && b.event_id !== null
  if (!hasEvent && !hasId) throw invalid('event', "required: an event to simulate, or event_id naming one of the store's events")
  if (hasEvent && hasId) throw invalid('event_id', 'send either event or event_id, not both')
  if (hasEvent && (typeof b.event !== 'object' || Array.isArray(b.event))) throw invalid('event', 'must be an event object { id, type, occurred_at, data }')
  if (hasId && (typeof b.event_id !== 'string' || b.event_id === '')) throw invalid('event_id', 'must be a non-empty string')
  if (b.version !== undefined && (typeof b.version !== 'number' || !Number.isInteger(b.version) || b.version < 1))
    throw invalid('version', 'must be a positive integer')
  if (b.at !== undefined && typeof b.at !== 'string') throw invalid('at', 'must be an ISO-8601 time like 2026-03-02T10:00:00Z')
  return {
    ...(hasEvent ? { event: b.event } : { eventId: b.event_id as string }),
    ...(b.version !== undefined ? { version: b.version as number } : {}),
    ...(b.at !== undefined ? { at: b.at as string } : {}),
  }
}

export function registerWorkflowRoutes(server: FastifyInstance, app: App): void {
  const { workflows } = app.services
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/workflows', { preHandler: read }, async (request) => {
    const page = await workflows.page(request.storeId, pageRequest(request.query))
    return { items: page.items.map(summary), next_cursor: page.next_cursor }
  })

  server.post('/api/v1/workflows', { preHandler: admin }, async (request, reply) => {
    const source = sourceOf(request.body)
    const { summary: saved, created } = await workflows.save(request.storeId, workflows.parse(source), source, request.actor)
    return reply.status(created ? 201 : 200).send(summary(saved))
  })

  server.put<{ Params: { id: string } }>('/api/v1/workflows/:id', { preHandler: admin }, async (request) => {
    const source = sourceOf(request.body)
    const parsed = workflows.parse(source)
    if (parsed.file.id !== request.params.id)
      throw new UserError(`id: the file says "${parsed.file.id}" but the URL says "${request.params.id}"`, {
        code: 'validation_failed',
        details: { field: 'id' },
      })
    return summary((await workflows.save(request.storeId, parsed, source, request.actor)).summary)
  })

  server.get<{ Params: { id: string }; Querystring: { version?: string } }>('/api/v1/workflows/:id', { preHandler: read }, async (request) => {
    const version = request.query.version ? Number(request.query.version) : undefined
    const wf = await workflows.get(request.storeId, request.params.id, version)
    return { ...summary(wf), versions: wf.versions, definition: wf.definition, source: wf.source }
  })

  server.get<{ Params: { id: string }; Querystring: { format?: string; version?: string } }>(
    '/api/v1/workflows/:id/export',
    { preHandler: read },
    async (request, reply) => {
      const format = request.query.format === 'json' ? 'json' : 'yaml'
      const file = await workflows.export(request.storeId, request.params.id, format, request.query.version ? Number(request.query.version) : undefined)
      return reply.type(format === 'json' ? 'application/json' : 'application/yaml').send(file)
    },
  )

  server.post<{ Params: { id: string } }>('/api/v1/workflows/:id/activate', { preHandler: admin }, async (request) =>
    summary(await workflows.setActive(request.storeId, request.params.id, true, request.actor)),
  )
  server.post<{ Params: { id: string } }>('/api/v1/workflows/:id/deactivate', { preHandler: admin }, async (request) =>
    summary(await workflows.setActive(request.storeId, request.params.id, false, request.actor)),
  )
  // simulate one event through the stored workflow on a virtual clock: nothing stored, nothing sent
  server.post<{ Params: { id: string } }>('/api/v1/workflows/:id/test', { preHandler: admin }, async (request) => {
    const sim = await app.services.simulation.test(request.storeId, request.params.id, testRequest(request.body))
    return {
      started: sim.started,
      run_status: sim.runStatus,
      reason: sim.reason,
      steps: sim.steps.map((s) => ({ id: s.id, type: s.type, status: s.status, at: s.at, note: s.note, output: s.output })),
      messages: sim.messages,
    }
  })
  // replay the store's stored events of a period through the workflow (storeflow backtest): nothing stored, nothing sent
  server.post<{ Params: { id: string } }>('/api/v1/workflows/:id/backtest', { preHandler: admin }, async (request) =>
    app.services.backtest.fromRequest(request.storeId, request.params.id, request.body),
  )
  server.delete<{ Params: { id: string } }>('/api/v1/workflows/:id', { preHandler: admin }, async (request, reply) => {
    await workflows.delete(request.storeId, request.params.id, request.actor)
    return reply.status(204).send()
  })
}
