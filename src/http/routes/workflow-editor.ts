import type { FastifyInstance } from 'fastify'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import type { ExpressionKind } from '../../services/workflow-editor.ts'
import { requireScope } from '../auth.ts'

const invalid = (field: string, message: string) => new UserError(`${field}: ${message}`, { code: 'validation_failed', details: { field } })

function objectBody(body: unknown, fields: string[]): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('body', 'send a JSON object with Content-Type: application/json')
  const b = body as Record<string, unknown>
  const unknown = Object.keys(b).find((k) => !fields.includes(k))
  if (unknown !== undefined) throw invalid(unknown, `unknown field; expected ${fields.join(', ')}`)
  return b
}

function stringField(b: Record<string, unknown>, field: string): string {
  const v = b[field]
  if (v === undefined || v === null) throw invalid(field, 'required')
  if (typeof v !== 'string') throw invalid(field, 'must be a string')
  return v
}

/**
 * What the dashboard's workflow editor asks as someone types: nothing read from or written to a
 * store, so a read key is enough (the answers are the same for every store).
 */
export function registerWorkflowEditorRoutes(server: FastifyInstance, app: App): void {
  const editor = app.services.workflowEditor
  const read = requireScope(app.services.keys, 'read')

  server.post('/api/v1/workflows/validate', { preHandler: read }, async (request) => {
    const b = objectBody(request.body, ['source'])
    return editor.validate(stringField(b, 'source'))
  })

  server.post('/api/v1/expressions/check', { preHandler: read }, async (request) => {
    const b = objectBody(request.body, ['kind', 'source'])
    const kind = stringField(b, 'kind')
    if (kind !== 'cel' && kind !== 'liquid') throw invalid('kind', 'must be "cel" or "liquid"')
    return editor.check(kind as ExpressionKind, stringField(b, 'source'))
  })

  server.get('/api/v1/actions', { preHandler: read }, async () => ({ items: editor.catalog() }))
}
