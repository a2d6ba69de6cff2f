import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { createTestEnv, DIALECTS, type TestEnv } from '../../../test/helpers/dialects.ts'
import { buildServer } from '../../http/server.ts'
import { event } from '../../../test/helpers/workflows.ts'
import { createKey, createStore } from '../../store/stores.repo.ts'
import { hashEmail } from '../../store/remote-services.ts'
import { startMeta } from '../../../test/helpers/meta-custom-audiences.ts'

/** sha256("test@example.com"), the vector Meta's hashing guide normalises to */
const TEST_VECTOR = '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b'

const SYNC = `
id: retarget
name: Keep the audience in step
trigger: { event: segment.entered }
steps:
  - action: sync_audience
    id: sync
    with: { segment: subscribers, audience_id: '6001' }
`
const SYNC_EXIT = SYNC.replace('id: retarget', 'id: retarget-exit').replace('segment.entered', 'segment.exited')

describe.each(DIALECTS)('sync_audience to Meta Custom Audiences on %s', (dialect) => {
  const api = {} as { env: TestEnv; server: FastifyInstance; admin: string }
  let meta: Awaited<ReturnType<typeof startMeta>>
  let adminB: string
  beforeEach(async () => {
    api.env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    api.server = await buildServer(api.env.app)
    api.admin = (await createKey(api.env.app.handle.db, 'default', 'admin', api.env.clock.now())).key
    meta = await startMeta(['meta_token_a', 'meta_token_b'])
    await createStore(api.env.app.handle.db, { id: 'b' }, api.env.clock.now())
    adminB = (await createKey(api.env.app.handle.db, 'b', 'admin', api.env.clock.now())).key
  })
  afterEach(async () => {
    await meta.close()
    await api.server.close()
    await api.env.cleanup()
  })
  const as = (store: string) => ({ authorization: `Bearer ${store === 'b' ? adminB : api.admin}` })
  let seq = 0
  const send = async (store: string, type: string, data: Record<string, unknown>) => {
    const res = await api.server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: as(store),
      payload: { ...event(type, `ev-${++seq}`, data, api.env.clock.now().toISOString()), store },
    })
    expect(res.statusCode, res.body).toBe(202)
    await api.env.app.engine.settle()
    await api.env.app.engine.drain()
  }
  const setUp = async (store: string, token: string) => {
    for (const [url, payload] of [
      ['/api/v1/integrations/meta_ads', { api_url: meta.url, credentials: { access_token: token } }],
      ['/api/v1/segments', { id: 'subscribers', name: 'Subscribers', condition: 'customer.accepts_marketing' }],
    ] as const) {
      const res = await api.server.inject({ method: url.endsWith('meta_ads') ? 'PUT' : 'POST', url, headers: as(store), payload })
      expect(res.statusCode, res.body).toBeLessThan(300)
    }
    for (const yaml of [SYNC, SYNC_EXIT]) {
      const res = await api.server.inject({
        method: 'POST',
        url: '/api/v1/workflows',
        headers: { ...as(store), 'content-type': 'application/yaml' },
        payload: yaml,
      })
      expect(res.statusCode, res.body).toBe(201)
      const id = res.json().id as string
      await api.server.inject({ method: 'POST', url: `/api/v1/workflows/${id}/activate`, headers: as(store) })
    }
  }
  const outputs = async (store: string) =>
    await api.env.app.handle.db
      .selectFrom('run_steps')
      .select(['status', 'output', 'error', 'attempts', 'wake_at'])
      .where('store_id', '=', store)
      .where('step_id', '=', 'sync')
      .orderBy('started_at')
      .execute()

  it('adds members hashed as Meta documents, once each; removes those who left; each store with its own token', async () => {
    expect(hashEmail('  Test@Example.com ')).toBe(TEST_VECTOR)
    await setUp('default', 'meta_token_a')
    await setUp('b', 'meta_token_b')
    await send('default', 'customer.created', { id: 'c1', email: 'Test@Example.com', accepts_marketing: true })
    await send('default', 'customer.created', { id: 'c2', email: 'ada@example.com', accepts_marketing: true })
    await send('default', 'customer.created', { id: 'c3', email: 'nomail@example.com', accepts_marketing: false })
    await send('b', 'customer.created', { id: 'c1', email: 'b-only@example.com', accepts_marketing: true })

    const sent = (token: string, method: string) => meta.requests.filter((r) => r.token === token && r.method === method)
    expect(sent('meta_token_a', 'POST').flatMap((r) => r.rows)).toEqual([[TEST_VECTOR], [hashEmail('ada@example.com')]])
    expect(sent('meta_token_a', 'POST').every((r) => r.path === '/6001/users' && JSON.stringify(r.schema) === '["EMAIL"]')).toBe(true)
    expect(sent('meta_token_b', 'POST').flatMap((r) => r.rows)).toEqual([[hashEmail('b-only@example.com')]])
    expect(meta.requests.filter((r) => r.rows.some((row) => row[0] === hashEmail('b-only@example.com'))).every((r) => r.token === 'meta_token_b')).toBe(true)

    await send('default', 'newsletter.unsubscribed', { customer: { id: 'c1', email: 'test@example.com' } })
    expect(sent('meta_token_a', 'DELETE').flatMap((r) => r.rows)).toEqual([[TEST_VECTOR]])
    // a second pass has nothing to send
    const before = meta.requests.length
    await send('default', 'customer.created', { id: 'c2', email: 'ada@example.com', accepts_marketing: true, first_name: 'Ada' })
    expect(meta.requests.length).toBe(before)
    const done = (await outputs('default')).filter((o) => o.status === 'completed').map((o) => JSON.parse(o.output!))
    expect(done.reduce((n, o) => n + o.added, 0)).toBe(2)
    expect(done.reduce((n, o) => n + o.removed, 0)).toBe(1)

    // erasing a customer forgets the hash kept for them (c1's row, removed, stays)
    const erased = await api.server.inject({ method: 'POST', url: '/api/v1/customers/c2/erase', headers: as('default') })
    expect(erased.statusCode, erased.body).toBe(200)
    const kept = await api.env.app.handle.db.selectFrom('audience_members').select(['email_hash', 'state']).where('store_id', '=', 'default').execute()
    expect(kept).toEqual([{ email_hash: TEST_VECTOR, state: 'removed' }])
  })

  it('a refused token fails for good; a rate limit (429 Retry-After, code 17) and an outage retry, and the members go once', async () => {
    await setUp('default', 'meta_revoked')
    await send('default', 'customer.created', { id: 'c1', email: 'test@example.com', accepts_marketing: true })
    const [refused] = await outputs('default')
    expect(refused).toMatchObject({ status: 'failed', attempts: 1 })
    expect(refused!.error).toContain('refused the credentials (400: Invalid OAuth access token - Cannot parse access token (code 190))')

    const res = await api.server.inject({
      method: 'PUT',
      url: '/api/v1/integrations/meta_ads',
      headers: as('default'),
      payload: { api_url: meta.url, credentials: { access_token: 'meta_token_a' } },
    })
    expect(res.statusCode).toBe(200)
    meta.answers.push(
      { status: 429, headers: { 'retry-after': '30' }, body: { error: { message: 'Too many calls', code: 80003 } } },
      { status: 400, body: { error: { message: 'User request limit reached', type: 'OAuthException', code: 17 } } },
      { status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2 } } },
    )
    await send('default', 'customer.created', { id: 'c2', email: 'ada@example.com', accepts_marketing: true })
    let step = (await outputs('default'))[1]!
    expect(step).toMatchObject({ status: 'retrying', attempts: 1 })
    expect(new Date(step.wake_at!).getTime() - api.env.clock.now().getTime()).toBe(30_000)
    for (const expected of ['code 17', '503']) {
      api.env.clock.set(new Date(step.wake_at!))
      await api.env.app.engine.drain()
      step = (await outputs('default'))[1]!
      expect(step.status).toBe('retrying')
      expect(step.error).toContain(expected)
    }
    api.env.clock.set(new Date(step.wake_at!))
    await api.env.app.engine.drain()
    step = (await outputs('default'))[1]!
    expect(step.status).toBe('completed')
    // c1 (from the refused run) and c2, each accepted once
    const accepted = meta.requests.filter((r) => r.token === 'meta_token_a' && r.method === 'POST').at(-1)!
    expect(accepted.rows).toEqual([[TEST_VECTOR], [hashEmail('ada@example.com')]])
    expect(JSON.parse(step.output!)).toEqual({ added: 2, removed: 0, batches: 1 })
  })
  it('sends only members who accept marketing, and removes one who withdraws consent; consent_only: false sends every member', async () => {
    const workflow = (id: string, consentOnly: boolean) => `
id: ${id}
name: Everyone to the audience
trigger: { event: segment.entered }
steps:
  - action: sync_audience
    id: sync
    with: { segment: everyone, audience_id: '${consentOnly ? '7001' : '7002'}', consent_only: ${consentOnly} }
`
    for (const [url, method, payload, type] of [
      ['/api/v1/integrations/meta_ads', 'PUT', { api_url: meta.url, credentials: { access_token: 'meta_token_a' } }, 'application/json'],
      ['/api/v1/segments', 'POST', { id: 'everyone', name: 'Everyone', condition: 'customer.email != ""' }, 'application/json'],
      ['/api/v1/workflows', 'POST', workflow('consenting', true), 'application/yaml'],
      ['/api/v1/workflows', 'POST', workflow('all-members', false), 'application/yaml'],
      ['/api/v1/workflows/consenting/activate', 'POST', undefined, 'application/json'],
      ['/api/v1/workflows/all-members/activate', 'POST', undefined, 'application/json'],
    ] as const) {
      const headers = payload ? { ...as('default'), 'content-type': type } : as('default')
      const res = await api.server.inject({ method, url, headers, ...(payload ? { payload } : {}) })
      expect(res.statusCode, res.body).toBeLessThan(300)
    }
    await send('default', 'customer.created', { id: 'c1', email: 'yes@example.com', accepts_marketing: true })
    await send('default', 'customer.created', { id: 'c2', email: 'no@example.com', accepts_marketing: false })
    const rows = (path: string, method: string) => meta.requests.filter((r) => r.path === path && r.method === method).flatMap((r) => r.rows)
    expect(rows('/7001/users', 'POST')).toEqual([[hashEmail('yes@example.com')]])
    expect(rows('/7002/users', 'POST')).toEqual([[hashEmail('yes@example.com')], [hashEmail('no@example.com')]])

    // c1 unsubscribes (still in the segment); the next sync removes them from the consenting audience only
    await send('default', 'newsletter.unsubscribed', { customer: { id: 'c1', email: 'yes@example.com' } })
    await send('default', 'customer.created', { id: 'c3', email: 'new@example.com', accepts_marketing: true })
    expect(rows('/7001/users', 'DELETE')).toEqual([[hashEmail('yes@example.com')]])
    expect(rows('/7001/users', 'POST')).toEqual([[hashEmail('yes@example.com')], [hashEmail('new@example.com')]])
    expect(rows('/7002/users', 'DELETE')).toEqual([])
  })

  it('two customers sharing an email send it once and keep it while either is a member; a changed email retracts the old one', async () => {
    await setUp('default', 'meta_token_a')
    /** the audience as Meta holds it: every request it accepted, applied in turn */
    const audience = () => meta.audience('6001')
    const twin = hashEmail('twin@example.com')
    await send('default', 'customer.created', { id: 'c4', email: 'twin@example.com', accepts_marketing: true })
    await send('default', 'customer.created', { id: 'c5', email: 'Twin@Example.com', accepts_marketing: true })
    await send('default', 'customer.created', { id: 'c6', email: 'old@example.com', accepts_marketing: true })
    expect(audience()).toEqual(new Set([twin, hashEmail('old@example.com')]))
    // never two of one email in a request
    for (const r of meta.requests) expect(new Set(r.rows.map((row) => row[0])).size).toBe(r.rows.length)

    // c4 leaves; c5, with the same email, is still a member: the email stays
    await send('default', 'newsletter.unsubscribed', { customer: { id: 'c4', email: 'twin@example.com' } })
    expect(audience()).toEqual(new Set([twin, hashEmail('old@example.com')]))
    // c6 changes their email; the next sync (another customer entering) adds the new one and retracts the old
    await send('default', 'customer.updated', { id: 'c6', email: 'new@example.com', accepts_marketing: true })
    await send('default', 'customer.created', { id: 'c7', email: 'c7@example.com', accepts_marketing: true })
    expect(audience()).toEqual(new Set([twin, hashEmail('new@example.com'), hashEmail('c7@example.com')]))
    // c5 leaves too: now the email goes
    await send('default', 'newsletter.unsubscribed', { customer: { id: 'c5', email: 'twin@example.com' } })
    expect(audience()).toEqual(new Set([hashEmail('new@example.com'), hashEmail('c7@example.com')]))
  })

  it('an email retracted while its new one failed to go is sent again for another customer who has it; the retry completes the change', async () => {
    await setUp('default', 'meta_token_a')
    const audience = () => meta.audience('6001')
    await send('default', 'customer.created', { id: 'c6', email: 'old@example.com', accepts_marketing: true })
    await send('default', 'customer.updated', { id: 'c6', email: 'new@example.com', accepts_marketing: true })
    // the next sync: Meta takes the DELETE of the old email, then fails the POST of the new one
    meta.answers.push(null, { status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2 } } })
    await send('default', 'customer.created', { id: 'c7', email: 'c7@example.com', accepts_marketing: true })
    // c8 joins with c6's old email while c6's row still names it as added
    await send('default', 'customer.created', { id: 'c8', email: 'old@example.com', accepts_marketing: true })
    for (let i = 0; i < 5; i++) {
      api.env.clock.set(new Date(api.env.clock.now().getTime() + 3_600_000))
      await api.env.app.engine.drain()
    }
    expect((await outputs('default')).every((o) => o.status === 'completed')).toBe(true)
    expect(audience()).toEqual(new Set([hashEmail('old@example.com'), hashEmail('new@example.com'), hashEmail('c7@example.com')]))
  })

  it('two syncs of the audience at once end with Meta holding the members: a customer who left and came back during a sync is in it', async () => {
    await setUp('default', 'meta_token_a')
    const x = hashEmail('x@example.com')
    await send('default', 'customer.created', { id: 'cx', email: 'x@example.com', accepts_marketing: true })
    expect(meta.audience('6001')).toEqual(new Set([x]))
    const accept = async (type: string, data: Record<string, unknown>) => {
      const res = await api.server.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: as('default'),
        payload: event(type, `ev-${++seq}`, data, api.env.clock.now().toISOString()),
      })
      expect(res.statusCode, res.body).toBe(202)
      await api.env.app.engine.settle()
    }
    // cx unsubscribes: the exit workflow's sync sends the DELETE, and Meta holds it unanswered
    const held = meta.holdNext()
    await accept('newsletter.unsubscribed', { customer: { id: 'cx', email: 'x@example.com' } })
    const first = api.env.app.engine.tick('first-worker')
    await held.reached
    // cx subscribes again a minute later, while that sync is under way: the entry workflow's sync
    // runs beside it, and finds cx still sent (the first has not recorded its removal): nothing to send
    api.env.clock.set(new Date(api.env.clock.now().getTime() + 60_000))
    await accept('newsletter.subscribed', { customer: { id: 'cx', email: 'x@example.com', accepts_marketing: true } })
    expect(await api.env.app.engine.tick('second-worker')).toBe(1)
    expect(JSON.parse((await outputs('default')).at(-1)!.output!)).toEqual({ added: 0, removed: 0, batches: 0 })
    // the first, its DELETE answered, records the removal and reads again before it ends: cx is a
    // member, so it sends the email back. Each sync ends on a read that finds nothing left to send,
    // so the last to end leaves Meta as the members are
    held.release()
    await first
    expect(meta.requests.slice(-2).map((r) => [r.method, r.rows])).toEqual([
      ['DELETE', [[x]]],
      ['POST', [[x]]],
    ])
    expect((await outputs('default')).map((o) => o.status)).toEqual(['completed', 'completed', 'completed'])
    expect(meta.audience('6001')).toEqual(new Set([x]))
  })
})
