import Fastify from 'fastify'
import { DEFAULT_SETTINGS } from '../../src/contracts/settings.ts'
import { registerOpenApi } from '../../src/http/openapi.ts'
import { descriptionOf, ShapeRenderer, type JsonSchema, type NamedShape } from './json-schema.ts'
import { anchor, byText, code, codeBlock, document, generatedBanner, table } from './markdown.ts'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

interface Operation {
  summary?: string
  security?: unknown[]
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: JsonSchema }>
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: JsonSchema }> }>
}

interface OpenApiDocument {
  info: { title: string; version: string }
  security?: unknown[]
  components?: { schemas?: Record<string, JsonSchema> }
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>
}

/** The document `storeflow serve` answers at /api/openapi.json, read the same way a client would. */
export async function servedOpenApi(): Promise<OpenApiDocument> {
  const server = Fastify({ logger: false })
  registerOpenApi(server)
  try {
    const response = await server.inject({ method: 'GET', url: '/api/openapi.json' })
    if (response.statusCode !== 200) throw new Error(`GET /api/openapi.json answered ${response.statusCode}`)
    return response.json() as OpenApiDocument
  } finally {
    await server.close()
  }
}

function isEmpty(schema: JsonSchema | undefined): boolean {
  return !schema || Object.keys(schema).length === 0
}

/** docs/http-api.md from the OpenAPI document. */
export async function httpApiDoc(): Promise<string> {
  const doc = await servedOpenApi()
  const schemas = doc.components?.schemas ?? {}
  const named: NamedShape[] = Object.entries(schemas).map(([name, schema]) => ({ name, anchor: anchor(name), schema }))
  const renderer = new ShapeRenderer(named)
  const needsKey = (op: Operation) => (op.security ?? doc.security ?? []).length > 0
  const typeOf = (schema: JsonSchema | undefined) => (isEmpty(schema) ? '' : renderer.inline(schema!))

  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method: method.toUpperCase(), path, op: item[method]! })),
  )
  const heading = (o: { method: string; path: string }) => `${o.method} ${o.path}`
  const detailed = (op: Operation) => (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined || op.responses !== undefined

  const details = operations
    .filter((o) => detailed(o.op))
    .map(({ method, path, op }) => {
      const parts = [`### ${heading({ method, path })}`, `${op.summary ?? ''}${op.summary ? '. ' : ''}${needsKey(op) ? 'Needs an API key.' : 'No key.'}`]
      if (op.parameters?.length) {
        parts.push(
          table(
            ['parameter', 'in', 'type', 'required', 'description'],
            op.parameters.map((p) => [code(p.name), p.in, typeOf(p.schema), p.required ? 'yes' : 'no', p.description ?? descriptionOf(p.schema ?? {})]),
          ),
        )
      }
      const body = op.requestBody?.content?.['application/json']?.schema
      if (body) parts.push(`Body (JSON): ${typeOf(body)}.`)
      if (op.responses) {
        parts.push(
          table(
            ['status', 'meaning', 'body'],
            Object.entries(op.responses)
              .sort(byText(([status]) => status))
              .map(([status, r]) => [status, r.description ?? '', typeOf(r.content?.['application/json']?.schema)]),
          ),
        )
      }
      return parts.join('\n\n')
    })

  return document([
    generatedBanner(['the OpenAPI document served at /api/openapi.json (src/http/openapi.ts)', 'the default settings in src/contracts/settings.ts']),
    '# HTTP API',
    `${doc.info.title}, version ${doc.info.version}. \`storeflow serve\` answers on http://127.0.0.1:3000 by default; the machine-readable form of this page is \`GET /api/openapi.json\`.`,
    'Conventions: JSON in and out. Requests under `/api/v1` carry `Authorization: Bearer KEY`, a key made with `storeflow keys create` and bound to one store; its scope is `ingest` (send events), `read` (read everything) or `admin` (all that `read` and `ingest` may, and changes). Lists answer `{ "items": [...], "next_cursor": "…" | null }` and take `?cursor=&limit=`. Errors answer `{ "error": { "code", "message", "details" } }`, the message naming the field or limit at fault. Times are ISO-8601 UTC.',
    '## Endpoints',
    table(
      ['method', 'path', 'key', 'does'],
      operations.map((o) => [
        o.method,
        detailed(o.op) ? `[${code(o.path)}](#${anchor(heading(o))})` : code(o.path),
        needsKey(o.op) ? 'yes' : 'no',
        o.op.summary ?? '',
      ]),
    ),
    details.length > 0 ? '## Details' : null,
    ...details,
    named.length > 0 ? '## Schemas' : null,
    ...named.map((shape) => renderer.section(shape.name, 3, shape.schema, shape.name)),
    named.some((shape) => shape.name === 'Settings')
      ? `A new store starts with these settings; \`PUT /api/v1/settings\` changes only the keys it names:\n\n${codeBlock(JSON.stringify(DEFAULT_SETTINGS, null, 2), 'json')}`
      : null,
  ])
}
