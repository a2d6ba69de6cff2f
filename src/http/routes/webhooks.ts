import type { FastifyInstance } from 'fastify'
import { isPlatform, PLATFORMS } from '../../connectors/registry.ts'
import type { Platform } from '../../connectors/types.ts'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { createConnector, getConnector, listConnectors, removeConnector, updateConnector, type ConnectorInput } from '../../store/connectors.repo.ts'
import { connectorHealth, deliverySummary, getDelivery, listDeliveries } from '../../store/deliveries.repo.ts'
import { eraseCustomer, exportCustomer } from '../../store/privacy.ts'
import { decodeCursor, encodeCursor } from '../../store/runs.repo.ts'
import { requireScope } from '../auth.ts'
import { parseLimit, pageOf } from '../pagination.ts'
import type { IngestGuards } from '../ingest-guards.ts'
import { receiveWebhook, replayDelivery } from '../webhook-pipeline.ts'

/**
 * Webhooks from shops (`POST /webhooks/<platform>/:store`) and the admin API for connectors,
 * deliveries and customers' privacy requests (issue 4).
 */
export function registerWebhookRoutes(server: FastifyInstance, app: App, guards: IngestGuards): void {
  // Signatures are over the raw bytes: in this encapsulated context every body, whatever its
  // content type (JSON, WooCommerce's form-encoded ping, none), arrives as an unparsed Buffer.
  void server.register(async (child) => {
    child.removeAllContentTypeParsers()
    child.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    // an empty Content-Type header is still a delivery to verify, not a 415
    child.addHook('onRequest', async (request) => {
      if (request.headers['content-type'] === '') delete request.headers['content-type']
    })
    for (const platform of PLATFORMS) {
      child.post<{ Params: { store: string } }>(`/webhooks/${platform}/:store`, async (request, reply) => {
        const headers: Record<string, string | undefined> = {}
        for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
        const res = await receiveWebhook(app, platform, request.params.store, { headers, rawBody, receivedAt: app.clock.now() }, guards)
        if (res.headers) void reply.headers(res.headers)
        return reply.status(res.status).send(res.body)
      })
    }
  })

  const db = app.handle.db
  const admin = requireScope(db, 'admin')
  const secretKey = app.config.secretKey

  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/connectors', { preHandler: admin }, async (request) => pageOf(await listConnectors(db, secretKey, request.storeId), (c) => c.id, request.query))

  server.post('/api/v1/connectors', { preHandler: admin }, async (request, reply) => {
    const input = connectorInput(request.body)
    if (!isPlatform(String(input.platform))) throw new UserError(`platform: must be one of ${PLATFORMS.join(', ')}`, { code: 'validation_failed', details: { field: 'platform' } })
    const created = await createConnector(db, secretKey, request.storeId, input as ConnectorInput, app.clock.now())
    return reply.status(201).send(created)
  })

  // secrets rotation: PATCH { secrets: [old, new] }, later { secrets: [new] }
  server.patch<{ Params: { id: string } }>('/api/v1/connectors/:id', { preHandler: admin }, async (request) => {
    const input = connectorInput(request.body, true)
    return updateConnector(db, secretKey, request.storeId, request.params.id, input, app.clock.now())
  })

  server.get<{ Params: { id: string } }>('/api/v1/connectors/:id', { preHandler: admin }, async (request) => getConnector(db, secretKey, request.storeId, request.params.id))

  server.delete<{ Params: { id: string } }>('/api/v1/connectors/:id', { preHandler: admin }, async (request, reply) => {
    await removeConnector(db, request.storeId, request.params.id)
    guards.signatureFailures.forget(request.params.id)
    return reply.status(204).send()
  })

  server.get<{ Params: { id: string } }>('/api/v1/connectors/:id/health', { preHandler: admin }, async (request) => {
    await getConnector(db, secretKey, request.storeId, request.params.id)
    const now = app.clock.now()
    // same window as connectorHealth: the current hour and the 24 before it
    return guards.signatureFailures.addPending(await connectorHealth(db, request.params.id, now), new Date(now.getTime() - 24 * 3600_000))
  })

  server.get<{ Querystring: { connector?: string; status?: string; limit?: string; cursor?: string } }>('/api/v1/deliveries', { preHandler: admin }, async (request) => {
    const { connector, status, cursor } = request.query
    if (cursor) decodeCursor(cursor)
    const page = await listDeliveries(db, request.storeId, { ...(connector ? { connector } : {}), ...(status ? { status } : {}), ...(cursor ? { cursor } : {}), limit: parseLimit(request.query.limit) })
    return { items: page.items.map(deliverySummary), next_cursor: page.next_cursor }
  })

  server.get<{ Params: { id: string } }>('/api/v1/deliveries/:id', { preHandler: admin }, async (request) => {
    const d = await getDelivery(db, request.storeId, request.params.id)
    return { ...deliverySummary(d), headers: d.headers, body: d.body, result: d.result }
  })

  server.post<{ Params: { id: string } }>('/api/v1/deliveries/:id/replay', { preHandler: admin }, async (request) => replayDelivery(app, request.storeId, request.params.id))

  server.get<{ Params: { id: string } }>('/api/v1/customers/:id/export', { preHandler: admin }, async (request) => exportCustomer(db, request.storeId, request.params.id, app.clock.now()))

  server.post<{ Params: { id: string } }>('/api/v1/customers/:id/erase', { preHandler: admin }, async (request) => {
    const result = await eraseCustomer(db, request.storeId, request.params.id, app.clock.now(), app.handle.dialect)
    if (!result.found) throw new UserError(`customer "${request.params.id}" not found in store "${request.storeId}"`, { code: 'not_found' })
    return { erased: true, ...result }
  })

  // exports produced by Shopify's customers/data_request, kept 30 days
  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/privacy-exports', { preHandler: admin }, async (request) => {
    const limit = parseLimit(request.query.limit)
    let q = db.selectFrom('privacy_exports').select(['id', 'customer_ref', 'delivery_id', 'created_at']).where('store_id', '=', request.storeId)
    if (request.query.cursor) {
      const [createdAt, id] = decodeCursor(request.query.cursor)
      q = q.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]))
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute()
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    return { items: page, next_cursor: rows.length > limit && last ? encodeCursor([last.created_at, last.id]) : null }
  })

  server.get<{ Params: { id: string } }>('/api/v1/privacy-exports/:id', { preHandler: admin }, async (request) => {
    const row = await db.selectFrom('privacy_exports').selectAll().where('store_id', '=', request.storeId).where('id', '=', request.params.id).executeTakeFirst()
    if (!row) throw new UserError(`privacy export "${request.params.id}" not found (exports are kept 30 days)`, { code: 'not_found' })
    return { id: row.id, customer_ref: row.customer_ref, delivery_id: row.delivery_id, created_at: row.created_at, data: JSON.parse(row.data) as unknown }
  })
}

