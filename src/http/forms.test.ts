import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { rowCounts } from '../../test/helpers/row-counts.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import { createConnector } from '../store/connectors.repo.ts'
import { createKey, createStore } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

/**
 * POST /forms/:store/:form (docs/events.md, Ingest paths): shoppers' browsers post sign-up forms with no key.
 * Store `default` is shop-a.example (its connector's shop domain); store `b` is shop-b.example.
 */
const SHOP_A = 'https://shop-a.example'
const SHOP_B = 'https://shop-b.example'
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

describe.each(DIALECTS)('forms on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let admin: { authorization: string }

  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: { STOREFLOW_FORM_RATE_LIMIT: '5/min' } })
    server = await buildServer(env.app)
    const db = env.app.handle.db
    const now = env.clock.now()
    await createStore(db, { id: 'b' }, now)
    await createConnector(db, env.config.secretKey, 'default', { platform: 'shopify', secrets: ['s-a'], shop_domain: 'shop-a.example' }, now)
    await createConnector(db, env.config.secretKey, 'b', { platform: 'shopify', secrets: ['s-b'], shop_domain: 'shop-b.example' }, now)
    admin = { authorization: `Bearer ${(await createKey(db, 'default', 'admin', now)).key}` }
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  const post = (payload: string | object, options: { store?: string; form?: string; headers?: Record<string, string> } = {}) =>
    server.inject({
      method: 'POST',
      url: `/forms/${options.store ?? 'default'}/${options.form ?? 'newsletter'}`,
      headers: { ...(typeof payload === 'string' ? FORM : {}), ...options.headers },
      payload,
    })
  const customer = async (ref: string, store = 'default') => {
    await env.app.engine.settle()
    await env.app.engine.drain()
    const headers = store === 'default' ? admin : { authorization: `Bearer ${(await createKey(env.app.handle.db, store, 'read', env.clock.now())).key}` }
    const res = await server.inject({ method: 'GET', url: `/api/v1/customers/${encodeURIComponent(ref)}`, headers })
    return res.statusCode === 200 ? res.json() : null
  }

  it('a form post creates the customer; consent only when the explicit field is set', async () => {
    const yes = await post('email=Ada%40example.com&first_name=Ada&accepts_marketing=on')
    expect(yes.statusCode, yes.body).toBe(202)
    expect(yes.json()).toMatchObject({ duplicate: false })
    expect(yes.json().id).toMatch(/^form_/)
    const no = await post({ email: 'bob@example.com', first_name: 'Bob', comment: 'I agree to nothing' })
    expect(no.statusCode, no.body).toBe(202)

    expect(await customer('ada@example.com')).toMatchObject({ email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true })
    expect(await customer('bob@example.com')).toMatchObject({ email: 'bob@example.com', first_name: 'Bob', accepts_marketing: false })
    // the event as workflows see it
    const events = await server.inject({ method: 'GET', url: '/api/v1/events?type=form.submitted', headers: admin })
    expect(events.json().items.map((e: any) => e.data)).toContainEqual({
      form: 'newsletter',
      fields: { email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true },
    })
  })

  it("a stranger's form cannot write to a customer by the shop's id, nor tag itself", async () => {
    const ingest = await server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: admin,
      payload: { id: 'c-vip', type: 'customer.created', data: { id: 'c-vip', email: 'vip@example.com', first_name: 'Vera' } },
    })
    expect(ingest.statusCode).toBe(202)
    // upsert_customer with its defaults takes the form's fields, but never its id or tags
    await installWorkflow(
      env.app,
      `
id: signup-default
name: Sign-up with the defaults
trigger: { event: form.submitted }
steps:
  - action: upsert_customer
`,
    )
    expect((await post('id=c-vip&email=mallory%40example.com&first_name=Mallory&tags=vip')).statusCode).toBe(202)
    expect(await customer('c-vip')).toMatchObject({ email: 'vip@example.com', first_name: 'Vera', tags: [] })
    expect(await customer('mallory@example.com')).toMatchObject({ id: null, first_name: 'Mallory', tags: [] })
  })

  it("a stranger's form fills what a known customer lacks but overwrites nothing, and cannot opt back in someone who unsubscribed", async () => {
    const shop = (id: string, type: string, data: object, at: string) =>
      server.inject({ method: 'POST', url: '/api/v1/events', headers: admin, payload: { id, type, occurred_at: at, data } })
    expect(
      (await shop('c1', 'customer.created', { id: 'c1', email: 'vera@example.com', first_name: 'Vera', phone: '+15550001111' }, '2026-03-01T10:00:00Z'))
        .statusCode,
    ).toBe(202)
    expect((await shop('u1', 'newsletter.unsubscribed', { customer: { id: 'c1', email: 'vera@example.com' } }, '2026-03-01T11:00:00Z')).statusCode).toBe(202)
    await installWorkflow(
      env.app,
      `
id: signup-default
name: Sign-up with the defaults
trigger: { event: form.submitted }
steps:
  - action: upsert_customer
`,
    )
    const attack =
      'email=VERA%40example.com&phone=%2B19990000000&first_name=Your+account+is+locked&birthday=1990-03-02&timezone=Pacific/Kiritimati&accepts_marketing=on'
    expect((await post(attack)).statusCode).toBe(202)
    // the gaps (birthday, time zone) are filled; the name, phone and the unsubscribe stand
    expect(await customer('c1')).toMatchObject({
      first_name: 'Vera',
      phone: '+15550001111',
      birthday: '1990-03-02',
      timezone: 'Pacific/Kiritimati',
      accepts_marketing: false,
      unsubscribed_at: '2026-03-01T11:00:00.000Z',
    })
  })

  it('upsert_customer maps other field names, and records consent only from the named field', async () => {
    await installWorkflow(
      env.app,
      `
id: signup
name: Sign-up form
trigger: { event: form.submitted }
steps:
  - action: upsert_customer
    id: upsert
    with:
      fields: { email: '{{ event.data.fields.Email }}', first_name: '{{ event.data.fields.Name }}', newsletter: '{{ event.data.fields.newsletter }}' }
      consent_field: newsletter
`,
    )
    expect((await post('Email=cy%40example.com&Name=Cy&newsletter=on')).statusCode).toBe(202)
    expect((await post('Email=di%40example.com&Name=Di&accepts_marketing=on')).statusCode).toBe(202)
    await env.app.engine.settle()
    await env.app.engine.drain()
    expect(await customer('cy@example.com')).toMatchObject({ first_name: 'Cy', accepts_marketing: true })
    // accepts_marketing on the form, but the workflow names `newsletter` as its consent field
    expect(await customer('di@example.com')).toMatchObject({ first_name: 'Di', accepts_marketing: false })
  })

  it('the honeypot answers as usual and stores nothing', async () => {
    const before = await rowCounts(env.app.handle)
    const res = await post('email=bot%40example.com&_hp=http%3A%2F%2Fspam.example')
    expect(res.statusCode).toBe(202)
    expect(res.json().id).toMatch(/^form_/)
    await env.app.engine.settle()
    expect(await rowCounts(env.app.handle)).toEqual(before)
    expect(await customer('bot@example.com')).toBeNull()
  })

  it("CORS answers the store's own shop origin only: another store's origin gets no header", async () => {
    const own = await post('email=e%40example.com', { headers: { origin: SHOP_A } })
    expect(own.statusCode).toBe(202)
    expect(own.headers['access-control-allow-origin']).toBe(SHOP_A)
    const other = await post('email=f%40example.com', { headers: { origin: SHOP_B } })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
    const evil = await post('email=g%40example.com', { headers: { origin: 'https://evil.example' } })
    expect(evil.headers['access-control-allow-origin']).toBeUndefined()
    // the preflight likewise
    const preflight = (origin: string, store = 'default') =>
      server.inject({ method: 'OPTIONS', url: `/forms/${store}/newsletter`, headers: { origin, 'access-control-request-method': 'POST' } })
    expect((await preflight(SHOP_A)).headers['access-control-allow-origin']).toBe(SHOP_A)
    expect((await preflight(SHOP_B)).headers['access-control-allow-origin']).toBeUndefined()
    expect((await preflight(SHOP_B, 'b')).headers['access-control-allow-origin']).toBe(SHOP_B)
    // store b's form stays store b's
    expect((await post('email=h%40example.com', { store: 'b', headers: { origin: SHOP_B } })).statusCode).toBe(202)
    expect(await customer('h@example.com')).toBeNull()
    expect(await customer('h@example.com', 'b')).toMatchObject({ email: 'h@example.com' })
  })

  it('the 6th post in a minute from one client to one store gets 429; another store is not spent', async () => {
    for (let i = 0; i < 5; i++) expect((await post(`email=r${i}%40example.com`)).statusCode).toBe(202)
    const refused = await post('email=r9%40example.com')
    expect(refused.statusCode).toBe(429)
    expect(refused.json().error.code).toBe('rate_limited')
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect((await post('email=r9%40example.com', { store: 'b' })).statusCode).toBe(202)
    env.clock.advance(60_000)
    expect((await post('email=r9%40example.com')).statusCode).toBe(202)
  })

  it('bad input is a 400 naming the field; an unknown store 404; a big body 413; _redirect only to the shop', async () => {
    const bad = await post('email=not-an-email')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.message).toMatch(/^email:/)
    const nested = await post({ email: 'x@example.com', address: { city: 'Berlin' } })
    expect(nested.statusCode).toBe(400)
    expect(nested.json().error.message).toMatch(/^address:/)
    const consent = await post('email=x%40example.com&accepts_marketing=maybe')
    expect(consent.statusCode).toBe(400)
    expect(consent.json().error.message).toMatch(/^accepts_marketing:/)
    const badForm = await post('email=x%40example.com', { form: '..%2F..' })
    expect([400, 404]).toContain(badForm.statusCode)
    expect((await post('email=x%40example.com', { store: 'nope' })).statusCode).toBe(404)
    const big = await post(`email=x%40example.com&comment=${'x'.repeat(20_000)}`)
    expect(big.statusCode).toBe(413)
    expect(big.json().error.message).toContain('16384 bytes')

    env.clock.advance(60_000) // past the 5/min rate limit

    const redirected = await post(`email=y%40example.com&_redirect=${encodeURIComponent(`${SHOP_A}/thanks`)}`)
    expect(redirected.statusCode).toBe(303)
    expect(redirected.headers.location).toBe(`${SHOP_A}/thanks`)
    const offsite = await post(`email=z%40example.com&_redirect=${encodeURIComponent('https://evil.example/phish')}`)
    expect(offsite.statusCode).toBe(400)
    expect(offsite.json().error.message).toMatch(/^_redirect:/)
    expect(await customer('z@example.com')).toBeNull()
  })
})
