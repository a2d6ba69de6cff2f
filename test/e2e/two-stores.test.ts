import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fixture } from '../../src/connectors/testing.ts'
import type { KeyScope } from '../../src/store/stores.repo.ts'
import { startBigCommerceApi, type BigCommerceApiServer } from '../helpers/bigcommerce-api.ts'
import { DIALECTS } from '../helpers/dialects.ts'
import { dumpDiff, leaksIn, serverRoutes, uniqueStrings, type StoreDump } from '../helpers/two-stores.ts'
import {
  B_ONLY,
  DISCOUNT_CODE,
  EMAIL,
  EVE,
  NAME,
  SCOPES,
  SECRETS,
  SHARED_EVENTS,
  SHOP,
  SHOP_DOMAIN,
  WELCOME,
  apiView,
  bcHeaders,
  bearer,
  customerRedact,
  dataRequest,
  db,
  dump,
  order,
  seed,
  shopRedact,
  shopifyHeaders,
  shopifyOrder,
  teardown,
  wooHeaders,
  type World,
  type StoreId,
} from '../helpers/two-stores-seed.ts'

/**
 * Two stores everywhere. Stores A and B hold the same ids: customer "42" with the same
 * email, order "1001", the same event ids, workflows, template name and connector platforms, and
 * the same webhook deliveries. For every route the server has, A's keys (each scope) and A's
 * webhook secrets, mail links and requests get 403/404 or A's own data when they name B's objects,
 * never a string only B holds, and everything A does leaves B byte-identical: every row of B read
 * straight from the database, and B's own view through the API.
 */

let bc: BigCommerceApiServer
beforeAll(async () => {
  bc = await startBigCommerceApi()
})
afterAll(async () => {
  await bc.close()
})

/**
 * Runs what A does and checks the two walls: the answer holds no string only B has, and B is
 * byte-identical afterwards in the database and through its own keys. `bMayChange` names tables
 * where a documented change to B is expected (with the reason at the call site).
 */
async function asA(w: World, what: string, build: () => InjectOptions | Promise<InjectOptions>, bMayChange: string[] = []): Promise<LightMyRequestResponse> {
  await w.server.ingestGuards.signatureFailures.flush()
  const beforeB = await dump(w, 'b')
  const viewB = await apiView(w)
  const request = await build()
  const res = await w.server.inject(request)
  await w.env.app.engine.drain()
  // refused signatures are tallied in memory and written by a timer; written now, they land in
  // the case that caused them, never in whichever case the timer happens to fire during
  await w.server.ingestGuards.signatureFailures.flush()
  const unique = uniqueStrings(beforeB, await dump(w, 'a'))
  const payload = request.payload
  const asked = `${String(request.url)}\n${typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : JSON.stringify(payload ?? null)}`
  // (counts with the evidence in the message: a deep diff of whole dumps takes vitest half a minute)
  const leaks = leaksIn(`${JSON.stringify(res.headers)}\n${res.body}`, unique, asked)
  expect(leaks.length, `${what}: the answer holds B's data: ${leaks.join(', ')}\n${res.body.slice(0, 2000)}`).toBe(0)
  const diff = dumpDiff(beforeB, await dump(w, 'b')).filter((line) => !bMayChange.includes(line.slice(0, line.indexOf(' '))))
  expect(diff.length, `${what}: B's rows changed (${diff.length} rows gone or added):\n${diff.slice(0, 12).join('\n')}`).toBe(0)
  if (bMayChange.length === 0) {
    const after = await apiView(w)
    const changed = Object.keys(viewB).filter((url) => JSON.stringify(after[url]) !== JSON.stringify(viewB[url]))
    expect(changed, `${what}: B's API view changed`).toEqual([])
  }
  return res
}

const items = (res: LightMyRequestResponse) => (res.json() as { items: Array<Record<string, unknown>> }).items

/** A request by one of A's keys (or none) and what A must see. */
const invoiceIdOf = async (w: World, store: StoreId): Promise<string> =>
  (await w.env.app.handle.db.selectFrom('invoices').select('id').where('store_id', '=', store).executeTakeFirstOrThrow()).id

const purchaseOrderIdOf = async (w: World, store: StoreId): Promise<string> =>
  (await w.env.app.handle.db.selectFrom('purchase_orders').select('id').where('store_id', '=', store).executeTakeFirstOrThrow()).id

interface Case {
  name: string
  request: (w: World) => InjectOptions | Promise<InjectOptions>
  expect: (res: LightMyRequestResponse, w: World, scope: KeyScope | null) => void | Promise<void>
  /** tables of B a documented side effect may change, with the reason in a comment */
  bMayChange?: string[]
}

interface RouteCases {
  /** scope the route needs; null for routes without an API key (webhooks, mail links, health) */
  scope: KeyScope | null
  cases: Case[]
}

const notFound = (res: LightMyRequestResponse) => {
  expect(res.statusCode, res.body).toBe(404)
  expect(res.json().error.code).toBe('not_found')
}
/** The link with its signature changed in its first character (6 whole bits: never the same bytes). */
const forge = (url: string) => {
  const dot = url.lastIndexOf('.')
  return `${url.slice(0, dot + 1)}${url[dot + 1] === 'A' ? 'B' : 'A'}${url.slice(dot + 2)}`
}
const status = (code: number) => (res: LightMyRequestResponse) => expect(res.statusCode, res.body).toBe(code)
const yaml = (payload: string) => ({ payload, headers: { 'content-type': 'application/yaml' } })
const aRead = async (w: World, url: string) => w.server.inject({ method: 'GET', url, headers: bearer(w.a.keys.admin) })

/**
 * The matrix: every route the server has (checked below against the server itself), each with the
 * requests A makes naming B's objects or the ids both stores use. Key routes run with each of A's
 * three keys; a key without the route's scope must get 403 and change nothing.
 */
