import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { dashboardLogin } from '../../src/cli/dashboard-login.ts'
import { buildServer } from '../../src/http/server.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { createApp } from '../../src/main.ts'
import {
  SESSION_ABSOLUTE_MS,
  SESSION_IDLE_MS,
  SIGN_IN_FAILURES_PER_EMAIL_AND_IP,
  SIGN_IN_FAILURES_PER_IP,
  SIGN_IN_WINDOW_MS,
} from '../../src/services/sessions.ts'
import { createKey, createStore } from '../../src/store/stores.repo.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { serverRoutes } from '../helpers/two-stores.ts'

/**
 * Issue 14: the dashboard signs in with a user's email and password and then reads and changes
 * a store through the same /api/v1 as API keys do, by a session cookie. Everything over real
 * HTTP (fetch against a listening server); time is the engine's ManualClock.
 */

const EMAIL = 'owner@example.com'
const PASSWORD = 'correct horse battery'

interface Answer {
  status: number
  body: any
  headers: Headers
  cookie: string | undefined
}

describe.each(DIALECTS)('dashboard sign-in on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let base: string

  afterEach(async () => {
    await server?.close()
    await env?.cleanup()
  })

  async function start(extraEnv: Record<string, string> = {}) {
    env = await createTestEnv(dialect, { env: extraEnv })
    server = await buildServer(env.app)
    base = await server.listen({ port: 0, host: '127.0.0.1' })
    await env.app.services.users.create({ email: EMAIL, password: PASSWORD })
    await createStore(env.app.handle.db, { id: 'store-b', name: 'Shop B', currency: 'EUR', timezone: 'Europe/Berlin' }, env.clock.now())
  }

  async function call(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers }
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
      redirect: 'manual',
    })
    const text = await res.text()
    let body: unknown = text
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, body, headers: res.headers, cookie: res.headers.getSetCookie()[0] }
  }

  const login = (email = EMAIL, password = PASSWORD, headers: Record<string, string> = {}) =>
    call('POST', '/api/v1/auth/login', { body: { email, password }, headers })

  /** signs in and answers the cookie header to send and the CSRF token */
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const res = await login()
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return { cookie: res.cookie!.split(';')[0]!, csrf: res.body.csrf_token }
  }

  let n = 0
  const event = () => ({ id: `evt-${++n}`, type: 'customer.created', data: { id: `c-${n}`, email: `c${n}@example.com` } })
  const customerIds = async (store: string) =>
    (await env.app.handle.db.selectFrom('customers').select('external_id').where('store_id', '=', store).execute()).map((r) => r.external_id)

  it('signs in with the right password: the user, a CSRF token and an HttpOnly, SameSite=Strict session cookie; no Secure over plain HTTP', async () => {
    await start()
    const res = await login(' Owner@Example.com ', PASSWORD)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toEqual({ user: { id: expect.stringMatching(/^usr_/), email: EMAIL, role: 'admin' }, csrf_token: expect.any(String) })
    expect(res.body.csrf_token.length).toBeGreaterThanOrEqual(32)
    const parts = res.cookie!.split(';').map((p) => p.trim())
    const value = /^storeflow_session=([A-Za-z0-9_-]+)$/.exec(parts[0]!)?.[1]
    // 32 random bytes, base64url
    expect(Buffer.from(value!, 'base64url')).toHaveLength(32)
    expect(parts.slice(1)).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']))
    expect(parts).not.toContain('Secure')
    expect(res.headers.get('cache-control')).toBe('no-store')
    // the token is stored hashed, never as sent
    const rows = await env.app.handle.db
      .selectFrom('sessions' as never)
      .selectAll()
      .execute()
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows)).not.toContain(value!)
    // a second sign-in is a second session with its own token
    const again = await login()
    expect(again.cookie!.split(';')[0]).not.toBe(parts[0])
  })

  it('a wrong password and an unknown email get the same 401; bad bodies get 400 naming the field', async () => {
    await start()
    const wrong = await login(EMAIL, 'not the password')
    const unknown = await login('nobody@example.com', PASSWORD)
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.body).toEqual(unknown.body)
    expect(wrong.body.error.code).toBe('unauthorized')
    expect(wrong.cookie).toBeUndefined()
    expect(unknown.cookie).toBeUndefined()

    const missing = await call('POST', '/api/v1/auth/login', { body: { password: PASSWORD } })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toMatch(/^email/)
    const notString = await call('POST', '/api/v1/auth/login', { body: { email: EMAIL, password: 12345678 } })
    expect(notString.status).toBe(400)
    expect(notString.body.error.message).toMatch(/^password/)
    const list = await call('POST', '/api/v1/auth/login', { body: [EMAIL, PASSWORD] })
    expect(list.status).toBe(400)
    expect(list.body.error.message).toMatch(/body/)
    const huge = await call('POST', '/api/v1/auth/login', { body: { email: EMAIL, password: 'x'.repeat(5000) } })
    expect(huge.status).toBe(400)
    expect(huge.body.error.message).toMatch(/^password/)
  })

  it('X-Forwarded-Proto: https sets Secure only when the server trusts its proxy', async () => {
    await start()
    const untrusted = await login(EMAIL, PASSWORD, { 'x-forwarded-proto': 'https' })
    expect(untrusted.status).toBe(200)
    expect(untrusted.cookie).not.toMatch(/;\s*Secure/)
    await server.close()
    await env.cleanup()

    await start({ STOREFLOW_TRUST_PROXY: '1' })
    const trusted = await login(EMAIL, PASSWORD, { 'x-forwarded-proto': 'https' })
    expect(trusted.status).toBe(200)
    expect(trusted.cookie!.split(';').map((p) => p.trim())).toContain('Secure')
    const plain = await login()
    expect(plain.cookie).not.toMatch(/;\s*Secure/)
  })

  it('GET /auth/session answers the user, the CSRF token and the stores with the cookie, else 401', async () => {
    await start()
    const { cookie, csrf } = await signIn()
    const res = await call('GET', '/api/v1/auth/session', { headers: { cookie } })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.user).toMatchObject({ email: EMAIL, role: 'admin' })
    expect(res.body.csrf_token).toBe(csrf)
    expect(res.body.stores).toEqual(
      expect.arrayContaining([
        { id: 'default', name: expect.any(String), currency: expect.any(String), timezone: expect.any(String) },
        { id: 'store-b', name: 'Shop B', currency: 'EUR', timezone: 'Europe/Berlin' },
      ]),
    )
    expect((await call('GET', '/api/v1/auth/session')).status).toBe(401)
    const forged = await call('GET', '/api/v1/auth/session', { headers: { cookie: `storeflow_session=${'A'.repeat(43)}` } })
    expect(forged.status).toBe(401)
    // a cookie that names no live session is cleared
    expect(forged.cookie).toMatch(/^storeflow_session=;.*Max-Age=0/)
  })

  it('the cookie reads /api/v1; a change needs X-CSRF-Token and, with an Origin, this host', async () => {
    await start()
    const { cookie, csrf } = await signIn()
    expect((await call('GET', '/api/v1/workflows')).status).toBe(401)
    const read = await call('GET', '/api/v1/workflows', { headers: { cookie } })
    expect(read.status, JSON.stringify(read.body)).toBe(200)
    expect(read.body.items).toEqual([])

    const noToken = await call('POST', '/api/v1/events', { body: event(), headers: { cookie } })
    expect(noToken.status).toBe(403)
    expect(noToken.body.error.code).toBe('forbidden')
    expect(noToken.body.error.message).toMatch(/csrf/i)
    const wrongToken = await call('POST', '/api/v1/events', { body: event(), headers: { cookie, 'x-csrf-token': `${csrf.slice(0, -1)}x` } })
    expect(wrongToken.status).toBe(403)
    const host = new URL(base).host
    const otherOrigin = await call('POST', '/api/v1/events', { body: event(), headers: { cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' } })
    expect(otherOrigin.status).toBe(403)
    expect(otherOrigin.body.error.message).toMatch(/csrf/i)
    const otherPort = await call('POST', '/api/v1/events', { body: event(), headers: { cookie, 'x-csrf-token': csrf, origin: 'http://127.0.0.1:1' } })
    expect(otherPort.status).toBe(403)
    for (const [method, path] of [
      ['PUT', '/api/v1/workflows/nope'],
      ['PATCH', '/api/v1/connectors/nope'],
      ['DELETE', '/api/v1/workflows/nope'],
    ] as const) {
      const res = await call(method, path, { headers: { cookie } })
      expect(res.status, `${method} without the token`).toBe(403)
    }
    // none of the refused requests stored anything
    expect(await customerIds('default')).toEqual([])

    const ok = await call('POST', '/api/v1/events', { body: event(), headers: { cookie, 'x-csrf-token': csrf, origin: `http://${host}` } })
    expect(ok.status, JSON.stringify(ok.body)).toBe(202)
    const noOrigin = await call('POST', '/api/v1/events', { body: event(), headers: { cookie, 'x-csrf-token': csrf } })
    expect(noOrigin.status).toBe(202)
    // behind a proxy that rewrites Host, the configured public URL is this server's origin too
    expect(new URL(env.config.publicUrl).host).not.toBe(host)
    const publicOrigin = await call('POST', '/api/v1/events', {
      body: event(),
      headers: { cookie, 'x-csrf-token': csrf, origin: new URL(env.config.publicUrl).origin },
    })
    expect(publicOrigin.status).toBe(202)
    await env.app.engine.drain()
    expect((await customerIds('default')).sort()).toEqual([`c-${n - 2}`, `c-${n - 1}`, `c-${n}`].sort())
    // an admin action: the session is every scope
    const settings = await call('PUT', '/api/v1/settings', { body: { store_name: 'Renamed by the dashboard' }, headers: { cookie, 'x-csrf-token': csrf } })
    expect(settings.status, JSON.stringify(settings.body)).toBe(200)
    expect((await call('GET', '/api/v1/settings', { headers: { cookie } })).body.store_name).toBe('Renamed by the dashboard')
    // and the audit log names the signed-in user as who changed it
    const audit = await call('GET', '/api/v1/audit-log?action=settings.changed', { headers: { cookie } })
    expect(audit.status).toBe(200)
    expect((audit.body.items as Array<{ actor: string }>).map((e) => e.actor)).toContain(`user:${EMAIL}`)
  })

  it('X-Storeflow-Store picks the store (default `default`); an unknown store is 404 naming the header', async () => {
    await start()
    const { cookie, csrf } = await signIn()
    const sent = await call('POST', '/api/v1/events', { body: event(), headers: { cookie, 'x-csrf-token': csrf, 'x-storeflow-store': 'store-b' } })
    expect(sent.status, JSON.stringify(sent.body)).toBe(202)
    await env.app.engine.drain()
    expect(await customerIds('store-b')).toEqual([`c-${n}`])
    expect(await customerIds('default')).toEqual([])
    const inB = await call('GET', `/api/v1/customers/c-${n}`, { headers: { cookie, 'x-storeflow-store': 'store-b' } })
    expect(inB.status, JSON.stringify(inB.body)).toBe(200)
    expect((await call('GET', `/api/v1/customers/c-${n}`, { headers: { cookie } })).status).toBe(404)
    // store B's own key sees the same customer
    const bKey = (await createKey(env.app.handle.db, 'store-b', 'read', env.clock.now())).key
    expect((await call('GET', `/api/v1/customers/c-${n}`, { headers: { authorization: `Bearer ${bKey}` } })).status).toBe(200)

    for (const store of ['nope', 'Store-B', 'x'.repeat(200)]) {
      const unknown = await call('GET', '/api/v1/workflows', { headers: { cookie, 'x-storeflow-store': store } })
      expect(unknown.status, store).toBe(404)
      expect(unknown.body.error.code).toBe('not_found')
      expect(unknown.body.error.message).toMatch(/X-Storeflow-Store/)
    }
  })

  it('logout needs the CSRF token, ends the session everywhere and clears the cookie', async () => {
    await start()
    const { cookie, csrf } = await signIn()
    const other = await signIn()
    const refused = await call('POST', '/api/v1/auth/logout', { headers: { cookie } })
    expect(refused.status).toBe(403)
    expect((await call('GET', '/api/v1/auth/session', { headers: { cookie } })).status).toBe(200)
    const out = await call('POST', '/api/v1/auth/logout', { headers: { cookie, 'x-csrf-token': csrf } })
    expect(out.status).toBe(204)
    expect(out.cookie).toMatch(/^storeflow_session=;/)
    expect(out.cookie).toMatch(/Max-Age=0/)
    expect((await call('GET', '/api/v1/auth/session', { headers: { cookie } })).status).toBe(401)
    expect((await call('GET', '/api/v1/workflows', { headers: { cookie } })).status).toBe(401)
    expect((await call('POST', '/api/v1/auth/logout', { headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(401)
    // the other session goes on
    expect((await call('GET', '/api/v1/workflows', { headers: { cookie: other.cookie } })).status).toBe(200)
    const rows = await env.app.handle.db
      .selectFrom('sessions' as never)
      .selectAll()
      .execute()
    expect(rows).toHaveLength(1)
  })

  it('a session ends after 12 h unused (sliding) and 7 days after sign-in, on the engine clock; a deleted user is signed out', async () => {
    await start()
    const idle = await signIn()
    env.clock.advance(SESSION_IDLE_MS - 60_000)
    expect((await call('GET', '/api/v1/workflows', { headers: { cookie: idle.cookie } })).status).toBe(200)
    // used a minute before the idle end: the window slides from there
    env.clock.advance(SESSION_IDLE_MS - 60_000)
    expect((await call('GET', '/api/v1/auth/session', { headers: { cookie: idle.cookie } })).status).toBe(200)
    env.clock.advance(SESSION_IDLE_MS)
    expect((await call('GET', '/api/v1/auth/session', { headers: { cookie: idle.cookie } })).status).toBe(401)
    expect((await call('GET', '/api/v1/workflows', { headers: { cookie: idle.cookie } })).status).toBe(401)

    const busy = await signIn()
    const signedInAt = env.clock.now().getTime()
    while (env.clock.now().getTime() + SESSION_IDLE_MS / 2 < signedInAt + SESSION_ABSOLUTE_MS) {
      env.clock.advance(SESSION_IDLE_MS / 2)
      expect((await call('GET', '/api/v1/workflows', { headers: { cookie: busy.cookie } })).status).toBe(200)
    }
    env.clock.set(new Date(signedInAt + SESSION_ABSOLUTE_MS))
    expect((await call('GET', '/api/v1/workflows', { headers: { cookie: busy.cookie } })).status).toBe(401)

    const doomed = await signIn()
    expect((await call('GET', '/api/v1/workflows', { headers: { cookie: doomed.cookie } })).status).toBe(200)
    expect(await env.app.services.users.delete(EMAIL)).toBe(true)
    expect((await call('GET', '/api/v1/workflows', { headers: { cookie: doomed.cookie } })).status).toBe(401)
    expect((await call('GET', '/api/v1/auth/session', { headers: { cookie: doomed.cookie } })).status).toBe(401)
  })

  it('failed sign-ins are rate limited per email and client and per client: 429 with Retry-After, served again after it', async () => {
    await start({ STOREFLOW_TRUST_PROXY: '1' })
    const from = (ip: string) => ({ 'x-forwarded-for': ip })
    for (let i = 0; i < SIGN_IN_FAILURES_PER_EMAIL_AND_IP; i++) expect((await login(EMAIL, `wrong-${i}-password`, from('10.0.0.1'))).status).toBe(401)
    // even the right password is refused now, before it is checked
    const limited = await login(EMAIL, PASSWORD, from('10.0.0.1'))
    expect(limited.status).toBe(429)
    expect(limited.body.error.code).toBe('rate_limited')
    expect(limited.cookie).toBeUndefined()
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 15 * 60, `Retry-After ${limited.headers.get('retry-after')}`).toBe(true)
    // another client may sign in to the same account
    expect((await login(EMAIL, PASSWORD, from('10.0.0.2'))).status).toBe(200)
    env.clock.advance(retryAfter * 1000 - 1000)
    expect((await login(EMAIL, PASSWORD, from('10.0.0.1'))).status).toBe(429)
    env.clock.advance(1000)
    expect((await login(EMAIL, PASSWORD, from('10.0.0.1'))).status).toBe(200)

    // many accounts from one client: the per-client limit
    for (let i = 0; i < SIGN_IN_FAILURES_PER_IP; i++) expect((await login(`guess${i}@example.com`, PASSWORD, from('10.0.0.3'))).status).toBe(401)
    const perClient = await login(EMAIL, PASSWORD, from('10.0.0.3'))
    expect(perClient.status).toBe(429)
    const wait = Number(perClient.headers.get('retry-after'))
    expect((await login(EMAIL, PASSWORD, from('10.0.0.4'))).status).toBe(200)
    env.clock.advance(wait * 1000)
    expect((await login(EMAIL, PASSWORD, from('10.0.0.3'))).status).toBe(200)
  })

  it('failed sign-ins are counted in the database: spread over two API nodes they add up, and a restart forgets none', async () => {
    await start({ STOREFLOW_TRUST_PROXY: '1' })
    // a second API node on the same database and clock
    const second = await createApp(env.config, { log: silentLogger, clock: env.clock, ...(env.schema ? { schema: env.schema } : {}) })
    const secondServer = await buildServer(second)
    const secondBase = await secondServer.listen({ port: 0, host: '127.0.0.1' })
    const loginAt = async (at: string, password: string) =>
      (
        await fetch(`${at}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.9.9.9' },
          body: JSON.stringify({ email: EMAIL, password }),
        })
      ).status
    try {
      // the limit's failures alternate between the nodes: neither saw them all
      for (let i = 0; i < SIGN_IN_FAILURES_PER_EMAIL_AND_IP; i++) expect(await loginAt(i % 2 === 0 ? base : secondBase, `wrong-${i}-password`)).toBe(401)
      expect(await loginAt(base, PASSWORD)).toBe(429)
      expect(await loginAt(secondBase, PASSWORD)).toBe(429)
    } finally {
      await secondServer.close()
      await second.close()
    }
    // a node started after them (a restart) still refuses
    const third = await createApp(env.config, { log: silentLogger, clock: env.clock, ...(env.schema ? { schema: env.schema } : {}) })
    const thirdServer = await buildServer(third)
    const thirdBase = await thirdServer.listen({ port: 0, host: '127.0.0.1' })
    try {
      expect(await loginAt(thirdBase, PASSWORD)).toBe(429)
      env.clock.advance(SIGN_IN_WINDOW_MS)
      expect(await loginAt(thirdBase, PASSWORD)).toBe(200)
    } finally {
      await thirdServer.close()
      await third.close()
    }
    // the table names no email and no address
    const rows = await env.app.handle.db.selectFrom('sign_in_failures').select(['key_hash']).execute()
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(r.key_hash).not.toMatch(/owner|example|10\.9/)
  })

  it('DELETE /api/v1/users/:id: another user goes with their sessions; not oneself (409), not an unknown id (404)', async () => {
    await start()
    const { cookie, csrf } = await signIn()
    const clerk = await env.app.services.users.create({ email: 'clerk@example.com', password: 'a password long enough for a clerk' })
    const clerkLogin = await login('clerk@example.com', 'a password long enough for a clerk')
    expect(clerkLogin.status).toBe(200)
    const clerkCookie = clerkLogin.cookie!.split(';')[0]!
    const me = (await call('GET', '/api/v1/auth/session', { headers: { cookie } })).body.user.id as string
    const del = (id: string, headers: Record<string, string> = { cookie, 'x-csrf-token': csrf }) => call('DELETE', `/api/v1/users/${id}`, { headers })
    // without the CSRF token a cookie deletes nothing
    expect((await del(clerk.id, { cookie })).status).toBe(403)
    const self = await del(me)
    expect(self.status).toBe(409)
    expect(self.body.error.details.field).toBe('id')
    expect((await del(clerk.id)).status).toBe(204)
    expect((await call('GET', '/api/v1/auth/session', { headers: { cookie: clerkCookie } })).status).toBe(401)
    expect((await login('clerk@example.com', 'a password long enough for a clerk')).status).toBe(401)
    expect((await del(clerk.id)).status).toBe(404)
    const left = (await call('GET', '/api/v1/users', { headers: { cookie } })).body.items.map((u: { email: string }) => u.email)
    expect(left).toEqual([EMAIL])
  })

  it('Bearer keys work as before: the cookie neither widens a key nor is needed with one', async () => {
    await start()
    const { cookie } = await signIn()
    const ingest = (await createKey(env.app.handle.db, 'store-b', 'ingest', env.clock.now())).key
    const read = (await createKey(env.app.handle.db, 'store-b', 'read', env.clock.now())).key
    // a key without any cookie or CSRF header
    expect((await call('POST', '/api/v1/events', { body: event(), headers: { authorization: `Bearer ${ingest}` } })).status).toBe(202)
    // the key decides, not the cookie: a read key stays a read key, in its own store
    const withCookie = await call('POST', '/api/v1/events', { body: event(), headers: { authorization: `Bearer ${read}`, cookie } })
    expect(withCookie.status).toBe(403)
    const header = await call('GET', '/api/v1/workflows', { headers: { authorization: `Bearer ${read}`, cookie, 'x-storeflow-store': 'default' } })
    expect(header.status).toBe(200)
    await env.app.engine.drain()
    expect(await customerIds('store-b')).toEqual([`c-${n - 1}`])
    expect((await call('GET', '/api/v1/workflows', { headers: { authorization: 'Bearer sk_nonsense', cookie } })).status).toBe(401)
  })

  it('nothing under /api/v1 answers without a key or a session', async () => {
    await start()
    const routes = serverRoutes(server).filter((r) => r.includes(' /api/v1/') && !r.includes('/api/v1/auth/'))
    expect(routes.length).toBeGreaterThan(30)
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string]
      const res = await call(method, path.replace(/:(\w+)/g, 'x1'), method === 'GET' || method === 'DELETE' ? {} : { body: {} })
      expect(res.status, `${route}: ${JSON.stringify(res.body)}`).toBe(401)
    }
  })

  it('the first start says how to get a dashboard login, or creates the one the environment names', async () => {
    await start()
    await env.app.services.users.delete(EMAIL)
    expect(await dashboardLogin(env.app, {})).toMatch(/storeflow users create EMAIL/)
    expect(await dashboardLogin(env.app, { STOREFLOW_ADMIN_EMAIL: 'admin@example.com', STOREFLOW_ADMIN_PASSWORD: 'short' })).toMatch(/at least 8/)
    const made = await dashboardLogin(env.app, { STOREFLOW_ADMIN_EMAIL: 'Admin@Example.com', STOREFLOW_ADMIN_PASSWORD: 'a long password' })
    expect(made).toMatch(/admin@example\.com \(created/)
    expect((await login('admin@example.com', 'a long password')).status).toBe(200)
    // a user exists: nothing said, nothing created or changed
    expect(await dashboardLogin(env.app, { STOREFLOW_ADMIN_EMAIL: 'other@example.com', STOREFLOW_ADMIN_PASSWORD: 'another password' })).toBeNull()
    expect((await env.app.services.users.list()).map((u) => u.email)).toEqual(['admin@example.com'])
  })
})
