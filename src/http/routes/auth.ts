import type { FastifyInstance } from 'fastify'
import { StoreflowError, UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { checkCsrf, checkOrigin, clearSessionCookie, installSessionGate, requireSession, sessionToken, setSessionCookie } from '../session-auth.ts'

/** longer than any email (RFC 5321: 254) or password a person types; scrypt over megabytes would be work for nothing */
const MAX_FIELD = { email: 320, password: 1024 } as const

/** `{ email, password }`, each a non-empty string, or 400 naming the field. */
function credentials(body: unknown): { email: string; password: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new UserError('the body must be a JSON object { "email", "password" }', { code: 'validation_failed', details: { field: 'body' } })
  }
  const out: Record<string, string> = {}
  for (const field of ['email', 'password'] as const) {
    const value = (body as Record<string, unknown>)[field]
    if (typeof value !== 'string' || value.length === 0) {
      throw new UserError(`${field}: required, a non-empty string`, { code: 'validation_failed', details: { field } })
    }
    if (value.length > MAX_FIELD[field]) {
      throw new UserError(`${field}: longer than ${MAX_FIELD[field]} characters`, { code: 'validation_failed', details: { field } })
    }
    out[field] = value
  }
  return { email: out.email!, password: out.password! }
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin
  } catch {
    return null
  }
}

/**
 * The dashboard's sign-in: `POST /api/v1/auth/login`, `GET /api/v1/auth/session`,
 * `POST /api/v1/auth/logout` (docs in openapi.ts). The cookie then opens all of /api/v1
 * (session-auth.ts, through requireScope).
 */
export function registerAuthRoutes(server: FastifyInstance, app: App): void {
  const { sessions, stores } = app.services
  installSessionGate(server, { sessions, stores, publicOrigin: originOf(app.config.publicUrl) })
  sessions.warm()

  server.post('/api/v1/auth/login', async (request, reply) => {
    void reply.header('cache-control', 'no-store')
    // a page elsewhere must not sign the browser in to an account of its choosing
    checkOrigin(request)
    const input = credentials(request.body)
    try {
      const signedIn = await sessions.signIn(input, request.ip)
      setSessionCookie(request, reply, signedIn.token)
      return { user: signedIn.user, csrf_token: signedIn.csrf_token }
    } catch (err) {
      if (err instanceof StoreflowError && err.code === 'rate_limited') {
        void reply.header('retry-after', String((err.details as { retry_after: number }).retry_after))
      }
      throw err
    }
  })

  server.get('/api/v1/auth/session', async (request, reply) => {
    void reply.header('cache-control', 'no-store')
    try {
      const session = await requireSession(request)
      return { user: session.user, csrf_token: session.csrf_token, stores: await sessions.stores() }
    } catch (err) {
      if (sessionToken(request) !== undefined) clearSessionCookie(request, reply)
      throw err
    }
  })

  server.post('/api/v1/auth/logout', async (request, reply) => {
    const session = await requireSession(request)
    checkCsrf(request, session)
    await sessions.signOut(sessionToken(request)!)
    clearSessionCookie(request, reply)
    return reply.status(204).send()
  })
}
