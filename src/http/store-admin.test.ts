import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { type SmtpSink, startSmtpSink } from '../../test/helpers/smtp-sink.ts'
import { closeSmtpTransports } from '../actions/send-email/smtp.ts'
import { createKey, createStore } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

/** The dashboard's store lists, API keys, users and SMTP test mail (routes/store-admin.ts), store A against store B. */
describe.each(DIALECTS)('store admin routes on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let smtp: SmtpSink
  const keys = { a: '', b: '', aRead: '' }

  beforeEach(async () => {
    smtp = await startSmtpSink()
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_MAIL_FROM: 'shop@a.example' } })
    server = await buildServer(env.app)
    const db = env.app.handle.db
    await createStore(db, { id: 'other', name: 'Other' }, env.clock.now())
    keys.a = (await createKey(db, 'default', 'admin', env.clock.now())).key
    keys.aRead = (await createKey(db, 'default', 'read', env.clock.now())).key
    keys.b = (await createKey(db, 'other', 'admin', env.clock.now())).key
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
    // the pooled connection of the test mail would keep the sink open
    closeSmtpTransports()
    await smtp.close()
  })

  const call = (key: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    server.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
  const items = (res: { json(): unknown }) => (res.json() as { items: Array<Record<string, unknown>> }).items

  async function seed(key: string, name: string, prefix: string) {
    const customer = { id: `${prefix}-1`, email: `${name.toLowerCase()}@example.com`, first_name: name, last_name: '100% Quill', accepts_marketing: true }
    const events = [
      { id: `${prefix}-c`, type: 'customer.created', occurred_at: '2026-03-01T09:00:00Z', data: customer },
      {
        id: `${prefix}-c2`,
        type: 'customer.created',
        occurred_at: '2026-03-01T09:05:00Z',
        data: { id: `${prefix}-2`, email: `${prefix}-two@example.com`, first_name: 'Two' },
      },
      {
        id: `${prefix}-o`,
        type: 'order.paid',
        occurred_at: '2026-03-01T10:00:00Z',
        data: {
          id: `${prefix}-order`,
          number: '1',
          customer,
          currency: 'USD',
          total_price: '12.00',
          line_items: [{ sku: 'MUG', quantity: 1, price: '12.00' }],
        },
      },
      {
        id: `${prefix}-cart`,
        type: 'cart.updated',
        occurred_at: '2026-03-01T11:00:00Z',
        data: { id: `${prefix}-cart`, email: customer.email, currency: 'USD', total_price: '5.00', line_items: [], updated_at: '2026-03-01T11:00:00Z' },
      },
    ]
    const res = await call(key, 'POST', '/api/v1/events?history=true', { events })
    expect(res.statusCode, res.body).toBe(202)
    await env.app.engine.settle()
    await env.app.engine.drain()
  }

  it('customers: newest first, paged, found by a part of the name in any case (% taken literally); only the own store', async () => {
    await seed(keys.a, 'Alice', 'a')
    await seed(keys.b, 'Bertha', 'b')
    const all = await call(keys.aRead, 'GET', '/api/v1/customers')
    expect(all.statusCode, all.body).toBe(200)
    expect(items(all).map((c) => c['id'])).toEqual(['a-2', 'a-1'])
    expect(items(all)[1]).toMatchObject({ first_name: 'Alice', orders_count: 1, total_spent: 12 })

    const first = await call(keys.aRead, 'GET', '/api/v1/customers?limit=1')
    expect(items(first).map((c) => c['id'])).toEqual(['a-2'])
    const next = await call(keys.aRead, 'GET', `/api/v1/customers?limit=1&cursor=${(first.json() as { next_cursor: string }).next_cursor}`)
    expect(items(next).map((c) => c['id'])).toEqual(['a-1'])

    expect(items(await call(keys.aRead, 'GET', '/api/v1/customers?q=aLIC')).map((c) => c['id'])).toEqual(['a-1'])
    expect(items(await call(keys.aRead, 'GET', `/api/v1/customers?q=${encodeURIComponent('100%')}`)).map((c) => c['id'])).toEqual(['a-1'])
    // "%" alone is a character to find, not a wildcard: only the name that has it
    expect(items(await call(keys.aRead, 'GET', `/api/v1/customers?q=${encodeURIComponent('%')}`)).map((c) => c['id'])).toEqual(['a-1'])
    expect(items(await call(keys.aRead, 'GET', '/api/v1/customers?q=bertha'))).toEqual([])
    expect(items(await call(keys.b, 'GET', '/api/v1/customers?q=bertha')).map((c) => c['id'])).toEqual(['b-1'])

    const long = await call(keys.aRead, 'GET', `/api/v1/customers?q=${'x'.repeat(201)}`)
    expect(long.statusCode).toBe(400)
    expect(long.json().error.details.field).toBe('q')
    const badLimit = await call(keys.aRead, 'GET', '/api/v1/customers?limit=0')
    expect(badLimit.json().error.details.field).toBe('limit')
  })

  it("orders and carts: the store's own, by customer; a bad filter names its field", async () => {
    await seed(keys.a, 'Alice', 'a')
    await seed(keys.b, 'Bertha', 'b')
    const orders = await call(keys.aRead, 'GET', '/api/v1/orders')
    expect(items(orders).map((o) => o['id'])).toEqual(['a-order'])
    expect(items(orders)[0]).toMatchObject({ total_price: 12, line_items: [{ sku: 'MUG', quantity: 1, price: 12 }] })
    expect(items(await call(keys.aRead, 'GET', '/api/v1/orders?customer=a-1')).map((o) => o['id'])).toEqual(['a-order'])
    expect(items(await call(keys.aRead, 'GET', '/api/v1/orders?customer=alice@example.com')).map((o) => o['id'])).toEqual(['a-order'])
    expect(items(await call(keys.aRead, 'GET', '/api/v1/orders?customer=a-2'))).toEqual([])
    expect(items(await call(keys.aRead, 'GET', '/api/v1/orders?customer=b-1'))).toEqual([])

    expect(items(await call(keys.aRead, 'GET', '/api/v1/carts')).map((c) => c['id'])).toEqual(['a-cart'])
    expect(items(await call(keys.aRead, 'GET', '/api/v1/carts?converted=false')).map((c) => c['id'])).toEqual(['a-cart'])
    expect(items(await call(keys.aRead, 'GET', '/api/v1/carts?converted=true'))).toEqual([])
    const bad = await call(keys.aRead, 'GET', '/api/v1/carts?converted=yes')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.details.field).toBe('converted')
  })

  it('API keys: created once with the key, listed without it, revoked (then refused); another store cannot revoke one', async () => {
    const made = await call(keys.a, 'POST', '/api/v1/keys', { scope: 'ingest' })
    expect(made.statusCode, made.body).toBe(201)
    const created = made.json() as { id: string; key: string; scope: string; store: string }
    expect(created).toMatchObject({ scope: 'ingest', store: 'default' })

    const list = await call(keys.a, 'GET', '/api/v1/keys')
    expect(items(list).map((k) => k['id'])).toContain(created.id)
    expect(list.body).not.toContain(created.key)
    expect(items(await call(keys.b, 'GET', '/api/v1/keys')).map((k) => k['id'])).not.toContain(created.id)

    // the read key may not manage keys
    expect((await call(keys.aRead, 'GET', '/api/v1/keys')).statusCode).toBe(403)
    expect((await call(keys.aRead, 'POST', '/api/v1/keys', { scope: 'admin' })).statusCode).toBe(403)

    const bad = await call(keys.a, 'POST', '/api/v1/keys', { scope: 'root' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.details.field).toBe('scope')
    const notObject = await call(keys.a, 'POST', '/api/v1/keys', ['read'])
    expect(notObject.json().error.details.field).toBe('body')

    expect((await call(keys.b, 'DELETE', `/api/v1/keys/${created.id}`)).statusCode).toBe(404)
    expect(
      (
        await call(created.key, 'POST', '/api/v1/events', {
          id: 'e1',
          type: 'customer.created',
          occurred_at: '2026-03-01T09:00:00Z',
          data: { id: 'x', email: 'x@example.com' },
        })
      ).statusCode,
    ).toBe(202)
    expect((await call(keys.a, 'DELETE', `/api/v1/keys/${created.id}`)).statusCode).toBe(204)
    expect(items(await call(keys.a, 'GET', '/api/v1/keys')).find((k) => k['id'] === created.id)?.['revoked_at']).toBeTruthy()
    expect((await call(keys.a, 'DELETE', `/api/v1/keys/${created.id}`)).statusCode).toBe(404)
  })

  it("users are the installation's: a store's key, even admin, may not list or add them", async () => {
    for (const key of [keys.a, keys.b]) {
      expect((await call(key, 'GET', '/api/v1/users')).statusCode).toBe(403)
      const add = await call(key, 'POST', '/api/v1/users', { email: 'new@example.com', password: 'long enough password' })
      expect(add.statusCode).toBe(403)
    }
    expect(await env.app.services.users.count()).toBe(0)
  })

  it("SMTP test mail: sent from the store's sender to the address given; a bad address names to", async () => {
    const sent = await call(keys.a, 'POST', '/api/v1/settings/smtp/test', { to: 'ops@example.com' })
    expect(sent.statusCode, sent.body).toBe(200)
    const [mail] = await smtp.waitForMessages(1)
    expect(mail!.to).toMatchObject({ text: 'ops@example.com' })
    expect(mail!.from?.text).toContain('shop@a.example')
    expect(mail!.subject).toContain('test mail')

    for (const payload of [{}, { to: 'nobody' }, { to: 42 }]) {
      const bad = await call(keys.a, 'POST', '/api/v1/settings/smtp/test', payload)
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400)
      expect(bad.json().error.details.field).toBe('to')
    }
    expect((await call(keys.aRead, 'POST', '/api/v1/settings/smtp/test', { to: 'ops@example.com' })).statusCode).toBe(403)
  })
})