const MATRIX: Record<string, RouteCases> = {
  'GET /': { scope: null, cases: [{ name: 'dashboard page', request: () => ({ method: 'GET', url: '/' }), expect: status(200) }] },
  // the dashboard's own paths and files: the same for every store (the app asks the API for a store's data)
  'GET /*': {
    scope: null,
    cases: [
      { name: 'a dashboard path answers the app page', request: () => ({ method: 'GET', url: '/runs' }), expect: status(200) },
      { name: 'a missing asset', request: () => ({ method: 'GET', url: '/assets/none.js' }), expect: status(404) },
    ],
  },
  'GET /healthz': { scope: null, cases: [{ name: 'liveness', request: () => ({ method: 'GET', url: '/healthz' }), expect: status(200) }] },
  'GET /readyz': { scope: null, cases: [{ name: 'readiness', request: () => ({ method: 'GET', url: '/readyz' }), expect: status(200) }] },
  // instance-wide counters (runs by status, events stored): no store's ids or content
  'GET /metrics': { scope: null, cases: [{ name: 'metrics', request: () => ({ method: 'GET', url: '/metrics' }), expect: status(200) }] },
  'GET /api/openapi.json': { scope: null, cases: [{ name: 'OpenAPI', request: () => ({ method: 'GET', url: '/api/openapi.json' }), expect: status(200) }] },

  // Dashboard sign-in (issue 14). A dashboard user is the installation's admin by design (users and
  // sessions belong to the installation, not to a store): signed in, the X-Storeflow-Store header
  // picks any store, so the wall between stores is the key's, not the session's. Here: no key opens
  // a session, and without a session these routes answer 401 with nothing of B (the store header
  // and the CSRF rules are tested in test/e2e/dashboard-auth.test.ts).
  'POST /api/v1/auth/login': {
    scope: null,
    cases: [
      {
        name: "a sign-in with B's shop name as the password is refused, the same as an unknown user",
        request: () => ({ method: 'POST', url: '/api/v1/auth/login', payload: { email: EMAIL, password: SHOP.b } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(401)
          expect(res.headers['set-cookie']).toBeUndefined()
        },
      },
    ],
  },
  'GET /api/v1/auth/session': {
    scope: null,
    cases: [
      {
        name: "A's admin key is no session",
        request: (w) => ({ method: 'GET', url: '/api/v1/auth/session', headers: { ...bearer(w.a.keys.admin), 'x-storeflow-store': 'b' } }),
        expect: status(401),
      },
    ],
  },
  'POST /api/v1/auth/logout': {
    scope: null,
    cases: [{ name: 'signing out without a session', request: () => ({ method: 'POST', url: '/api/v1/auth/logout' }), expect: status(401) }],
  },

  'POST /api/v1/events': {
    scope: 'ingest',
    cases: [
      {
        name: 'an event id only B has is a new event of A, not a duplicate',
        request: () => ({
          method: 'POST',
          url: '/api/v1/events',
          payload: { id: 'evt-b-only-SCOPE', type: 'customer.updated', occurred_at: '2026-03-02T09:40:00Z', data: { id: '42', email: EMAIL, tags: ['a-tag'] } },
        }),
        expect: async (res, w, scope) => {
          expect(res.statusCode, res.body).toBe(202)
          expect(res.json()).toEqual({ id: `evt-b-only-${scope}`, duplicate: false })
          expect(items(await aRead(w, `/api/v1/events?type=customer.updated`)).map((e) => e['id'])).toContain(`evt-b-only-${scope}`)
        },
      },
      {
        name: "an id both stores have is A's own duplicate",
        request: () => ({ method: 'POST', url: '/api/v1/events', payload: SHARED_EVENTS('a')[0]! }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toEqual({ id: 'evt-cust', duplicate: true })
        },
      },
      {
        name: "a new order of A's customer 42 starts A's workflows only",
        request: () => ({
          method: 'POST',
          url: '/api/v1/events',
          payload: { id: 'evt-order-SCOPE', type: 'order.paid', occurred_at: '2026-03-02T09:50:00Z', data: order('a', '1002-SCOPE') },
        }),
        expect: async (res, w, scope) => {
          expect(res.statusCode, res.body).toBe(202)
          // welcome and slow still have a run in progress for A's customer 42 (runs are not concurrent per customer)
          const runs = items(await aRead(w, '/api/v1/runs?limit=500')).filter((r) => r['trigger_event_id'] === `evt-order-${scope}`)
          expect(runs.map((r) => r['workflow_id'])).toEqual(['fragile'])
        },
      },
      {
        name: "A learning the shop id of a subscriber both stores know by email merges A's row only",
        request: () => ({
          method: 'POST',
          url: '/api/v1/events',
          payload: {
            id: 'evt-merge-SCOPE',
            type: 'customer.created',
            occurred_at: '2026-03-02T09:55:00Z',
            data: { id: '77-SCOPE', email: EVE, first_name: 'Eve' },
          },
        }),
        expect: async (res, w, scope) => {
          expect(res.statusCode, res.body).toBe(202)
          expect((await aRead(w, `/api/v1/customers/77-${scope}`)).json()).toMatchObject({ id: `77-${scope}`, email: EVE })
        },
      },
      {
        name: 'an event naming store b is refused, naming the field',
        request: () => ({ method: 'POST', url: '/api/v1/events', payload: { ...SHARED_EVENTS('a')[0]!, id: 'evt-for-b', store: 'b' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.message).toMatch(/^store: /)
        },
      },
      {
        name: 'a batch naming store b is refused whole',
        request: () => ({
          method: 'POST',
          url: '/api/v1/events',
          payload: {
            events: [
              { ...SHARED_EVENTS('a')[0]!, id: 'evt-batch-a' },
              { ...SHARED_EVENTS('a')[0]!, id: 'evt-batch-b', store: 'b' },
            ],
          },
        }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.message).toMatch(/^events\[1\]\.store: /)
          expect(items(await aRead(w, '/api/v1/events?limit=500')).map((e) => e['id'])).not.toContain('evt-batch-a')
        },
      },
    ],
  },
  'GET /api/v1/events': {
    scope: 'read',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/events?limit=500' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).every((e) => e['store'] === 'a')).toBe(true)
          expect(items(res).map((e) => e['id'])).toContain('evt-order')
        },
      },
      {
        name: "by B's customer key",
        request: (w) => ({ method: 'GET', url: `/api/v1/events?customer=${w.b.customerKey}` }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(items(res)).toEqual([])
        },
      },
      {
        name: 'by the shared customer id',
        request: () => ({ method: 'GET', url: '/api/v1/events?customer=42' }),
        expect: (res) => {
          expect(items(res).length).toBeGreaterThan(0)
          expect(items(res).every((e) => e['store'] === 'a')).toBe(true)
        },
      },
      {
        name: 'by the shared email',
        request: () => ({ method: 'GET', url: `/api/v1/events?customer=${EMAIL}&type=customer.created` }),
        expect: (res) => {
          expect(items(res).map((e) => (e['data'] as { first_name: string }).first_name)).toEqual([NAME.a])
        },
      },
    ],
  },

  'GET /api/v1/workflows': {
    scope: 'read',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/workflows' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).map((x) => x['id'])).not.toContain('b-only')
          expect(items(res).map((x) => x['name'])).toContain('Welcome A')
        },
      },
    ],
  },
  'POST /api/v1/workflows': {
    scope: 'admin',
    cases: [
      {
        name: "a new version of the shared id is A's",
        request: () => ({ method: 'POST', url: '/api/v1/workflows', ...yaml(WELCOME('a', ' (posted)')) }),
        expect: (res) => {
          expect([200, 201], res.body).toContain(res.statusCode)
          expect(res.json()).toMatchObject({ id: 'welcome', name: 'Welcome A (posted)', version: 2 })
        },
      },
      {
        name: "an id only B has becomes A's own version 1",
        request: () => ({ method: 'POST', url: '/api/v1/workflows', ...yaml(B_ONLY('b-only-post', 9)) }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(201)
          expect(res.json()).toMatchObject({ id: 'b-only-post', version: 1, active: false })
        },
      },
    ],
  },
  'GET /api/v1/workflows/:id': {
    scope: 'read',
    cases: [
      {
        name: 'shared id',
        request: () => ({ method: 'GET', url: '/api/v1/workflows/welcome' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json().name).toMatch(/^Welcome A/)
        },
      },
      { name: "B's id", request: () => ({ method: 'GET', url: '/api/v1/workflows/b-only' }), expect: notFound },
      {
        name: "B's version of a shared id",
        request: () => ({ method: 'GET', url: '/api/v1/workflows/retired?version=1' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json().name).toBe('Retired A')
        },
      },
    ],
  },
  'PUT /api/v1/workflows/:id': {
    scope: 'admin',
    cases: [
      {
        name: 'shared id',
        request: () => ({ method: 'PUT', url: '/api/v1/workflows/welcome', ...yaml(WELCOME('a', ' (put)')) }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ name: 'Welcome A (put)', version: 3 })
        },
      },
      {
        name: "an id only B has becomes A's own version 1",
        request: () => ({ method: 'PUT', url: '/api/v1/workflows/b-only-put', ...yaml(B_ONLY('b-only-put', 9)) }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ id: 'b-only-put', version: 1 })
        },
      },
    ],
  },
  'GET /api/v1/workflows/:id/export': {
    scope: 'read',
    cases: [
      {
        name: 'shared id',
        request: () => ({ method: 'GET', url: '/api/v1/workflows/welcome/export' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.body).toContain('name: Welcome A')
        },
      },
      { name: "B's id", request: () => ({ method: 'GET', url: '/api/v1/workflows/b-only/export?format=json' }), expect: notFound },
    ],
  },
  'POST /api/v1/workflows/:id/deactivate': {
    scope: 'admin',
    cases: [
      { name: "B's id", request: () => ({ method: 'POST', url: '/api/v1/workflows/b-only/deactivate' }), expect: notFound },
      {
        name: 'shared id',
        request: () => ({ method: 'POST', url: '/api/v1/workflows/retired/deactivate' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json()).toMatchObject({ name: 'Retired A', active: false })
        },
      },
    ],
  },
  // the library is the installation's; an installed template is the store's own workflow
  'GET /api/v1/templates': {
    scope: 'read',
    cases: [
      {
        name: 'the library, the same for both stores',
        request: () => ({ method: 'GET', url: '/api/v1/templates?limit=500' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res).map((t) => t['name'])).toContain('win-back')
        },
      },
    ],
  },
  'POST /api/v1/templates/:name/install': {
    scope: 'admin',
    cases: [
      {
        name: "an installed template is A's workflow only",
        request: () => ({ method: 'POST', url: '/api/v1/templates/win-back/install' }),
        expect: async (res, w) => {
          expect([200, 201], res.body).toContain(res.statusCode)
          expect(res.json()).toMatchObject({ id: 'win-back', active: false })
          expect((await aRead(w, '/api/v1/workflows/win-back')).statusCode).toBe(200)
        },
      },
    ],
  },
  // the editor's checks read and write nothing of a store: the same answer for both
  'POST /api/v1/workflows/validate': {
    scope: 'read',
    cases: [
      {
        name: "A's file checked, nothing saved",
        request: () => ({ method: 'POST', url: '/api/v1/workflows/validate', payload: { source: WELCOME('a', ' (checked)') } }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ ok: true, errors: [], definition: { id: 'welcome', name: 'Welcome A (checked)' } })
          expect((await aRead(w, '/api/v1/workflows/welcome')).json().name).not.toContain('(checked)')
        },
      },
    ],
  },
  'POST /api/v1/expressions/check': {
    scope: 'read',
    cases: [
      {
        name: 'a CEL condition',
        request: () => ({ method: 'POST', url: '/api/v1/expressions/check', payload: { kind: 'cel', source: 'event.data.total > 10' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toEqual({ ok: true, error: null })
        },
      },
    ],
  },
  'GET /api/v1/actions': {
    scope: 'read',
    cases: [
      {
        name: 'the catalog, the same for both stores',
        request: () => ({ method: 'GET', url: '/api/v1/actions' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect((res.json() as { items: Array<{ type: string }> }).items.map((a) => a.type)).toContain('send_email')
        },
      },
    ],
  },
  'POST /api/v1/workflows/:id/activate': {
    scope: 'admin',
    cases: [
      { name: "B's id", request: () => ({ method: 'POST', url: '/api/v1/workflows/b-only/activate' }), expect: notFound },
      {
        name: 'shared id',
        request: () => ({ method: 'POST', url: '/api/v1/workflows/retired/activate' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json()).toMatchObject({ name: 'Retired A', active: true })
        },
      },
    ],
  },
  'POST /api/v1/workflows/:id/test': {
    scope: 'admin',
    cases: [
      {
        name: "B's workflow id",
        request: () => ({ method: 'POST', url: '/api/v1/workflows/b-only/test', payload: { event: SHARED_EVENTS('a').at(-1)! } }),
        expect: notFound,
      },
      {
        name: "B's event id",
        request: () => ({ method: 'POST', url: '/api/v1/workflows/welcome/test', payload: { event_id: 'evt-b-stock-only' } }),
        expect: notFound,
      },
      {
        name: 'an event naming store b is refused, naming the field',
        request: () => ({ method: 'POST', url: '/api/v1/workflows/welcome/test', payload: { event: { ...SHARED_EVENTS('a').at(-1)!, store: 'b' } } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.message).toMatch(/^event\.store: /)
        },
      },
      {
        name: "an event id both stores have is A's event, through A's workflow and A's template",
        request: () => ({ method: 'POST', url: '/api/v1/workflows/welcome/test', payload: { event_id: 'evt-order' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json().messages).toEqual([{ to: EMAIL, subject: `A promo: hello from ${SHOP.a}`, html: expect.stringContaining(`Hi ${NAME.a},`) }])
        },
      },
    ],
  },
  'POST /api/v1/workflows/:id/backtest': {
    scope: 'admin',
    cases: [
      { name: "B's workflow id", request: () => ({ method: 'POST', url: '/api/v1/workflows/b-only/backtest', payload: { since: '3650d' } }), expect: notFound },
      {
        name: "a workflow id both stores have replays A's events only",
        request: () => ({ method: 'POST', url: '/api/v1/workflows/welcome/backtest', payload: { since: '3650d' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          const body = res.json()
          expect(body.workflow_id).toBe('welcome')
          expect(JSON.stringify(body)).not.toContain(NAME.b)
        },
      },
      {
        name: 'a bad since names the field',
        request: () => ({ method: 'POST', url: '/api/v1/workflows/welcome/backtest', payload: { since: 'soon' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.message).toMatch(/^since: /)
        },
      },
    ],
  },
  'DELETE /api/v1/workflows/:id': {
    scope: 'admin',
    cases: [
      { name: "B's id", request: () => ({ method: 'DELETE', url: '/api/v1/workflows/b-only' }), expect: notFound },
      {
        name: 'shared id',
        request: () => ({ method: 'DELETE', url: '/api/v1/workflows/retired' }),
        expect: async (res, w) => {
          expect(res.statusCode).toBe(204)
          expect((await aRead(w, '/api/v1/workflows/retired')).statusCode).toBe(404)
        },
      },
    ],
  },

  'GET /api/v1/segments': {
    scope: 'read',
    cases: [
      {
        name: "A's segments: the built-in ones and its own, none of B's",
        request: () => ({ method: 'GET', url: '/api/v1/segments' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          const ids = items(res).map((s) => s['id'])
          expect(ids).toEqual(expect.arrayContaining(['new', 'repeat', 'vip', 'shared-seg']))
          expect(ids).not.toContain('b-only-seg')
          expect(items(res).find((s) => s['id'] === 'shared-seg')).toMatchObject({ name: `Shared ${NAME.a}` })
        },
      },
    ],
  },
  'POST /api/v1/segments': {
    scope: 'admin',
    cases: [
      {
        name: 'an id only B has is free in A',
        request: () => ({ method: 'POST', url: '/api/v1/segments', payload: { id: 'b-only-seg', name: 'Made by A', condition: 'false' } }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(201)
          expect((await aRead(w, '/api/v1/segments/b-only-seg/customers')).json()).toEqual({ items: [], next_cursor: null })
          expect((await w.server.inject({ method: 'DELETE', url: '/api/v1/segments/b-only-seg', headers: bearer(w.a.keys.admin) })).statusCode).toBe(204)
        },
      },
      {
        name: "an id both stores have is A's own",
        request: () => ({ method: 'POST', url: '/api/v1/segments', payload: { id: 'shared-seg', name: 'again', condition: 'true' } }),
        expect: status(409),
      },
    ],
  },
  'POST /api/v1/segments/refresh': {
    scope: 'admin',
    cases: [
      {
        name: "A's sweep re-evaluates A's customers only",
        request: () => ({ method: 'POST', url: '/api/v1/segments/refresh' }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(typeof res.json().changes).toBe('number')
          expect(items(await aRead(w, '/api/v1/segments/shared-seg/customers?limit=500')).length).toBeGreaterThan(0)
        },
      },
    ],
  },
  'GET /api/v1/segments/:id/customers': {
    scope: 'read',
    cases: [
      { name: "B's segment id", request: () => ({ method: 'GET', url: '/api/v1/segments/b-only-seg/customers' }), expect: notFound },
      {
        name: "shared id: A's members only",
        request: () => ({ method: 'GET', url: '/api/v1/segments/shared-seg/customers?limit=500' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).length).toBeGreaterThan(0)
        },
      },
    ],
  },
  'DELETE /api/v1/segments/:id': {
    scope: 'admin',
    cases: [{ name: "B's segment id", request: () => ({ method: 'DELETE', url: '/api/v1/segments/b-only-seg' }), expect: notFound }],
  },
  'GET /api/v1/inventory/forecast': {
    scope: 'read',
    cases: [
      {
        name: "shared SKU: A's own stock and demand",
        request: () => ({ method: 'GET', url: '/api/v1/inventory/forecast?sku=TEE-1' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ sku: 'TEE-1' })
        },
      },
      { name: 'a SKU only B has', request: () => ({ method: 'GET', url: '/api/v1/inventory/forecast?sku=SKU-B-ONLY' }), expect: notFound },
      {
        name: "the list: A's SKUs only",
        request: () => ({ method: 'GET', url: '/api/v1/inventory/forecast' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          const skus = items(res).map((f) => f['sku'])
          expect(skus).toContain('TEE-1')
          expect(skus).not.toContain('SKU-B-ONLY')
        },
      },
    ],
  },
  'GET /api/v1/analytics/workflows/:id': {
    scope: 'read',
    cases: [
      { name: "B's workflow id", request: () => ({ method: 'GET', url: '/api/v1/analytics/workflows/b-only' }), expect: notFound },
      {
        name: "shared id: A's own runs and cohorts",
        request: () => ({ method: 'GET', url: '/api/v1/analytics/workflows/welcome' }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          const body = res.json()
          expect(body.workflow.id).toBe('welcome')
          expect(body.daily).toHaveLength(30)
          const ownRuns = await w.env.app.handle.db.selectFrom('runs').select('id').where('store_id', '=', 'a').where('workflow_id', '=', 'welcome').execute()
          expect(body.holdout).toBeNull()
          expect(ownRuns.length).toBeGreaterThan(0)
        },
      },
    ],
  },
  'GET /api/v1/analytics/overview': {
    scope: 'read',
    cases: [
      {
        name: "A's workflows only",
        request: () => ({ method: 'GET', url: '/api/v1/analytics/overview' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          const ids = (res.json().workflows as Array<{ id: string }>).map((x) => x.id)
          expect(ids).toContain('welcome')
          // B's own workflow; A's rows above create workflows of A named b-only-post and b-only-put
          expect(ids).not.toContain('b-only')
        },
      },
    ],
  },
  'PUT /api/v1/inventory/:sku/reorder-point': {
    scope: 'admin',
    cases: [
      {
        name: "shared SKU: A's own reorder point",
        request: () => ({ method: 'PUT', url: '/api/v1/inventory/TEE-1/reorder-point', payload: { reorder_point: 2 } }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect((await aRead(w, '/api/v1/inventory/forecast?sku=TEE-1')).json().reorder_point).toBe(2)
        },
      },
    ],
  },

  'GET /api/v1/runs': {
    scope: 'read',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/runs?limit=500' }),
        expect: (res, w) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).map((r) => r['id'])).toContain(w.a.runs.welcome)
        },
      },
      {
        name: "by B's customer key",
        request: (w) => ({ method: 'GET', url: `/api/v1/runs?customer=${w.b.customerKey}` }),
        expect: (res) => expect(items(res)).toEqual([]),
      },
      {
        name: 'by the shared customer id',
        request: () => ({ method: 'GET', url: '/api/v1/runs?customer=42&workflow=welcome' }),
        expect: (res, w) => expect(items(res).map((r) => r['id'])).toContain(w.a.runs.welcome),
      },
    ],
  },
  'GET /api/v1/runs/:id': {
    scope: 'read',
    cases: [
      { name: "B's run", request: (w) => ({ method: 'GET', url: `/api/v1/runs/${w.b.runs.welcome}` }), expect: notFound },
      {
        name: "A's run",
        request: (w) => ({ method: 'GET', url: `/api/v1/runs/${w.a.runs.welcome}` }),
        expect: (res, w) => {
          expect(res.statusCode).toBe(200)
          expect(res.json().id).toBe(w.a.runs.welcome)
        },
      },
    ],
  },
  'POST /api/v1/runs/:id/cancel': {
    scope: 'admin',
    cases: [
      { name: "B's waiting run", request: (w) => ({ method: 'POST', url: `/api/v1/runs/${w.b.runs.slow}/cancel` }), expect: notFound },
      {
        name: "A's waiting run",
        request: (w) => ({ method: 'POST', url: `/api/v1/runs/${w.a.runs.slow}/cancel` }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json().status).toBe('cancelled')
        },
      },
    ],
  },
  'POST /api/v1/runs/:id/retry': {
    scope: 'admin',
    cases: [
      { name: "B's failed run", request: (w) => ({ method: 'POST', url: `/api/v1/runs/${w.b.runs.fragile}/retry` }), expect: notFound },
      {
        name: "A's failed run",
        request: (w) => ({ method: 'POST', url: `/api/v1/runs/${w.a.runs.fragile}/retry` }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json().status).toBe('running')
          expect((await aRead(w, `/api/v1/runs/${w.a.runs.fragile}`)).json().status).toBe('failed')
        },
      },
    ],
  },

  'GET /api/v1/customers/:id': {
    scope: 'read',
    cases: [
      {
        name: 'shared id',
        request: () => ({ method: 'GET', url: '/api/v1/customers/42' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json()).toMatchObject({ id: '42', first_name: NAME.a })
        },
      },
      {
        name: 'shared email',
        request: () => ({ method: 'GET', url: `/api/v1/customers/${EMAIL}` }),
        expect: (res) => expect(res.json()).toMatchObject({ first_name: NAME.a }),
      },
      {
        // the dashboard's store header picks a store for a session only; a key stays in its own store
        name: "shared id with the dashboard's store header naming B",
        request: () => ({ method: 'GET', url: '/api/v1/customers/42', headers: { 'x-storeflow-store': 'b' } }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json()).toMatchObject({ id: '42', first_name: NAME.a })
        },
      },
      { name: "B's customer key", request: (w) => ({ method: 'GET', url: `/api/v1/customers/${w.b.customerKey}` }), expect: notFound },
    ],
  },
  'GET /api/v1/customers/:id/recommendations': {
    scope: 'read',
    cases: [
      {
        name: 'shared id',
        request: () => ({ method: 'GET', url: '/api/v1/customers/42/recommendations' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          // 42 bought A's only SKU: nothing of B's (SKU-B-ONLY) may show
          expect(res.json()).toEqual({ items: [], next_cursor: null })
        },
      },
      { name: "B's customer key", request: (w) => ({ method: 'GET', url: `/api/v1/customers/${w.b.customerKey}/recommendations` }), expect: notFound },
    ],
  },
  'GET /api/v1/customers/:id/export': {
    scope: 'admin',
    cases: [
      {
        name: 'shared id',
        request: () => ({ method: 'GET', url: '/api/v1/customers/42/export' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json()).toMatchObject({ store: 'a', customer: { first_name: NAME.a } })
        },
      },
      { name: "B's customer key", request: (w) => ({ method: 'GET', url: `/api/v1/customers/${w.b.customerKey}/export` }), expect: notFound },
    ],
  },
  // A erasing its own customer 42 has its own test below (defect 1); here: B's customer is out of reach
  'POST /api/v1/customers/:id/erase': {
    scope: 'admin',
    cases: [{ name: "B's customer key", request: (w) => ({ method: 'POST', url: `/api/v1/customers/${w.b.customerKey}/erase` }), expect: notFound }],
  },

  // the dashboard's store lists and settings (routes/store-admin.ts)
  'GET /api/v1/customers': {
    scope: 'read',
    cases: [
      {
        name: "list: A's customer 42, not B's",
        request: () => ({ method: 'GET', url: '/api/v1/customers' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res).map((c) => c['first_name'])).toContain(NAME.a)
          expect(items(res).map((c) => c['first_name'])).not.toContain(NAME.b)
        },
      },
      {
        name: "searching for B's customer's name",
        request: () => ({ method: 'GET', url: `/api/v1/customers?q=${NAME.b}` }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res)).toEqual([])
        },
      },
      {
        name: 'a search too long is refused naming q',
        request: () => ({ method: 'GET', url: `/api/v1/customers?q=${'x'.repeat(201)}` }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.details.field).toBe('q')
        },
      },
    ],
  },
  'GET /api/v1/orders': {
    scope: 'read',
    cases: [
      {
        name: "list: A's orders only",
        request: () => ({ method: 'GET', url: '/api/v1/orders' }),
        expect: (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          // the order id both stores use: A's one, never B's customer's
          expect(items(res).map((o) => o['id'])).toContain('1001')
          expect(items(res).some((o) => o['customer_key'] === w.b.customerKey)).toBe(false)
        },
      },
      {
        name: "by B's customer key",
        request: (w) => ({ method: 'GET', url: `/api/v1/orders?customer=${w.b.customerKey}` }),
        expect: (res) => expect(items(res)).toEqual([]),
      },
    ],
  },
  'GET /api/v1/carts': {
    scope: 'read',
    cases: [
      { name: 'list', request: () => ({ method: 'GET', url: '/api/v1/carts' }), expect: status(200) },
      {
        name: 'converted must be true or false',
        request: () => ({ method: 'GET', url: '/api/v1/carts?converted=maybe' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.details.field).toBe('converted')
        },
      },
    ],
  },
  'GET /api/v1/keys': {
    scope: 'admin',
    cases: [
      {
        name: "A's keys, never a key itself",
        request: () => ({ method: 'GET', url: '/api/v1/keys' }),
        expect: (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res).length).toBeGreaterThanOrEqual(3)
          expect(items(res).every((k) => k['store'] === 'a')).toBe(true)
          for (const key of Object.values(w.a.keys)) expect(res.body).not.toContain(key)
        },
      },
    ],
  },
  'POST /api/v1/keys': {
    scope: 'admin',
    cases: [
      {
        name: 'a read key for A',
        request: () => ({ method: 'POST', url: '/api/v1/keys', payload: { scope: 'read' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(201)
          expect(res.json()).toMatchObject({ store: 'a', scope: 'read' })
        },
      },
      {
        name: 'an unknown scope is refused naming scope',
        request: () => ({ method: 'POST', url: '/api/v1/keys', payload: { scope: 'root' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.details.field).toBe('scope')
        },
      },
    ],
  },
  'DELETE /api/v1/keys/:id': {
    scope: 'admin',
    cases: [
      {
        name: "B's read key",
        request: async (w) => {
          const row = await db(w).selectFrom('api_keys').select('id').where('store_id', '=', 'b').where('scope', '=', 'read').executeTakeFirstOrThrow()
          return { method: 'DELETE', url: `/api/v1/keys/${row.id}` }
        },
        expect: async (res, w) => {
          notFound(res)
          const still = await w.server.inject({ method: 'GET', url: '/api/v1/runs', headers: bearer(w.b.keys.read) })
          expect(still.statusCode).toBe(200)
        },
      },
    ],
  },
  // users belong to the installation: no store's key may list or add them, only a signed-in user
  'GET /api/v1/users': { scope: 'admin', cases: [{ name: 'with a key', request: () => ({ method: 'GET', url: '/api/v1/users' }), expect: status(403) }] },
  // workers belong to the installation, as users do: no store's key may list them
  'GET /api/v1/workers': { scope: 'admin', cases: [{ name: 'with a key', request: () => ({ method: 'GET', url: '/api/v1/workers' }), expect: status(403) }] },
  'POST /api/v1/users': {
    scope: 'admin',
    cases: [
      {
        name: 'with a key',
        request: () => ({ method: 'POST', url: '/api/v1/users', payload: { email: 'x@a.example', password: 'a long enough password' } }),
        expect: status(403),
      },
    ],
  },
  'DELETE /api/v1/users/:id': {
    scope: 'admin',
    cases: [{ name: 'with a key', request: () => ({ method: 'DELETE', url: '/api/v1/users/usr_anything' }), expect: status(403) }],
  },
  'POST /api/v1/settings/smtp/test': {
    scope: 'admin',
    cases: [
      {
        name: 'not an address',
        request: () => ({ method: 'POST', url: '/api/v1/settings/smtp/test', payload: { to: 'nobody' } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.details.field).toBe('to')
        },
      },
    ],
  },
  'GET /api/v1/messages': {
    scope: 'read',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/messages' }),
        expect: (res, w) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).map((m) => m['id'])).toContain(w.a.message)
        },
      },
      {
        name: "by B's customer key",
        request: (w) => ({ method: 'GET', url: `/api/v1/messages?customer=${w.b.customerKey}` }),
        expect: (res) => expect(items(res)).toEqual([]),
      },
    ],
  },
  'GET /api/v1/discount-codes': {
    scope: 'read',
    cases: [
      {
        name: "list: A's code, not B's",
        request: () => ({ method: 'GET', url: '/api/v1/discount-codes' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res).map((c) => c['code'])).toEqual([DISCOUNT_CODE.a])
        },
      },
      {
        name: 'by the workflow id and customer id both stores use',
        request: () => ({ method: 'GET', url: '/api/v1/discount-codes?workflow=welcome&customer=42' }),
        expect: (res) => expect(items(res).map((c) => c['code'])).toEqual([DISCOUNT_CODE.a]),
      },
      {
        name: "by B's customer key",
        request: (w) => ({ method: 'GET', url: `/api/v1/discount-codes?customer=${w.b.customerKey}` }),
        expect: (res) => expect(items(res)).toEqual([]),
      },
    ],
  },
  'GET /api/v1/invoices': {
    scope: 'read',
    cases: [
      {
        name: "list: A's invoice, not B's",
        request: () => ({ method: 'GET', url: '/api/v1/invoices' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res).map((i) => i['reference'])).toEqual(['subscription:sub-a'])
        },
      },
      {
        name: 'by the customer id both stores use',
        request: () => ({ method: 'GET', url: '/api/v1/invoices?customer=42' }),
        expect: (res) => expect(items(res).map((i) => i['reference'])).toEqual(['subscription:sub-a']),
      },
      {
        name: "by B's customer key",
        request: (w) => ({ method: 'GET', url: `/api/v1/invoices?customer=${w.b.customerKey}` }),
        expect: (res) => expect(items(res)).toEqual([]),
      },
    ],
  },
  'GET /api/v1/invoices/:id': {
    scope: 'read',
    cases: [
      {
        name: "the number both stores use: A's own",
        request: () => ({ method: 'GET', url: '/api/v1/invoices/INV-000001' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ reference: 'subscription:sub-a' })
        },
      },
      {
        name: "B's invoice by its id",
        request: async (w) => ({ method: 'GET', url: `/api/v1/invoices/${await invoiceIdOf(w, 'b')}` }),
        expect: (res) => expect(res.statusCode).toBe(404),
      },
    ],
  },
  'POST /api/v1/suppliers': {
    scope: 'admin',
    cases: [
      {
        name: "the supplier id both stores use: A's own is replaced",
        request: () => ({
          method: 'POST',
          url: '/api/v1/suppliers',
          payload: {
            id: 'shared-sup',
            name: 'A Supplies renamed',
            email: 'orders@a-supplies.example',
            lead_time_days: 6,
            min_order_quantity: 2,
            skus: ['SKU-SHARED'],
          },
        }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect((await aRead(w, '/api/v1/suppliers/shared-sup')).json()).toMatchObject({ name: 'A Supplies renamed', lead_time_days: 6 })
        },
      },
      {
        name: "B's supplier id is a new supplier of A",
        request: () => ({
          method: 'POST',
          url: '/api/v1/suppliers',
          payload: { id: 'b-only-sup', name: 'A makes its own', email: 'a@supplies.example', lead_time_days: 1, min_order_quantity: 1, skus: [] },
        }),
        expect: (res) => expect(res.statusCode, res.body).toBe(201),
      },
    ],
  },
  'GET /api/v1/suppliers': {
    scope: 'read',
    cases: [
      {
        name: "list: A's, not B's",
        request: () => ({ method: 'GET', url: '/api/v1/suppliers' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res).every((s) => !String(s['name']).includes('B keeps'))).toBe(true)
          expect(items(res).map((s) => s['id'])).toContain('shared-sup')
        },
      },
    ],
  },
  'GET /api/v1/suppliers/:id': {
    scope: 'read',
    cases: [
      {
        name: "the id both stores use: A's own",
        request: () => ({ method: 'GET', url: '/api/v1/suppliers/shared-sup' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json().email).toBe('orders@a-supplies.example')
        },
      },
    ],
  },
  'DELETE /api/v1/suppliers/:id': {
    scope: 'admin',
    cases: [
      {
        // A may have made one under that id (POST above): only A's own goes, B's stays
        name: 'an id B has',
        request: () => ({ method: 'DELETE', url: '/api/v1/suppliers/b-only-sup' }),
        expect: async (res, w) => {
          expect([204, 404], res.body).toContain(res.statusCode)
          expect((await aRead(w, '/api/v1/suppliers/b-only-sup')).statusCode).toBe(404)
        },
      },
    ],
  },
  'GET /api/v1/purchase-orders': {
    scope: 'read',
    cases: [
      {
        name: "list: A's order, not B's",
        request: () => ({ method: 'GET', url: '/api/v1/purchase-orders' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res).map((o) => (o['lines'] as Array<{ description: string }>)[0]!.description)).toEqual([`${SHOP.a} widget`])
        },
      },
      {
        name: 'by the supplier id both stores use',
        request: () => ({ method: 'GET', url: '/api/v1/purchase-orders?supplier=shared-sup' }),
        expect: (res) => expect(items(res)).toHaveLength(1),
      },
    ],
  },
  'GET /api/v1/purchase-orders/:id': {
    scope: 'read',
    cases: [
      {
        name: "the number both stores use: A's own",
        request: () => ({ method: 'GET', url: '/api/v1/purchase-orders/PO-000001' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json().lines[0].description).toBe(`${SHOP.a} widget`)
        },
      },
      {
        name: "B's order by its id",
        request: async (w) => ({ method: 'GET', url: `/api/v1/purchase-orders/${await purchaseOrderIdOf(w, 'b')}` }),
        expect: notFound,
      },
    ],
  },
  'POST /api/v1/purchase-orders/:id/send': {
    scope: 'admin',
    cases: [
      {
        name: "B's order by its id",
        request: async (w) => ({ method: 'POST', url: `/api/v1/purchase-orders/${await purchaseOrderIdOf(w, 'b')}/send` }),
        expect: notFound,
      },
    ],
  },
  'POST /api/v1/purchase-orders/:id/receive': {
    scope: 'admin',
    cases: [
      {
        name: "B's order by its id",
        request: async (w) => ({
          method: 'POST',
          url: `/api/v1/purchase-orders/${await purchaseOrderIdOf(w, 'b')}/receive`,
          payload: { lines: [{ sku: 'SKU-SHARED', quantity: 1 }] },
        }),
        expect: notFound,
      },
      {
        name: "the number both stores use: A's own stock, not B's",
        request: () => ({ method: 'POST', url: '/api/v1/purchase-orders/PO-000001/receive', payload: { lines: [{ sku: 'SKU-SHARED', quantity: 4 }] } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ status: 'draft', stock: [{ sku: 'SKU-SHARED', available: 4 }] })
        },
      },
    ],
  },
  'GET /api/v1/settings': {
    scope: 'read',
    cases: [
      {
        name: "A's settings",
        request: () => ({ method: 'GET', url: '/api/v1/settings' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json()).toMatchObject({ frequency_cap: '16h', inactive_after: '90d' })
        },
      },
    ],
  },
  'PUT /api/v1/settings': {
    scope: 'admin',
    cases: [
      {
        name: "change A's",
        request: () => ({ method: 'PUT', url: '/api/v1/settings', payload: { frequency_cap: '24h', quiet_hours: null } }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect((await aRead(w, '/api/v1/settings')).json()).toMatchObject({ frequency_cap: '24h', quiet_hours: null })
        },
      },
    ],
  },
  'GET /api/v1/message-templates': {
    scope: 'read',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/message-templates' }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).map((t) => `${String(t['name'])}: ${String(t['subject']).slice(0, 8)}`)).toEqual(['promo: A promo:'])
        },
      },
    ],
  },
  'PUT /api/v1/message-templates/:name': {
    scope: 'admin',
    cases: [
      {
        name: 'shared name',
        request: () => ({ method: 'PUT', url: '/api/v1/message-templates/promo', payload: { subject: 'A promo: changed', html: '<p>changed</p>' } }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(await aRead(w, '/api/v1/message-templates'))[0]).toMatchObject({ subject: 'A promo: changed' })
        },
      },
    ],
  },

  'GET /api/v1/connectors': {
    scope: 'admin',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/connectors' }),
        expect: (res, w) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).map((c) => c['id'])).toEqual(expect.arrayContaining(Object.values(w.a.connectors)))
          expect(items(res).every((c) => c['store'] === 'a')).toBe(true)
          // the URL to paste into the shop is A's own
          expect(items(res).every((c) => String(c['webhook_url']).endsWith(`/webhooks/${String(c['platform'])}/a`))).toBe(true)
        },
      },
    ],
  },
  'POST /api/v1/connectors': {
    scope: 'admin',
    cases: [
      {
        name: 'another connector of the same platform',
        request: () => ({
          method: 'POST',
          url: '/api/v1/connectors',
          payload: { platform: 'shopify', secrets: ['shpss_store-a-second'], shop_domain: SHOP_DOMAIN },
        }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(201)
          expect(res.json()).toMatchObject({ store: 'a', platform: 'shopify' })
        },
      },
    ],
  },
  'GET /api/v1/connectors/:id': {
    scope: 'admin',
    cases: [
      { name: "B's connector", request: (w) => ({ method: 'GET', url: `/api/v1/connectors/${w.b.connectors.shopify}` }), expect: notFound },
      {
        name: "A's connector",
        request: (w) => ({ method: 'GET', url: `/api/v1/connectors/${w.a.connectors.shopify}` }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json().store).toBe('a')
        },
      },
    ],
  },
  'PATCH /api/v1/connectors/:id': {
    scope: 'admin',
    cases: [
      {
        name: "B's connector",
        request: (w) => ({ method: 'PATCH', url: `/api/v1/connectors/${w.b.connectors.shopify}`, payload: { secrets: ['taken-over'] } }),
        expect: notFound,
      },
      {
        name: "rotating A's secret",
        request: (w) => ({
          method: 'PATCH',
          url: `/api/v1/connectors/${w.a.connectors.shopify}`,
          payload: { secrets: [SECRETS.a.shopify, 'shpss_store-a-next'] },
        }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json().secret_count).toBe(2)
        },
      },
    ],
  },
  'DELETE /api/v1/connectors/:id': {
    scope: 'admin',
    cases: [
      { name: "B's connector", request: (w) => ({ method: 'DELETE', url: `/api/v1/connectors/${w.b.connectors.woocommerce}` }), expect: notFound },
      {
        name: 'a connector A has just added',
        request: async (w) => {
          const added = await w.server.inject({
            method: 'POST',
            url: '/api/v1/connectors',
            headers: bearer(w.a.keys.admin),
            payload: { platform: 'woocommerce', secrets: ['woo-a-spare'] },
          })
          return { method: 'DELETE', url: `/api/v1/connectors/${String(added.json().id)}` }
        },
        expect: status(204),
      },
    ],
  },
  'GET /api/v1/connectors/:id/health': {
    scope: 'admin',
    cases: [
      { name: "B's connector", request: (w) => ({ method: 'GET', url: `/api/v1/connectors/${w.b.connectors.shopify}/health` }), expect: notFound },
      {
        name: "A's connector",
        request: (w) => ({ method: 'GET', url: `/api/v1/connectors/${w.a.connectors.shopify}/health` }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json().deliveries_24h).toBeGreaterThan(0)
        },
      },
    ],
  },
  'GET /api/v1/deliveries': {
    scope: 'admin',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/deliveries' }),
        expect: (res, w) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).map((d) => d['id'])).toContain(w.a.delivery)
        },
      },
      {
        name: "by B's connector",
        request: (w) => ({ method: 'GET', url: `/api/v1/deliveries?connector=${w.b.connectors.shopify}` }),
        expect: (res) => expect(items(res)).toEqual([]),
      },
    ],
  },
  'GET /api/v1/deliveries/:id': {
    scope: 'admin',
    cases: [
      { name: "B's delivery", request: (w) => ({ method: 'GET', url: `/api/v1/deliveries/${w.b.delivery}` }), expect: notFound },
      { name: "A's delivery", request: (w) => ({ method: 'GET', url: `/api/v1/deliveries/${w.a.delivery}` }), expect: status(200) },
    ],
  },
  'POST /api/v1/deliveries/:id/replay': {
    scope: 'admin',
    cases: [
      { name: "B's delivery", request: (w) => ({ method: 'POST', url: `/api/v1/deliveries/${w.b.delivery}/replay` }), expect: notFound },
      {
        name: "A's delivery, whose events B holds under the same ids",
        request: (w) => ({ method: 'POST', url: `/api/v1/deliveries/${w.a.delivery}/replay` }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ status: 'duplicate', duplicate: true })
        },
      },
    ],
  },
  'GET /api/v1/privacy-exports': {
    scope: 'admin',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/privacy-exports' }),
        expect: (res, w) => {
          expect(res.statusCode).toBe(200)
          expect(items(res).map((e) => e['id'])).toContain(w.a.privacyExport)
        },
      },
    ],
  },
  'GET /api/v1/privacy-exports/:id': {
    scope: 'admin',
    cases: [
      { name: "B's export", request: (w) => ({ method: 'GET', url: `/api/v1/privacy-exports/${w.b.privacyExport}` }), expect: notFound },
      {
        name: "A's export",
        request: (w) => ({ method: 'GET', url: `/api/v1/privacy-exports/${w.a.privacyExport}` }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.json().data).toMatchObject({ store: 'a', customer: { first_name: NAME.a } })
        },
      },
    ],
  },

  'GET /api/v1/audit-log': {
    scope: 'admin',
    cases: [
      {
        name: "list: A's own changes only",
        request: () => ({ method: 'GET', url: '/api/v1/audit-log?limit=500' }),
        expect: (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          const entries = items(res)
          expect(entries.length).toBeGreaterThan(0)
          expect(new Set(entries.map((e) => e['store']))).toEqual(new Set(['a']))
          expect(entries.map((e) => e['target_id'])).toContain(w.a.connectors.shopify)
          expect(entries.map((e) => e['target_id'])).not.toContain(w.b.connectors.shopify)
        },
      },
      {
        name: "filtered on B's connector",
        request: (w) => ({ method: 'GET', url: `/api/v1/audit-log?target=${w.b.connectors.shopify}` }),
        expect: (res) => expect(items(res)).toEqual([]),
      },
      {
        name: 'an action that does not exist',
        request: () => ({ method: 'GET', url: '/api/v1/audit-log?action=key.stolen' }),
        expect: (res) => {
          expect(res.statusCode).toBe(400)
          expect(res.json().error.details.field).toBe('action')
        },
      },
    ],
  },
  'GET /api/v1/integrations': {
    scope: 'admin',
    cases: [
      {
        name: 'list',
        request: () => ({ method: 'GET', url: '/api/v1/integrations' }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(res).map((i) => [i['store'], i['kind']])).toEqual([['a', 'shippo']])
        },
      },
    ],
  },
  'PUT /api/v1/integrations/:kind': {
    scope: 'admin',
    cases: [
      {
        name: 'the kind both stores have',
        request: () => ({
          method: 'PUT',
          url: '/api/v1/integrations/shippo',
          payload: { credentials: { api_token: 'shippo_test_a2', webhook_token: 'shippo-wh-a2-0123456789abcdef' }, config: {} },
        }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ store: 'a', kind: 'shippo', credentials_set: ['api_token', 'webhook_token'] })
        },
      },
      {
        name: 'an unknown kind',
        request: () => ({ method: 'PUT', url: '/api/v1/integrations/easypost', payload: { credentials: {} } }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().error.details.field).toBe('kind')
        },
      },
    ],
  },
  'DELETE /api/v1/integrations/:kind': {
    scope: 'admin',
    cases: [
      { name: 'a kind only B could have', request: () => ({ method: 'DELETE', url: '/api/v1/integrations/buffer' }), expect: notFound },
      { name: "A's shippo", request: () => ({ method: 'DELETE', url: '/api/v1/integrations/shippo' }), expect: status(204) },
    ],
  },
  // A's "key" is A's shippo webhook token (?token=)
  'POST /webhooks/shippo/:store': {
    scope: null,
    cases: [
      {
        name: "A's token to B",
        request: () => ({
          method: 'POST',
          url: '/webhooks/shippo/b?token=shippo-wh-a-0123456789abcdef',
          payload: { event: 'track_updated', data: { tracking_number: 'T1', tracking_status: { status: 'TRANSIT' } } },
        }),
        expect: status(401),
      },
      {
        name: "A's token to A, a tracking number of no label",
        // the integration routes above replaced and removed A's shippo integration: set it again
        request: async (w) => {
          await w.server.inject({
            method: 'PUT',
            url: '/api/v1/integrations/shippo',
            headers: bearer(w.a.keys.admin),
            payload: { credentials: { api_token: 'shippo_test_a', webhook_token: 'shippo-wh-a-0123456789abcdef' } },
          })
          return {
            method: 'POST',
            url: '/webhooks/shippo/a?token=shippo-wh-a-0123456789abcdef',
            payload: { event: 'track_updated', data: { tracking_number: 'T1', tracking_status: { status: 'TRANSIT' } } },
          }
        },
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ accepted: false })
        },
      },
    ],
  },

  // webhooks: A's "key" is A's webhook secret
  'POST /webhooks/shopify/:store': {
    scope: null,
    cases: [
      {
        name: "A's signed order to A",
        request: () => {
          const body = shopifyOrder()
          return { method: 'POST', url: '/webhooks/shopify/a', headers: shopifyHeaders('orders/create', body, SECRETS.a.shopify, 'a-again'), payload: body }
        },
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json()).toMatchObject({ ok: true, events: 1 })
        },
      },
      // refused; B's connector health counts the refused attempt on B's own URL, nothing else of B changes
      {
        name: "A's signed order to B",
        request: () => {
          const body = shopifyOrder()
          return { method: 'POST', url: '/webhooks/shopify/b', headers: shopifyHeaders('orders/create', body, SECRETS.a.shopify, 'a-to-b'), payload: body }
        },
        expect: status(401),
        bMayChange: ['connector_signature_failures'],
      },
      {
        name: 'customers/data_request for A',
        request: () => {
          const body = dataRequest(9002)
          return {
            method: 'POST',
            url: '/webhooks/shopify/a',
            headers: shopifyHeaders('customers/data_request', body, SECRETS.a.shopify, 'a-request'),
            payload: body,
          }
        },
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(items(await aRead(w, '/api/v1/privacy-exports'))).toHaveLength(2)
        },
      },
    ],
  },
  'POST /webhooks/woocommerce/:store': {
    scope: null,
    cases: [
      {
        name: "A's signed order to A",
        request: () => {
          const body = fixture('woocommerce', 'order-updated.json')
          return {
            method: 'POST',
            url: '/webhooks/woocommerce/a',
            headers: { ...wooHeaders(body, SECRETS.a.woocommerce, 'a-woo'), 'x-wc-webhook-topic': 'order.updated' },
            payload: body,
          }
        },
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json().ok).toBe(true)
        },
      },
      {
        name: "A's signed order to B",
        request: () => {
          const body = fixture('woocommerce', 'order-created.json')
          return { method: 'POST', url: '/webhooks/woocommerce/b', headers: wooHeaders(body, SECRETS.a.woocommerce, 'a-woo-to-b'), payload: body }
        },
        expect: status(401),
        bMayChange: ['connector_signature_failures'],
      },
    ],
  },
  'POST /webhooks/bigcommerce/:store': {
    scope: null,
    cases: [
      {
        name: "A's signed order to A",
        request: (w) => {
          const body = fixture('bigcommerce', 'store-order-updated.json')
          return { method: 'POST', url: '/webhooks/bigcommerce/a', headers: bcHeaders(body, SECRETS.a.bigcommerce, w.env.clock.now(), 'a-bc'), payload: body }
        },
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(200)
          expect(res.json().ok).toBe(true)
        },
      },
      {
        name: "A's signed order to B",
        request: (w) => {
          const body = fixture('bigcommerce', 'store-order-created.json')
          return {
            method: 'POST',
            url: '/webhooks/bigcommerce/b',
            headers: bcHeaders(body, SECRETS.a.bigcommerce, w.env.clock.now(), 'a-bc-to-b'),
            payload: body,
          }
        },
        expect: status(401),
        bMayChange: ['connector_signature_failures'],
      },
    ],
  },

  // A's shop's public forms: no key; A's submission lands in A only, and the CORS answer is A's shop's
  'POST /forms/:store/:form': {
    scope: null,
    cases: [
      {
        name: "A's sign-up form: A's customer, nothing of B's",
        request: () => ({
          method: 'POST',
          url: '/forms/a/newsletter',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `https://${SHOP_DOMAIN}` },
          payload: 'email=form-a%40example.com&first_name=Formy',
        }),
        expect: async (res, w) => {
          expect(res.statusCode, res.body).toBe(202)
          expect(res.headers['access-control-allow-origin']).toBe(`https://${SHOP_DOMAIN}`)
          await w.env.app.engine.settle()
          expect((await aRead(w, '/api/v1/customers/form-a%40example.com')).json()).toMatchObject({ first_name: 'Formy' })
        },
      },
      {
        name: 'another origin gets no CORS header',
        request: () => ({
          method: 'POST',
          url: '/forms/a/newsletter',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
          payload: 'email=form-a2%40example.com',
        }),
        expect: (res) => {
          expect(res.statusCode, res.body).toBe(202)
          expect(res.headers['access-control-allow-origin']).toBeUndefined()
        },
      },
    ],
  },
  'OPTIONS /forms/:store/:form': {
    scope: null,
    cases: [
      {
        name: "A's preflight from A's shop",
        request: () => ({
          method: 'OPTIONS',
          url: '/forms/a/newsletter',
          headers: { origin: `https://${SHOP_DOMAIN}`, 'access-control-request-method': 'POST' },
        }),
        expect: (res) => {
          expect(res.statusCode).toBe(204)
          expect(res.headers['access-control-allow-origin']).toBe(`https://${SHOP_DOMAIN}`)
        },
      },
    ],
  },

  // links in A's mail: the signed token is the credential
  'GET /t/o/:token': {
    scope: null,
    cases: [
      { name: 'a forged token', request: (w) => ({ method: 'GET', url: forge(w.mailA.open) }), expect: status(200) },
      {
        name: "A's open pixel: A's run resumes",
        request: (w) => ({ method: 'GET', url: w.mailA.open }),
        expect: async (res, w) => {
          expect(res.statusCode).toBe(200)
          expect(items(await aRead(w, '/api/v1/messages')).find((m) => m['id'] === w.a.message)).toMatchObject({ opens: 1 })
          expect((await aRead(w, `/api/v1/runs/${w.a.runs.welcome}`)).json().status).toBe('completed')
        },
      },
    ],
  },
  'GET /t/c/:token': {
    scope: null,
    cases: [
      { name: 'a forged token', request: (w) => ({ method: 'GET', url: forge(w.mailA.click) }), expect: status(404) },
      {
        name: "A's link",
        request: (w) => ({ method: 'GET', url: w.mailA.click }),
        expect: async (res, w) => {
          expect(res.statusCode).toBe(302)
          expect(res.headers.location).toBe('https://shop.example/a/new')
          expect(items(await aRead(w, '/api/v1/messages')).find((m) => m['id'] === w.a.message)).toMatchObject({ clicks: 1 })
        },
      },
    ],
  },
  'GET /u/:token': {
    scope: null,
    cases: [
      {
        name: "A's unsubscribe page",
        request: (w) => ({ method: 'GET', url: w.mailA.unsubscribe }),
        expect: (res) => {
          expect(res.statusCode).toBe(200)
          expect(res.body).toContain('<form method="post"')
        },
      },
    ],
  },
  'POST /u/:token': {
    scope: null,
    cases: [
      { name: 'a forged token', request: (w) => ({ method: 'POST', url: forge(w.mailA.unsubscribe) }), expect: status(404) },
      {
        name: "A's customer unsubscribes; B's with the same email does not",
        request: (w) => ({
          method: 'POST',
          url: w.mailA.unsubscribe,
          payload: 'List-Unsubscribe=One-Click',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        expect: async (res, w) => {
          expect(res.statusCode).toBe(200)
          expect((await aRead(w, '/api/v1/customers/42')).json()).toMatchObject({ accepts_marketing: false })
        },
      },
    ],
  },
}

/** An admin key may do what read and ingest keys may. */
const allows = (have: KeyScope, need: KeyScope) => have === 'admin' || have === need

describe.each(DIALECTS)('two stores on %s', (dialect) => {
  describe('every route, A against B', () => {
    let w: World
    beforeAll(async () => {
      w = await seed(dialect, bc.apiUrl)
    }, 120_000)
    afterAll(async () => {
      await teardown(w)
    })

    it('the matrix covers every route the server has, and the OpenAPI document lists the same routes', async () => {
      const routes = serverRoutes(w.server)
      expect(routes.length).toBeGreaterThan(30)
      expect(routes, 'a route without a two-store test: add it to MATRIX in test/e2e/two-stores.test.ts').toEqual(Object.keys(MATRIX).sort())
      const doc = (await w.server.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> }
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      )
      expect([...documented, 'GET /', 'GET /*', 'GET /api/openapi.json'].sort()).toEqual(routes)
    })

    it('the seeded stores share their ids and differ in their data (so the walls below are tested)', async () => {
      const a = await dump(w, 'a')
      const b = await dump(w, 'b')
      for (const table of [
        'events',
        'customers',
        'orders',
        'carts',
        'products',
        'variants',
        'inventory_levels',
        'pending_fulfilments',
        'workflows',
        'workflow_versions',
        'runs',
        'run_steps',
        'correlations',
        'messages',
        'templates',
        'connectors',
        'webhook_deliveries',
        'privacy_exports',
        'api_keys',
        'stores',
      ]) {
        expect(a[table]?.length, `A's ${table}`).toBeGreaterThan(0)
        expect(b[table]?.length, `B's ${table}`).toBeGreaterThan(0)
      }
      const ids = (d: StoreDump, table: string) => d[table]!.map((r) => (JSON.parse(r) as { id: string }).id).sort()
      expect(ids(a, 'events').filter((id) => ids(b, 'events').includes(id))).toEqual(expect.arrayContaining(['evt-cust', 'evt-order', 'evt-cart']))
      const onlyB = uniqueStrings(b, a)
      expect(onlyB).toEqual(expect.arrayContaining([NAME.b, SHOP.b, w.b.runs.welcome, w.b.customerKey, w.b.delivery, w.b.connectors.shopify, w.b.message]))
      // the leak check finds B's data where it is: in B's own answers
      const own = await w.server.inject({ method: 'GET', url: `/api/v1/runs/${w.b.runs.welcome}`, headers: bearer(w.b.keys.read) })
      expect(leaksIn(own.body, onlyB)).toEqual(expect.arrayContaining([w.b.runs.welcome, w.b.message, `B promo: hello from ${SHOP.b}`]))
    })

    for (const [route, entry] of Object.entries(MATRIX)) {
      it(route, async () => {
        const runs: Array<{ scope: KeyScope | null; kase: Case }> = []
        for (const scope of entry.scope ? SCOPES : [null]) for (const kase of entry.cases) runs.push({ scope, kase })
        for (const { scope, kase } of runs) {
          const label = `${route} — ${kase.name}${scope ? ` (A's ${scope} key)` : ''}`
          const res = await asA(
            w,
            label,
            async () => {
              const req = await kase.request(w)
              const withKey: InjectOptions = scope ? { ...req, headers: { ...(req.headers ?? {}), ...bearer(w.a.keys[scope]) } } : req
              // ids that differ per key, so each key's write is its own
              const url = String(withKey.url).replaceAll('SCOPE', scope ?? '')
              const payload =
                typeof withKey.payload === 'object' && withKey.payload !== null && !Buffer.isBuffer(withKey.payload)
                  ? (JSON.parse(JSON.stringify(withKey.payload).replaceAll('SCOPE', scope ?? '')) as object)
                  : withKey.payload
              return { ...withKey, url, ...(payload === undefined ? {} : { payload }) }
            },
            kase.bMayChange,
          )
          if (scope && entry.scope && !allows(scope, entry.scope)) {
            expect(res.statusCode, label).toBe(403)
            continue
          }
          await kase.expect(res, w, scope)
        }
      })
    }

    it("A's refused deliveries to B's URLs are counted on B's connectors, and nothing else of them is kept", async () => {
      // read through B's connector health: refusals are tallied in memory and written once a minute
      for (const id of Object.values(w.b.connectors)) {
        const health = await w.server.inject({ method: 'GET', url: `/api/v1/connectors/${id}/health`, headers: bearer(w.b.keys.admin) })
        expect(health.statusCode, health.body).toBe(200)
        expect(health.json().signature_failures_24h, id).toBeGreaterThan(0)
      }
      const deliveriesB = await db(w).selectFrom('webhook_deliveries').select('id').where('store_id', '=', 'b').execute()
      expect(deliveriesB).toHaveLength(4)
    })
  })

  /**
   * Erasure for A, each on freshly seeded stores: erasure finds the customer's rows by key within
   * their own store, so nothing of B's may change, not even a row sharing the customer's strings.
   */
  describe("A's erasure leaves B byte-identical", () => {
    let w: World | undefined
    beforeEach(async () => {
      w = await seed(dialect, bc.apiUrl)
    }, 120_000)
    afterEach(async () => {
      await teardown(w)
      w = undefined
    })

    it("POST /api/v1/customers/42/erase with A's admin key", async () => {
      const res = await asA(w!, 'erase', () => ({ method: 'POST', url: '/api/v1/customers/42/erase', headers: bearer(w!.a.keys.admin) }))
      expect(res.statusCode, res.body).toBe(200)
      expect((await aRead(w!, '/api/v1/customers/42')).json()).toMatchObject({ email: null, first_name: null })
    })

    it("Shopify customers/redact for A's customer 42", async () => {
      const body = customerRedact()
      const res = await asA(w!, 'customers/redact', () => ({
        method: 'POST',
        url: '/webhooks/shopify/a',
        headers: shopifyHeaders('customers/redact', body, SECRETS.a.shopify, 'a-redact'),
        payload: body,
      }))
      expect(res.statusCode, res.body).toBe(200)
      expect((await aRead(w!, '/api/v1/customers/42')).json()).toMatchObject({ email: null, first_name: null })
    })

    it('Shopify shop/redact for A', async () => {
      const body = shopRedact()
      const res = await asA(w!, 'shop/redact', () => ({
        method: 'POST',
        url: '/webhooks/shopify/a',
        headers: shopifyHeaders('shop/redact', body, SECRETS.a.shopify, 'a-shop-redact'),
        payload: body,
      }))
      expect(res.statusCode, res.body).toBe(200)
      expect((await aRead(w!, '/api/v1/customers/42')).json()).toMatchObject({ email: null, first_name: null })
    })
  })
})
