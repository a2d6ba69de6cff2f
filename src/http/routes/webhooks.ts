import type { FastifyInstance } from 'fastify'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { isPlatform, PLATFORMS, type ConnectorInput, type Platform } from '../../services/connectors.ts'
import type { IngestGuards } from '../../services/ingest-guards.ts'
import { requireScope } from '../auth.ts'
import { pageRequest, parseLimit } from '../pagination.ts'

/**
 * Webhooks from shops (`POST /webhooks/<platform>/:store`) and the admin API for connectors,
 * deliveries and customers' privacy requests.
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
        const res = await app.services.webhooks.receive(platform, request.params.store, { headers, rawBody, receivedAt: app.clock.now() }, guards)
        if (res.headers) void reply.headers(res.headers)
        return reply.status(res.status).send(res.body)
      })
    }
  })

  const { connectors, deliveries, privacy } = app.services
  const admin = requireScope(app.services.keys, 'admin')

  // webhook_url: what to paste into the shop, on STOREFLOW_PUBLIC_URL
  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/connectors', { preHandler: admin }, async (request) => {
    const page = await connectors.page(request.storeId, pageRequest(request.query))
    const base = app.config.publicUrl.replace(/\/+$/, '')
    return { ...page, items: page.items.map((c) => ({ ...c, webhook_url: `${base}/webhooks/${c.platform}/${encodeURIComponent(c.store)}` })) }
  })

  server.post('/api/v1/connectors', { preHandler: admin }, async (request, reply) => {
    const input = connectorInput(request.body)
    if (!isPlatform(String(input.platform)))
      throw new UserError(`platform: must be one of ${PLATFORMS.join(', ')}`, { code: 'validation_failed', details: { field: 'platform' } })
    const created = await connectors.add(request.storeId, input as ConnectorInput, request.actor)
    return reply.status(201).send(created)
  })

  // secrets rotation: PATCH { secrets: [old, new] }, later { secrets: [new] }
  server.patch<{ Params: { id: string } }>('/api/v1/connectors/:id', { preHandler: admin }, async (request) =>
    connectors.update(request.storeId, request.params.id, connectorInput(request.body, true), request.actor),
  )

  server.get<{ Params: { id: string } }>('/api/v1/connectors/:id', { preHandler: admin }, async (request) => connectors.get(request.storeId, request.params.id))

  server.delete<{ Params: { id: string } }>('/api/v1/connectors/:id', { preHandler: admin }, async (request, reply) => {
    await connectors.remove(request.storeId, request.params.id, request.actor)
    guards.signatureFailures.forget(request.params.id)
    return reply.status(204).send()
  })

  server.get<{ Params: { id: string } }>('/api/v1/connectors/:id/health', { preHandler: admin }, async (request) =>
    connectors.health(request.storeId, request.params.id, guards.signatureFailures),
  )

  server.get<{ Querystring: { connector?: string; status?: string; limit?: string; cursor?: string } }>(
    '/api/v1/deliveries',
    { preHandler: admin },
    async (request) => {
      const { connector, status, cursor } = request.query
      const page = await deliveries.list(request.storeId, {
        ...(connector ? { connector } : {}),
        ...(status ? { status } : {}),
        ...(cursor ? { cursor } : {}),
        limit: parseLimit(request.query.limit),
      })
      return { items: page.items.map(deliveries.summary), next_cursor: page.next_cursor }
    },
  )

  server.get<{ Params: { id: string } }>('/api/v1/deliveries/:id', { preHandler: admin }, async (request) => {
    const d = await deliveries.get(request.storeId, request.params.id)
    return { ...deliveries.summary(d), headers: d.headers, body: d.body, result: d.result }
  })

  server.post<{ Params: { id: string } }>('/api/v1/deliveries/:id/replay', { preHandler: admin }, async (request) =>
    deliveries.replay(request.storeId, request.params.id),
  )

  server.get<{ Params: { id: string } }>('/api/v1/customers/:id/export', { preHandler: admin }, async (request) =>
    privacy.exportCustomer(request.storeId, request.params.id),
  )

  server.post<{ Params: { id: string } }>('/api/v1/customers/:id/erase', { preHandler: admin }, async (request) => ({
    erased: true,
    ...(await privacy.eraseCustomer(request.storeId, request.params.id)),
  }))

  // exports produced by Shopify's customers/data_request, kept 30 days
  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/privacy-exports', { preHandler: admin }, async (request) => {
    const { cursor } = request.query
    return privacy.listExports(request.storeId, { limit: parseLimit(request.query.limit), ...(cursor ? { cursor } : {}) })
  })

  server.get<{ Params: { id: string } }>('/api/v1/privacy-exports/:id', { preHandler: admin }, async (request) =>
    privacy.getExport(request.storeId, request.params.id),
  )
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
    if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== 'string'))
      throw new UserError('secrets: must be an array of 1 or 2 strings', { code: 'validation_failed', details: { field: 'secrets' } })
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