function connectorInput(body: unknown, partial = false): Partial<ConnectorInput> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new UserError('body: must be a JSON object', { code: 'validation_failed' })
  const b = body as Record<string, unknown>
  const out: Partial<ConnectorInput> = {}
  const optStr = (field: string): string | null | undefined => {
    const v = b[field]
    if (v === undefined) return undefined
    if (v !== null && typeof v !== 'string') throw new UserError(`${field}: must be a string`, { code: 'validation_failed', details: { field } })
    return v
  }
  if (!partial || b['platform'] !== undefined) out.platform = String(b['platform'] ?? '') as Platform
  const secrets = b['secrets'] ?? (b['secret'] !== undefined ? [b['secret']] : undefined)
  if (secrets !== undefined) {
    if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== 'string')) throw new UserError('secrets: must be an array of 1 or 2 strings', { code: 'validation_failed', details: { field: 'secrets' } })
    out.secrets = secrets as string[]
  } else if (!partial) {
    throw new UserError('secrets: required (the webhook secret; 2 while rotating)', { code: 'validation_failed', details: { field: 'secrets' } })
  }
  const shop = optStr('shop_domain')
  const api = optStr('api_url')
  const token = optStr('access_token')
  if (shop !== undefined) out.shop_domain = shop
  if (api !== undefined) out.api_url = api
  if (token !== undefined) out.access_token = token
  return out
}
