import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { eventEnvelopeSchema } from '../contracts/events.ts'
import { settingsSchema } from '../contracts/settings.ts'

const listOf = (item: object) => ({ type: 'object', properties: { items: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } } })
const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } } }

/** The OpenAPI document at /api/openapi.json; request shapes come from the same zod schemas that validate. */
export function registerOpenApi(server: FastifyInstance): void {
  const event = z.toJSONSchema(eventEnvelopeSchema, { io: 'input', unrepresentable: 'any' })
  const settings = z.toJSONSchema(settingsSchema.partial(), { unrepresentable: 'any' })
  const auth = [{ bearer: [] }]
  const ok = (description: string, schema: object = {}) => ({ description, content: { 'application/json': { schema } } })
  const doc = {
    openapi: '3.1.0',
    info: { title: 'storeflow API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { Event: event, Settings: settings, Error: error } },
    security: auth,
    paths: {
      '/api/v1/events': {
        post: { summary: 'Ingest one event or { events: [...] }', parameters: [{ name: 'history', in: 'query', schema: { type: 'boolean' } }], requestBody: { content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/Event' }, { type: 'object', properties: { events: { type: 'array', items: { $ref: '#/components/schemas/Event' } } } }] } } } }, responses: { 202: ok('accepted'), 200: ok('duplicate'), 400: ok('invalid', error), 401: ok('no key', error), 413: ok('too large', error) } },
        get: { summary: 'Stored events, newest first', parameters: ['type', 'customer', 'limit', 'cursor'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })), responses: { 200: ok('events', listOf({ type: 'object' })) } },
      },
      '/api/v1/workflows': { get: { summary: 'Workflows', responses: { 200: ok('list', listOf({ type: 'object' })) } }, post: { summary: 'Create or update from YAML/JSON', responses: { 201: ok('created'), 200: ok('unchanged or new version'), 400: ok('invalid, naming the line', error) } } },
      '/api/v1/workflows/{id}': { get: { summary: 'A workflow with its versions' }, put: { summary: 'Save a new version' }, delete: { summary: 'Delete' } },
      '/api/v1/workflows/{id}/export': { get: { summary: 'As YAML or JSON (?format=)' } },
      '/api/v1/workflows/{id}/activate': { post: { summary: 'Activate' } },
      '/api/v1/workflows/{id}/deactivate': { post: { summary: 'Deactivate' } },
      '/api/v1/runs': { get: { summary: 'Runs (?workflow=&status=&customer=)', responses: { 200: ok('runs', listOf({ type: 'object' })) } } },
      '/api/v1/runs/{id}': { get: { summary: 'A run with its step timeline' } },
      '/api/v1/runs/{id}/cancel': { post: { summary: 'Cancel a running or waiting run' } },
      '/api/v1/runs/{id}/retry': { post: { summary: 'Retry a failed run from its failed step' } },
      '/api/v1/customers/{id}': { get: { summary: "The store's view of a customer" } },
      '/api/v1/messages': { get: { summary: 'The outbox' } },
      '/api/v1/settings': { get: { summary: 'Store settings', responses: { 200: ok('settings', { $ref: '#/components/schemas/Settings' }) } }, put: { summary: 'Change the named keys' } },
      '/healthz': { get: { summary: 'Liveness', security: [] } },
      '/readyz': { get: { summary: 'Readiness (database answers)', security: [] } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [] } },
    },
  }
  server.get('/api/openapi.json', async () => doc)
}
