import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { UserError } from '../lib/errors.ts'
import type { ActiveSession, SessionsService, SessionUser } from '../services/sessions.ts'
import type { StoresService } from '../services/stores.ts'

/**
 * The dashboard's way into /api/v1: a session cookie from `POST /api/v1/auth/login` instead of a
 * Bearer key. A signed-in user is the installation's admin (users belong to the installation, not
 * to a store): every scope, on the store named by `X-Storeflow-Store` (default `default`).
 * Requests signed in by cookie that change state must carry `X-CSRF-Token` (the session's
 * csrf_token) and, when they have an Origin, come from this server's own host.
 */

export const SESSION_COOKIE = 'storeflow_session'
export const STORE_HEADER = 'x-storeflow-store'

interface SessionGate {
  sessions: SessionsService
  stores: Pick<StoresService, 'exists'>
  /** the origin of STOREFLOW_PUBLIC_URL, also accepted as Origin (a proxy that rewrites Host) */
  publicOrigin: string | null
}

declare module 'fastify' {
  interface FastifyInstance {
    sessionGate?: SessionGate
  }
  interface FastifyRequest {
    /** the dashboard user, when the request was signed in by the session cookie */
    sessionUser?: SessionUser
  }
}

export function installSessionGate(server: FastifyInstance, gate: SessionGate): void {
  server.decorate('sessionGate', gate)
}

/** The session cookie's value, or undefined. */
export function sessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim()
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined
    }
  }
  return undefined
}

function cookieFlags(request: FastifyRequest): string {
  return `HttpOnly; SameSite=Strict; Path=/${request.protocol === 'https' ? '; Secure' : ''}`
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  void reply.header('set-cookie', `${SESSION_COOKIE}=${token}; ${cookieFlags(request)}`)
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', `${SESSION_COOKIE}=; ${cookieFlags(request)}; Max-Age=0`)
}

const forbidden = (message: string) => new UserError(message, { code: 'forbidden' })

/**
 * An Origin header, when sent, must name this server's host (request.host: X-Forwarded-Host only
 * behind a trusted proxy) or be the origin of STOREFLOW_PUBLIC_URL.
 */
export function checkOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin
  if (origin === undefined) return
  let url: URL | null = null
  try {
    url = new URL(origin)
  } catch {
    url = null
  }
  if (url === null || (url.host !== request.host && url.origin !== request.server.sessionGate?.publicOrigin)) {
    throw forbidden(`cross-site request refused (csrf protection): the Origin header "${origin.slice(0, 200)}" is not this server's own`)
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** A state-changing request signed in by cookie must prove it comes from the dashboard. */
export function checkCsrf(request: FastifyRequest, session: ActiveSession): void {
  if (!UNSAFE.has(request.method)) return
  checkOrigin(request)
  const sent = request.headers['x-csrf-token']
  const expected = Buffer.from(session.csrf_token)
  const given = typeof sent === 'string' ? Buffer.from(sent) : null
  if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw forbidden('missing or wrong X-CSRF-Token header (csrf protection): send the csrf_token from sign-in or GET /api/v1/auth/session')
  }
}

/** The session the cookie names, or 401 (none sent, signed out or expired). */
export async function requireSession(request: FastifyRequest): Promise<ActiveSession> {
  const gate = request.server.sessionGate
  const token = sessionToken(request)
  const session = gate && token ? await gate.sessions.resolve(token) : null
  if (!session) {
    throw new UserError(token ? 'the dashboard session has ended (signed out or expired); sign in again' : 'not signed in', { code: 'unauthorized' })
  }
  return session
}

/**
 * For requireScope when no Bearer key is sent: false without a session cookie (the caller answers
 * 401 as before); with one, signs the request in as admin of the store `X-Storeflow-Store` names,
 * or throws 401 (session ended), 403 (CSRF) or 404 (no such store).
 */
export async function signInBySession(request: FastifyRequest): Promise<boolean> {
  if (!request.server.sessionGate || sessionToken(request) === undefined) return false
  const session = await requireSession(request)
  checkCsrf(request, session)
  const header = request.headers[STORE_HEADER]
  const store = header === undefined ? 'default' : header
  if (typeof store !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(store) || !(await request.server.sessionGate.stores.exists(store))) {
    throw new UserError(`no store "${String(store).slice(0, 100)}" (header X-Storeflow-Store)`, { code: 'not_found', details: { header: 'X-Storeflow-Store' } })
  }
  request.storeId = store
  request.keyScope = 'admin'
  request.sessionUser = session.user
  // the audit log names who changed what (routes/audit-log.ts)
  request.actor = `user:${session.user.email}`
  return true
}
