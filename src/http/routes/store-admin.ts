import type { FastifyInstance, FastifyRequest } from 'fastify'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { KEY_SCOPES, type KeyScope } from '../../services/keys.ts'
import { requireScope } from '../auth.ts'
import { pageRequest } from '../pagination.ts'

function field(message: string, name: string): UserError {
  return new UserError(`${name}: ${message}`, { code: 'validation_failed', details: { field: name } })
}

/** The body as an object, or 400. */
function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw field('the body must be a JSON object', 'body')
  return body as Record<string, unknown>
}

function text(body: Record<string, unknown>, name: string, max: number): string {
  const value = body[name]
  if (typeof value !== 'string' || value.trim() === '') throw field('required, a non-empty string', name)
  if (value.length > max) throw field(`longer than ${max} characters`, name)
  return value.trim()
}

/** Users belong to the installation, not to a store: a store's API key may not list or add them. */
function requireSignedIn(request: FastifyRequest): void {
  if (!request.sessionUser)
    throw new UserError('users belong to the installation: sign in to the dashboard to manage them (an API key is bound to one store)', { code: 'forbidden' })
}

/**
 * What the dashboard's store and settings pages read beyond the older routes: customers, orders
 * and carts lists; the store's API keys; the installation's users; an SMTP test mail.
 */
export function registerStoreAdminRoutes(server: FastifyInstance, app: App): void {
  const { storeLists, keys, users } = app.services
  const read = requireScope(keys, 'read')
  const admin = requireScope(keys, 'admin')

  server.get<{ Querystring: { q?: string; limit?: string; cursor?: string } }>('/api/v1/customers', { preHandler: read }, async (request) => {
    const q = request.query.q
    if (q !== undefined && q.length > 200) throw field('longer than 200 characters', 'q')
    return storeLists.customers(request.storeId, { q }, pageRequest(request.query))
  })

  server.get<{ Querystring: { customer?: string; limit?: string; cursor?: string } }>('/api/v1/orders', { preHandler: read }, async (request) =>
    storeLists.orders(request.storeId, { customer: request.query.customer || undefined }, pageRequest(request.query)),
  )

  server.get<{ Querystring: { converted?: string; limit?: string; cursor?: string } }>('/api/v1/carts', { preHandler: read }, async (request) => {
    const c = request.query.converted
    if (c !== undefined && c !== '' && c !== 'true' && c !== 'false') throw field('must be true or false', 'converted')
    return storeLists.carts(request.storeId, { converted: c === 'true' ? true : c === 'false' ? false : undefined }, pageRequest(request.query))
  })

  server.get('/api/v1/keys', { preHandler: admin }, async (request) => ({ items: await keys.list(request.storeId), next_cursor: null }))
  server.post('/api/v1/keys', { preHandler: admin }, async (request, reply) => {
    const body = objectBody(request.body ?? {})
    const scope = body.scope ?? 'read'
    if (typeof scope !== 'string' || !KEY_SCOPES.includes(scope as KeyScope)) throw field(`must be one of ${KEY_SCOPES.join(', ')}`, 'scope')
    void reply.header('cache-control', 'no-store')
    return reply.code(201).send(await keys.create(request.storeId, scope as KeyScope, request.actor))
  })
  server.delete<{ Params: { id: string } }>('/api/v1/keys/:id', { preHandler: admin }, async (request, reply) => {
    await keys.revoke(request.storeId, request.params.id, request.actor)
    return reply.code(204).send()
  })

  server.get('/api/v1/users', { preHandler: admin }, async (request) => {
    requireSignedIn(request)
    return { items: await users.list(), next_cursor: null }
  })
  server.post('/api/v1/users', { preHandler: admin }, async (request, reply) => {
    requireSignedIn(request)
    const body = objectBody(request.body)
    const email = text(body, 'email', 320)
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw field('must be an email address', 'email')
    const password = body.password
    if (typeof password !== 'string' || password === '') throw field('required, a non-empty string', 'password')
    if (password.length > 1024) throw field('longer than 1024 characters', 'password')
    return reply.code(201).send(await users.create({ email, password }))
  })
  server.delete<{ Params: { id: string } }>('/api/v1/users/:id', { preHandler: admin }, async (request, reply) => {
    requireSignedIn(request)
    await users.remove(request.params.id, request.sessionUser!.id)
    return reply.code(204).send()
  })

  server.post('/api/v1/settings/smtp/test', { preHandler: admin }, async (request) => {
    const body = objectBody(request.body)
    const to = text(body, 'to', 320)
    if (!/^[^\s@<>"]+@[^\s@<>"]+$/.test(to)) throw field('must be one email address', 'to')
    return storeLists.smtpTest(request.storeId, to)
  })
}
