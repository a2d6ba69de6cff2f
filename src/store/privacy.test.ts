import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { textColumns } from '../../test/helpers/schema.ts'
import { fixture, hmacBase64 } from '../connectors/testing.ts'
import { buildServer } from '../http/server.ts'
import { createKey, createStore } from './stores.repo.ts'

/**
 * Privacy duties end to end: a customer's order arrives through a signed Shopify webhook, starts
 * workflows (a sent mail, a log step with their name, a run still waiting), then Shopify's
 * compliance topics export and erase them. After customers/redact no text column of any table
 * holds their email, name, phone or address.
 */

const SECRET = 'shpss_privacy-test-secret'
const CUSTOMER_ID = '115310627314723954'
const EMAIL = 'zelda.quill@example.org'
const FIRST = 'Zelda'
const LAST = 'Quillfeather'
const PHONE = '+1 613 555 0199'
const STREET = '77 Wrenfield Lane'
const CITY = 'Wrenfieldton'
/** Shopify sends its ids as JSON numbers beyond 2^53: the placeholder becomes the exact digits (Number() would round them). */
const SHOPIFY_CUSTOMER_ID = '@customer-id'
const shopifyBody = (payload: unknown): Buffer => Buffer.from(JSON.stringify(payload).replace(`"${SHOPIFY_CUSTOMER_ID}"`, CUSTOMER_ID))
/** an address line any shop may see: the erased customer's, and a neighbour's, and in every event type */
const COMMON = 'order'

/** The documented orders/create fixture, re-personalised with distinctive strings to search for. */
function personalOrder(): Buffer {
  const text = fixture('shopify', 'orders-create.json')
    .toString('utf8')
    .replaceAll('john@example.com', EMAIL)
    .replaceAll('jon@example.com', EMAIL.toUpperCase())
    .replaceAll('"John"', `"${FIRST}"`)
    .replaceAll('"Smith"', `"${LAST}"`)
    .replaceAll('John Smith', `${FIRST} ${LAST}`)
    .replaceAll('"Steve"', `"${FIRST}"`)
    .replaceAll('"Shipper"', `"${LAST}"`)
    .replaceAll('Steve Shipper', `${FIRST} ${LAST}`)
    .replaceAll('123 Elm St.', STREET)
    .replaceAll('123 Shipping Street', STREET)
    .replaceAll('Shippington', CITY)
    .replaceAll('Ottawa', CITY)
    .replaceAll('123-123-1234', PHONE)
    .replaceAll('555-555-SHIP', PHONE)
    .replaceAll('"address2": null', `"address2": "${COMMON}"`)
  return Buffer.from(text)
}

const WORKFLOWS = [
  `id: thanks
name: Thanks
trigger: { event: order.created }
steps:
  - action: send_email
    with: { subject: 'Thanks {{ customer.first_name }}', html: '<p>Hi {{ customer.first_name }} {{ customer.last_name }} ({{ customer.email }}), order {{ order.number }} ships to {{ order.shipping_address.address1 }}.</p>', category: transactional }
  - action: log
    with: { message: 'mailed {{ customer.email }} {{ customer.first_name }} {{ customer.last_name }}' }
`,
  `id: follow-up
name: Follow up
trigger: { event: order.created }
exit_when:
  - event: order.cancelled
steps:
  - wait: 3d
  - action: log
    with: { message: 'follow up {{ customer.email }}' }
`,
]

