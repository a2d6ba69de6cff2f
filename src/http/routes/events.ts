import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MAX_EVENT_AHEAD_MS, parseEvent, type CanonicalEvent, type EventIssue } from '../../contracts/events.ts'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'
import type { IngestGuards } from '../../services/ingest-guards.ts'
import { pageRequest } from '../pagination.ts'

/** Most events one request may carry. */
const MAX_BATCH = 1000

export function registerEventRoutes(server: FastifyInstance, app: App, guards: IngestGuards): void {
  const { events: eventService } = app.services
  const ingestAuth = requireScope(app.services.keys, 'ingest')
  // after the key is known (an unknown key gets 401 and spends nothing), before the body is looked at
  const rate = guards.rate
  const preHandler =
    rate === null
      ? ingestAuth
      : [
          ingestAuth,
          async (request: FastifyRequest, reply: FastifyReply) => {
            const token = request.headers.authorization?.slice(7).trim() ?? ''
            const wait = rate.forApiKey(token)
            if (wait === null) return
            reply.header('retry-after', String(wait))
            throw new UserError(`rate limited: this API key may send ${rate.describe('ingest requests')} (STOREFLOW_INGEST_RATE_LIMIT); retry in ${wait}s`, {
              code: 'rate_limited',
              details: { retry_after: wait },
            })
          },
        ]

  // 202 { id, duplicate: false } for a new event, 200 { id, duplicate: true } for a repeat;
  // a batch answers 202 with one result per event. A batch is all-or-nothing: one bad event
  // rejects the request and stores none of it.
  server.post<{ Querystring: { history?: string } }>('/api/v1/events', { preHandler, config: { checksOwnBody: true } }, async (request, reply) => {
    const body = request.body as unknown
    const history = request.query.history
    if (history !== undefined && !['true', '1', 'false', '0'].includes(history))
      throw new UserError(`history: must be true or false (1 or 0), got ${JSON.stringify(history)}`, {
        code: 'validation_failed',
        details: { issues: [{ path: 'history', message: 'expected true or false' }] },
      })
    const historical = history === 'true' || history === '1'
    const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && Array.isArray((body as { events?: unknown }).events)
    const inputs: unknown[] = isBatch ? (body as { events: unknown[] }).events : [body]
    const contentType = request.headers['content-type'] ?? 'none'
    if (typeof body === 'string' && /^application\/([a-z.+-]*\+)?json\b/i.test(contentType)) {
      // JSON, but a string rather than an event
      throw new UserError('body: must be one event object or { "events": [...] }; got a JSON string', {
        code: 'validation_failed',
        details: { issues: [{ path: '', message: 'expected an object' }] },
      })
    }
    if (typeof body === 'string') {
      // text/plain, YAML and form bodies arrive as text (curl -d sends a form): say what to send
      throw new UserError(`body: events are JSON; send them with Content-Type: application/json (got ${contentType})`, {
        code: 'validation_failed',
        details: { issues: [{ path: '', message: 'expected Content-Type: application/json' }] },
      })
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new UserError('body: must be one event object or { "events": [...] }', {
        code: 'validation_failed',
        details: { issues: [{ path: '', message: 'expected an object' }] },
      })
    }
    if (!isBatch && 'events' in body)
      throw new UserError('events: must be an array of events', {
        code: 'validation_failed',
        details: { issues: [{ path: 'events', message: 'expected an array' }] },
      })
    if (inputs.length === 0)
      throw new UserError('events: the batch is empty', { code: 'validation_failed', details: { issues: [{ path: 'events', message: 'empty' }] } })
    if (inputs.length > MAX_BATCH)
      throw new UserError(`events: at most ${MAX_BATCH} events per request`, {
        code: 'validation_failed',
        details: { issues: [{ path: 'events', message: 'too many' }] },
      })

    const now = app.clock.now()
    const events: CanonicalEvent[] = []
    const issues: EventIssue[] = []
    inputs.forEach((input, i) => {
      const parsed = parseEvent(input, { store: request.storeId, now, maxAheadMs: MAX_EVENT_AHEAD_MS }, isBatch ? i : undefined)
      if (!parsed.ok) issues.push(...parsed.issues)
      else if (parsed.event.store !== request.storeId)
        issues.push({ path: `${isBatch ? `events[${i}].` : ''}store`, message: `this API key belongs to store "${request.storeId}"` })
      else events.push(parsed.event)
    })
    if (issues.length > 0) {
      const first = issues[0]!
      throw new UserError(`${first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, {
        code: 'validation_failed',
        details: { issues },
      })
    }
    const results = await eventService.ingest(events, { historical, source: 'api' })
    if (!isBatch) {
      const r = results[0]!
      return reply.status(r.duplicate ? 200 : 202).send({ id: r.id, duplicate: r.duplicate })
    }
    return reply.status(202).send({ items: results.map((r) => ({ id: r.id, duplicate: r.duplicate })) })
  })

  server.get<{ Querystring: { type?: string; customer?: string; limit?: string; cursor?: string } }>(
    '/api/v1/events',
    { preHandler: requireScope(app.services.keys, 'read') },
    async (request) => {
      const { type, customer } = request.query
      return eventService.list(request.storeId, { type, customer }, pageRequest(request.query))
    },
  )
}