describe.each(DIALECTS)('privacy on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let admin: string

  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: {} })
    server = await buildServer(env.app)
    admin = (await createKey(env.app.handle.db, 'default', 'admin', env.clock.now())).key
    expect((await api('POST', '/api/v1/connectors', { platform: 'shopify', secrets: [SECRET], shop_domain: 'jsmith.myshopify.com' })).statusCode).toBe(201)
    for (const wf of WORKFLOWS) {
      const res = await server.inject({
        method: 'POST',
        url: '/api/v1/workflows',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/yaml' },
        payload: wf,
      })
      expect(res.statusCode).toBe(201)
      expect((await api('POST', `/api/v1/workflows/${res.json().id}/activate`)).statusCode).toBe(200)
    }
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    server.inject({ method, url, headers: { authorization: `Bearer ${admin}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
  const shopify = (topic: string, body: Buffer, eventId: string) =>
    server.inject({
      method: 'POST',
      url: '/webhooks/shopify/default',
      payload: body,
      headers: {
        'content-type': 'application/json',
        'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': 'jsmith.myshopify.com',
        'x-shopify-event-id': eventId,
        'x-shopify-webhook-id': `wh-${eventId}`,
      },
    })

  async function seed(): Promise<void> {
    const order = personalOrder()
    expect((await shopify('orders/create', order, 'e-create')).json()).toMatchObject({ ok: true, events: 1 })
    expect((await shopify('orders/paid', order, 'e-paid')).json()).toMatchObject({ ok: true, events: 1 })
    // another customer, who must keep their data
    const other = await api('POST', '/api/v1/events', {
      id: 'other-1',
      type: 'customer.created',
      occurred_at: '2026-03-01T00:00:00Z',
      data: { id: 'c-other', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true },
    })
    expect(other.statusCode).toBe(202)
    await env.app.engine.drain()
  }

  /** Every text column of every table (of one store's rows, when given), searched case-insensitively for each string. */
  async function holders(needles: string[], store?: string): Promise<string[]> {
    const found: string[] = []
    for (const { table, column, storeScoped } of await textColumns(env.app.handle.db, env.app.handle.dialect)) {
      if (store && !storeScoped) continue
      for (const n of needles) {
        const scope = store ? sql`and store_id = ${store}` : sql``
        const res = await sql<{
          n: number
        }>`select count(*) as n from ${sql.table(table)} where lower(${sql.ref(column)}) like ${`%${n.toLowerCase()}%`} ${scope}`.execute(env.app.handle.db)
        if (Number(res.rows[0]!.n) > 0) found.push(`${table}.${column}: ${n}`)
      }
    }
    return found
  }

  /** Every row of every table that has store_id, for one store, as sorted JSON lines: to compare before and after. */
  async function dumpStore(store: string): Promise<Record<string, string[]>> {
    const db = env.app.handle.db
    const tables = [...new Set((await textColumns(db, env.app.handle.dialect)).filter((c) => c.storeScoped).map((c) => c.table))].sort()
    const out: Record<string, string[]> = {}
    for (const table of tables) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)} where store_id = ${store}`.execute(db)
      out[table] = rows.rows.map((r) => JSON.stringify(r)).sort()
    }
    return out
  }

  /** One customer's rows: profile, and every row that points at their key or at one of their runs. */
  async function dumpCustomer(store: string, externalId: string): Promise<Record<string, string[]>> {
    const db = env.app.handle.db
    const customer = await db.selectFrom('customers').selectAll().where('store_id', '=', store).where('external_id', '=', externalId).executeTakeFirstOrThrow()
    const runIds = (await db.selectFrom('runs').select('id').where('store_id', '=', store).where('customer_key', '=', customer.key).execute()).map((r) => r.id)
    const rows = (list: unknown[]) => list.map((r) => JSON.stringify(r)).sort()
    const ids = runIds.length > 0 ? runIds : ['none']
    return {
      customers: rows([customer]),
      events: rows(await db.selectFrom('events').selectAll().where('store_id', '=', store).where('customer_key', '=', customer.key).execute()),
      orders: rows(await db.selectFrom('orders').selectAll().where('store_id', '=', store).where('customer_key', '=', customer.key).execute()),
      carts: rows(await db.selectFrom('carts').selectAll().where('store_id', '=', store).where('customer_key', '=', customer.key).execute()),
      messages: rows(await db.selectFrom('messages').selectAll().where('store_id', '=', store).where('customer_key', '=', customer.key).execute()),
      runs: rows(await db.selectFrom('runs').selectAll().where('id', 'in', ids).execute()),
      run_steps: rows(await db.selectFrom('run_steps').selectAll().where('run_id', 'in', ids).execute()),
      correlations: rows(await db.selectFrom('correlations').selectAll().where('run_id', 'in', ids).execute()),
    }
  }

  /** (seq, type) of every event: erasure never rewrites an event's type. */
  async function eventTypes(): Promise<string[]> {
    return (await env.app.handle.db.selectFrom('events').select(['seq', 'type']).orderBy('seq').execute()).map((e) => `${e.seq} ${e.type}`)
  }

  const SECRET_B = 'shpss_privacy-test-secret-b'
  const SHOP_B = 'zelda-b.myshopify.com'

  /**
   * A second store that knows the same person (same email, name, phone and street: people shop in
   * several shops), and in store A a neighbour who shares strings with the erased customer: the same
   * first name and city, and an address line that is a word found in every event type.
   */
  async function seedNeighbours(): Promise<void> {
    const db = env.app.handle.db
    await createStore(db, { id: 'b', name: 'Store B' }, env.clock.now())
    const adminB = (await createKey(db, 'b', 'admin', env.clock.now())).key
    const apiB = (method: 'POST', url: string, payload: unknown, contentType?: string) =>
      server.inject({
        method,
        url,
        headers: { authorization: `Bearer ${adminB}`, ...(contentType ? { 'content-type': contentType } : {}) },
        payload: payload as string,
      })
    expect((await apiB('POST', '/api/v1/connectors', { platform: 'shopify', secrets: [SECRET_B], shop_domain: SHOP_B })).statusCode).toBe(201)
    for (const wf of WORKFLOWS) {
      const res = await apiB('POST', '/api/v1/workflows', wf, 'application/yaml')
      expect(res.statusCode).toBe(201)
      expect((await apiB('POST', `/api/v1/workflows/${res.json().id}/activate`, {})).statusCode).toBe(200)
    }
    const order = personalOrder()
    const toB = (topic: string, body: Buffer, eventId: string) =>
      server.inject({
        method: 'POST',
        url: '/webhooks/shopify/b',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-shopify-hmac-sha256': hmacBase64(SECRET_B, body),
          'x-shopify-topic': topic,
          'x-shopify-shop-domain': SHOP_B,
          'x-shopify-event-id': eventId,
          'x-shopify-webhook-id': `wh-b-${eventId}`,
        },
      })
    expect((await toB('orders/create', order, 'e-create')).json()).toMatchObject({ ok: true, events: 1 })
    expect((await toB('orders/paid', order, 'e-paid')).json()).toMatchObject({ ok: true, events: 1 })
    const dr = shopifyBody({
      shop_id: 1,
      shop_domain: SHOP_B,
      orders_requested: [],
      customer: { id: SHOPIFY_CUSTOMER_ID, email: EMAIL, phone: PHONE },
      data_request: { id: 7 },
    })
    expect((await toB('customers/data_request', dr, 'e-dr')).statusCode).toBe(200)

    const neighbour = { id: 'c-neighbour', email: 'zelda.brook@example.net', first_name: FIRST, last_name: 'Brook', phone: '+1 613 555 0123' }
    const address = { first_name: FIRST, last_name: 'Brook', address1: COMMON, city: CITY, country_code: 'CA' }
    const res = await api('POST', '/api/v1/events', {
      id: 'neighbour-order',
      type: 'order.created',
      occurred_at: '2026-03-01T12:00:00Z',
      data: {
        id: 'n-1',
        number: '77',
        currency: 'USD',
        total_price: '12.00',
        line_items: [{ sku: 'TEA-1', quantity: 1, price: '12.00' }],
        customer: neighbour,
        shipping_address: address,
        billing_address: address,
      },
    })
    expect(res.statusCode).toBe(202)
    await env.app.engine.drain()
  }

  it('the seeded data really is everywhere (so the redact test below proves something)', async () => {
    await seed()
    const found = await holders([EMAIL, FIRST, LAST, PHONE, STREET, CITY])
    for (const where of [
      `events.data: ${EMAIL}`,
      `orders.data: ${STREET}`,
      `customers.email: ${EMAIL}`,
      `messages.to_addr: ${EMAIL}`,
      `messages.html: ${STREET}`,
      `run_steps.output: ${LAST}`,
      `runs.customer_email: ${EMAIL}`,
      `webhook_deliveries.body: ${PHONE}`,
    ]) {
      expect(found).toContain(where)
    }
  })

  it('export holds the customer profile, orders, events, messages and runs; data_request keeps one retrievable', async () => {
    await seed()
    const res = await api('GET', `/api/v1/customers/${CUSTOMER_ID}/export`)
    expect(res.statusCode).toBe(200)
    const ex = res.json()
    expect(ex.customer).toMatchObject({ id: CUSTOMER_ID, email: EMAIL, first_name: FIRST, last_name: LAST, orders_count: 1 })
    expect(ex.orders.map((o: { id: string; number: string }) => `${o.id}:${o.number}`)).toEqual(['820982911946154508:1234'])
    // with the segment.entered (new) their first order derived
    expect(ex.events.map((e: { type: string }) => e.type).sort()).toEqual(['order.created', 'order.paid', 'segment.entered'])
    expect(ex.messages).toHaveLength(1)
    expect(ex.messages[0]).toMatchObject({ to: EMAIL, subject: `Thanks ${FIRST}` })
    expect(ex.runs.map((r: { workflow_id: string; status: string }) => `${r.workflow_id}:${r.status}`).sort()).toEqual([
      'follow-up:waiting',
      'thanks:completed',
    ])
    expect(ex.runs.find((r: { workflow_id: string }) => r.workflow_id === 'thanks').steps.length).toBeGreaterThan(0)
    expect(ex.deliveries.length).toBe(2)
    expect((await api('GET', '/api/v1/customers/nobody/export')).statusCode).toBe(404)

    const request = shopifyBody({
      shop_id: 954889,
      shop_domain: 'jsmith.myshopify.com',
      orders_requested: [820982911946154508n.toString()],
      customer: { id: SHOPIFY_CUSTOMER_ID, email: EMAIL, phone: PHONE },
      data_request: { id: 9999 },
    })
    const dr = await shopify('customers/data_request', request, 'e-dr')
    expect(dr.statusCode).toBe(200)
    const exports = (await api('GET', '/api/v1/privacy-exports')).json()
    expect(exports.items).toHaveLength(1)
    const stored = (await api('GET', `/api/v1/privacy-exports/${exports.items[0].id}`)).json()
    expect(stored.data.orders.map((o: { id: string }) => o.id)).toEqual(['820982911946154508'])
    expect(stored.data.customer.email).toBe(EMAIL)
    // the compliance event keeps the shop's ids, never the email
    const event = await env.app.handle.db.selectFrom('events').select('data').where('type', '=', 'raw.shopify.customers_data_request').executeTakeFirstOrThrow()
    expect(event.data).not.toContain(EMAIL)
  })

  it('after customers/redact no row in any table holds their email, name, phone or address; aggregates stay, runs end', async () => {
    await seed()
    const dr = shopifyBody({
      shop_id: 954889,
      shop_domain: 'jsmith.myshopify.com',
      orders_requested: [],
      customer: { id: SHOPIFY_CUSTOMER_ID, email: EMAIL, phone: PHONE },
      data_request: { id: 1 },
    })
    expect((await shopify('customers/data_request', dr, 'e-dr')).statusCode).toBe(200)
    // Shopify's documented customers/redact payload
    const redact = Buffer.from(
      `{"shop_id":954889,"shop_domain":"jsmith.myshopify.com","customer":{"id":${CUSTOMER_ID},"email":"${EMAIL}","phone":"${PHONE}"},"orders_to_redact":[820982911946154508]}`,
    )
    // the waiting follow-up listens for the order's cancellation: the one correlation the redact must end
    const before = await env.app.handle.db
      .selectFrom('correlations')
      .innerJoin('runs', 'runs.id', 'correlations.run_id')
      .select(['runs.workflow_id', 'correlations.event_type', 'correlations.purpose'])
      .execute()
    expect(before).toEqual([{ workflow_id: 'follow-up', event_type: 'order.cancelled', purpose: 'exit_when' }])
    const res = await shopify('customers/redact', redact, 'e-redact')
    expect(res.statusCode).toBe(200)
    expect(res.json().ok).toBe(true)

    expect(await holders([EMAIL, FIRST, LAST, `${FIRST} ${LAST}`, PHONE, STREET, CITY])).toEqual([])

    const db = env.app.handle.db
    const customer = await db.selectFrom('customers').selectAll().where('external_id', '=', CUSTOMER_ID).executeTakeFirstOrThrow()
    expect(customer).toMatchObject({ email: null, phone: null, first_name: null, last_name: null, orders_count: 1, total_spent: '404.95' })
    const order = await db.selectFrom('orders').selectAll().where('id', '=', '820982911946154508').executeTakeFirstOrThrow()
    expect(order.total_price).toBe('404.95')
    expect(JSON.parse(order.data).line_items.map((li: { sku: string }) => li.sku)).toContain('SKU2006-001')
    const runs = await db.selectFrom('runs').select(['workflow_id', 'status', 'due_at', 'customer_email']).orderBy('workflow_id').execute()
    expect(runs).toEqual([
      { workflow_id: 'follow-up', status: 'cancelled', due_at: null, customer_email: null },
      { workflow_id: 'thanks', status: 'completed', due_at: null, customer_email: null },
    ])
    expect(await db.selectFrom('correlations').selectAll().execute()).toEqual([])
    expect(await db.selectFrom('privacy_exports').selectAll().execute()).toEqual([])
    // nothing of the run wakes up later
    env.clock.advance(4 * 86_400_000)
    await env.app.engine.drain()
    expect((await db.selectFrom('runs').select('status').where('workflow_id', '=', 'follow-up').executeTakeFirstOrThrow()).status).toBe('cancelled')
    // the other customer is untouched
    expect((await db.selectFrom('customers').select('email').where('external_id', '=', 'c-other').executeTakeFirstOrThrow()).email).toBe('ada@example.com')
    // a second redact is harmless
    expect((await shopify('customers/redact', redact, 'e-redact-2')).statusCode).toBe(200)
  })

  it('REST erase does the same for any store; shop/redact erases every customer of the store', async () => {
    await seed()
    const erased = await api('POST', `/api/v1/customers/${CUSTOMER_ID}/erase`)
    expect(erased.statusCode).toBe(200)
    expect(erased.json()).toMatchObject({ erased: true, found: true, customers: 1, runs_cancelled: 1, disk_settled: true })
    if (dialect === 'postgres') {
      // the old row versions are vacuumed away, in every table the erasure wrote
      const vacuumed = await sql<{
        relname: string
      }>`select relname from pg_stat_user_tables where schemaname = current_schema() and vacuum_count > 0 order by relname`.execute(env.app.handle.db)
      expect(vacuumed.rows.map((r) => r.relname)).toEqual([
        'carts',
        'correlations',
        'customers',
        'events',
        'messages',
        'orders',
        'privacy_exports',
        'run_steps',
        'runs',
        'subscriptions',
        'webhook_deliveries',
      ])
    }
    expect(await holders([EMAIL, `${FIRST} ${LAST}`, PHONE, STREET])).toEqual([])
    expect((await api('POST', '/api/v1/customers/nobody/erase')).statusCode).toBe(404)

    const shop = Buffer.from('{"shop_id":954889,"shop_domain":"jsmith.myshopify.com"}')
    expect((await shopify('shop/redact', shop, 'e-shop')).statusCode).toBe(200)
    expect(await holders(['ada@example.com'])).toEqual([])
  })
  it("customers/redact in store A writes only the customer's own rows: store B and a neighbour sharing their strings stay byte-identical, event types untouched", async () => {
    await seed()
    await seedNeighbours()
    const storeB = await dumpStore('b')
    const neighbour = await dumpCustomer('default', 'c-neighbour')
    const types = await eventTypes()
    // the shared strings really are in store B and in the neighbour's rows (so the comparison below can fail)
    expect(JSON.stringify(storeB)).toContain(EMAIL)
    expect(JSON.stringify(storeB)).toContain(STREET)
    expect(JSON.parse(JSON.parse(neighbour.orders![0]!).data).shipping_address).toMatchObject({ first_name: FIRST, address1: COMMON, city: CITY })
    expect(JSON.stringify(neighbour)).toContain(CITY)
    expect(types.filter((t) => t.endsWith(' order.created'))).toHaveLength(3)

    const redact = Buffer.from(
      `{"shop_id":954889,"shop_domain":"jsmith.myshopify.com","customer":{"id":${CUSTOMER_ID},"email":"${EMAIL}","phone":"${PHONE}"},"orders_to_redact":[820982911946154508]}`,
    )
    const res = await shopify('customers/redact', redact, 'e-redact')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ ok: true, events: 1 })

    expect(await dumpStore('b')).toEqual(storeB)
    expect(await dumpCustomer('default', 'c-neighbour')).toEqual(neighbour)
    const after = await eventTypes()
    expect(after.slice(0, types.length)).toEqual(types)
    expect(after.slice(types.length).map((t) => t.split(' ')[1])).toEqual(['raw.shopify.customers_redact'])
    // …and the erased customer's strings are gone from store A
    expect(await holders([EMAIL, LAST, PHONE, STREET, `${FIRST} ${LAST}`], 'default')).toEqual([])
  })

  it('shop/redact erases store A only: store B stays byte-identical', async () => {
    await seed()
    await seedNeighbours()
    const storeB = await dumpStore('b')
    const types = await eventTypes()
    const shop = Buffer.from('{"shop_id":954889,"shop_domain":"jsmith.myshopify.com"}')
    expect((await shopify('shop/redact', shop, 'e-shop')).statusCode).toBe(200)
    expect(await dumpStore('b')).toEqual(storeB)
    expect((await eventTypes()).slice(0, types.length)).toEqual(types)
    expect(await holders([EMAIL, 'zelda.brook@example.net', 'ada@example.com', FIRST, LAST, 'Brook', PHONE, STREET, CITY], 'default')).toEqual([])
  })
})
