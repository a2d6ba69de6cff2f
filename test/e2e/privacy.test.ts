import { execFile } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI, startStoreflow, waitFor } from '../helpers/processes.ts'

/**
 * Privacy through the real command and server: `storeflow customers erase` and Shopify's
 * customers/redact against a data directory, two stores, customers sharing strings; then the files
 * of the data directory read as raw bytes.
 */

const SECRET_KEY = 'privacy-e2e-secret-key'
const dirs: string[] = []

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-privacy-'))
  dirs.push(dir)
  return dir
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function baseEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, STOREFLOW_DATA_DIR: dir, STOREFLOW_LOG_LEVEL: 'warn', STOREFLOW_SECRET_KEY: SECRET_KEY }
  delete env.DATABASE_URL
  delete env.VITEST
  delete env.SMTP_URL
  return env
}

function cli(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, env: baseEnv(dir), timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

async function ok(dir: string, args: string[]): Promise<string> {
  const r = await cli(dir, args)
  expect(r.stderr, `storeflow ${args.join(' ')}`).toBe('')
  expect(r.code).toBe(0)
  return r.stdout
}

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

interface Person {
  id: string
  email: string
  first_name: string
  last_name: string
  phone: string
  street: string
  /** an address line shared with others, and a word in every event type */
  address2: string
  city: string
}

const X: Person = {
  id: 'x-1',
  email: 'quentin.xylander@example.org',
  first_name: 'Quentin',
  last_name: 'Xylander',
  phone: '+44 20 7946 0311',
  street: '9 Marrowgate Row',
  address2: 'order',
  city: 'Eastbury',
}
const W: Person = {
  id: '',
  email: 'wilhelmina.vorst@example.net',
  first_name: 'Wilhelmina',
  last_name: 'Vorstmann',
  phone: '+31 20 555 0142',
  street: '18 Keizersgracht Achter',
  address2: 'order',
  city: 'Eastbury',
}
/** the neighbour: same first name and city as X, an address line "order"; must keep everything */
const Y: Person = {
  id: 'y-1',
  email: 'quentin.neighbour@example.com',
  first_name: 'Quentin',
  last_name: 'Nearby',
  phone: '+1 212 555 0166',
  street: 'order',
  address2: '3 Eastbury Close',
  city: 'Eastbury',
}
/** a customer whose strings are shared with nobody: they must still be on disk after the others' erasure */
const K: Person = {
  id: 'k-1',
  email: 'yolanda.keeper@example.com',
  first_name: 'Yolanda',
  last_name: 'Keepwell',
  phone: '+1 212 555 0177',
  street: '5 Retention Road',
  address2: 'order',
  city: 'Eastbury',
}

function orderEvent(eventId: string, orderId: string, p: Person, at: string): Record<string, unknown> {
  const address = {
    first_name: p.first_name,
    last_name: p.last_name,
    address1: p.street,
    address2: p.address2,
    city: p.city,
    phone: p.phone,
    country_code: 'GB',
  }
  return {
    id: eventId,
    type: 'order.created',
    occurred_at: at,
    data: {
      id: orderId,
      number: orderId,
      currency: 'USD',
      total_price: '30.00',
      line_items: [{ sku: 'MUG-1', quantity: 1, price: '30.00' }],
      customer: { ...(p.id ? { id: p.id } : {}), email: p.email, first_name: p.first_name, last_name: p.last_name, phone: p.phone },
      shipping_address: address,
      billing_address: address,
    },
  }
}

/** Every row of every table with store_id for the store, as sorted JSON lines (run_steps included through store_id). */
function dumpStore(db: SQLite.Database, store: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const tables = db.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`).all() as Array<{ name: string }>
  for (const { name } of tables) {
    const cols = db.prepare('select name from pragma_table_info(?)').all(name) as Array<{ name: string }>
    if (!cols.some((c) => c.name === 'store_id')) continue
    out[name] = (db.prepare(`select * from "${name}" where store_id = ?`).all(store) as unknown[]).map((r) => JSON.stringify(r)).sort()
  }
  return out
}

/** One customer's profile and every row pointing at their key or their runs. */
function dumpCustomer(db: SQLite.Database, store: string, externalId: string): Record<string, string[]> {
  const c = db.prepare('select * from customers where store_id = ? and external_id = ?').get(store, externalId) as { key: string }
  const rows = (sqlText: string, ...params: unknown[]) => (db.prepare(sqlText).all(...params) as unknown[]).map((r) => JSON.stringify(r)).sort()
  const runs = 'select id from runs where store_id = ? and customer_key = ?'
  return {
    customers: [JSON.stringify(c)],
    events: rows('select * from events where store_id = ? and customer_key = ?', store, c.key),
    orders: rows('select * from orders where store_id = ? and customer_key = ?', store, c.key),
    messages: rows('select * from messages where store_id = ? and customer_key = ?', store, c.key),
    runs: rows('select * from runs where store_id = ? and customer_key = ?', store, c.key),
    run_steps: rows(`select * from run_steps where run_id in (${runs})`, store, c.key),
  }
}

const WORKFLOW = `id: thanks
name: Thanks
trigger: { event: order.created }
steps:
  - action: send_email
    with: { subject: 'Thanks {{ customer.first_name }}', html: '<p>Hi {{ customer.first_name }} {{ customer.last_name }} ({{ customer.email }}, {{ customer.phone }}), your order ships to {{ order.shipping_address.address1 }}.</p>', category: transactional }
  - action: log
    with: { message: 'mailed {{ customer.email }} {{ customer.first_name }} {{ customer.last_name }} at {{ order.shipping_address.address1 }}' }
`

describe('privacy end to end', { timeout: 300_000 }, () => {
  it("storeflow customers erase writes only the customer's rows in their store: store B and a neighbour sharing strings stay byte-identical", async () => {
    const dir = dataDir()
    await ok(dir, ['stores', 'create', 'b'])
    const a = write(
      dir,
      'a.json',
      JSON.stringify([orderEvent('x-order', 'o-x', X, '2026-03-01T10:00:00Z'), orderEvent('y-order', 'o-y', Y, '2026-03-01T11:00:00Z')]),
    )
    // the same person shops in store B too
    const b = write(
      dir,
      'b.json',
      JSON.stringify([orderEvent('x-order', 'o-x', X, '2026-03-01T10:00:00Z'), orderEvent('y-order', 'o-y', Y, '2026-03-01T11:00:00Z')]),
    )
    expect(await ok(dir, ['events', 'send', a])).toContain('accepted 2')
    expect(await ok(dir, ['--store', 'b', 'events', 'send', b])).toContain('accepted 2')

    const file = join(dir, 'storeflow.db')
    let db = new SQLite(file, { readonly: true })
    const storeB = dumpStore(db, 'b')
    const neighbour = dumpCustomer(db, 'default', Y.id)
    const types = (db.prepare('select seq, type from events order by seq').all() as unknown[]).map((r) => JSON.stringify(r))
    db.close()
    expect(JSON.stringify(storeB)).toContain(X.email)
    expect(JSON.stringify(neighbour)).toContain(Y.first_name)

    const erased = JSON.parse(await ok(dir, ['customers', 'erase', X.email, '--json']))
    // the order and the segment.entered (new) it derived
    expect(erased).toMatchObject({ customers: 1, events: 2, orders: 1 })

    db = new SQLite(file, { readonly: true })
    try {
      expect(dumpStore(db, 'b')).toEqual(storeB)
      expect(dumpCustomer(db, 'default', Y.id)).toEqual(neighbour)
      expect((db.prepare('select seq, type from events order by seq').all() as unknown[]).map((r) => JSON.stringify(r))).toEqual(types)
      // …while store A holds none of X's own strings any more
      const a = JSON.stringify(dumpStore(db, 'default'))
      for (const s of [X.email, X.last_name, X.phone, X.street]) expect(a).not.toContain(s)
    } finally {
      db.close()
    }
    // a customer the store does not know is an error, not a silent success
    const unknown = await cli(dir, ['customers', 'erase', 'nobody@example.org'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('not found')
  })

  it("after customers/redact and customers erase, no file under the data directory holds their email, names, phone or street; a kept customer's still does", async () => {
    const dir = dataDir()
    const shopSecret = 'shpss_bytes-secret'
    const shopDomain = 'bytes.myshopify.com'
    const admin = JSON.parse(await ok(dir, ['keys', 'create', '--scope', 'admin', '--json'])).key as string
    await ok(dir, ['connectors', 'add', '--platform', 'shopify', '--secret', shopSecret, '--shop-domain', shopDomain])
    await ok(dir, ['workflows', 'import', write(dir, 'thanks.yaml', WORKFLOW)])
    await ok(dir, ['workflows', 'activate', 'thanks'])

    const serve = startStoreflow(['serve', '--port', '0', '--host', '127.0.0.1'], baseEnv(dir) as Record<string, string>)
    try {
      const base = await waitFor('serve to listen', async () => /listening on (http:\/\/\S+)/.exec(serve.output())?.[1], 60_000)
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      const shopify = (topic: string, body: string, eventId: string) =>
        fetch(`${base}/webhooks/shopify/default`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-shopify-hmac-sha256': createHmac('sha256', shopSecret).update(body).digest('base64'),
            'x-shopify-topic': topic,
            'x-shopify-shop-domain': shopDomain,
            'x-shopify-event-id': eventId,
            'x-shopify-webhook-id': `wh-${eventId}`,
          },
        })

      // X through Shopify (order, then a data request that keeps an export), W and Y through the events API
      const xOrder = JSON.stringify({
        id: 4401,
        name: '#4401',
        order_number: 4401,
        email: X.email,
        phone: X.phone,
        currency: 'USD',
        total_price: '30.00',
        subtotal_price: '30.00',
        financial_status: 'paid',
        created_at: '2026-03-01T09:00:00Z',
        updated_at: '2026-03-01T09:00:00Z',
        customer: {
          id: 9901,
          email: X.email,
          first_name: X.first_name,
          last_name: X.last_name,
          phone: X.phone,
          default_address: { address1: X.street, address2: X.address2, city: X.city, phone: X.phone, country_code: 'GB' },
        },
        shipping_address: {
          first_name: X.first_name,
          last_name: X.last_name,
          name: `${X.first_name} ${X.last_name}`,
          address1: X.street,
          address2: X.address2,
          city: X.city,
          phone: X.phone,
          country_code: 'GB',
        },
        billing_address: {
          first_name: X.first_name,
          last_name: X.last_name,
          name: `${X.first_name} ${X.last_name}`,
          address1: X.street,
          city: X.city,
          phone: X.phone,
          country_code: 'GB',
        },
        line_items: [{ id: 1, sku: 'MUG-1', title: 'Mug', quantity: 1, price: '30.00', product_id: 5 }],
      })
      expect((await shopify('orders/create', xOrder, 'x-create')).status).toBe(200)
      const dataRequest = JSON.stringify({
        shop_id: 1,
        shop_domain: shopDomain,
        orders_requested: [4401],
        customer: { id: 9901, email: X.email, phone: X.phone },
        data_request: { id: 77 },
      })
      expect((await shopify('customers/data_request', dataRequest, 'x-dr')).status).toBe(200)
      for (const [id, p] of [
        ['w-order', W],
        ['k-order', K],
      ] as const) {
        expect((await api('POST', '/api/v1/events', orderEvent(id, id, p, '2026-03-01T10:00:00Z'))).status).toBe(202)
      }
      await waitFor(
        'three mails sent and logged',
        async () => {
          const runs = (await (await api('GET', '/api/v1/runs?workflow=thanks')).json()) as { items: Array<{ status: string }> }
          return runs.items.length === 3 && runs.items.every((r) => r.status === 'completed')
        },
        120_000,
      )

      const everyone = [X, W, K].flatMap((p) => needles(p))
      // before: every one of their strings is on disk (so the check below can fail)
      expect(missingFrom(dir, everyone)).toEqual([])

      const redact = JSON.stringify({ shop_id: 1, shop_domain: shopDomain, customer: { id: 9901, email: X.email, phone: X.phone }, orders_to_redact: [4401] })
      const answer = await shopify('customers/redact', redact, 'x-redact')
      expect(answer.status).toBe(200)
      // the CLI, a second process on the same database while serve runs
      expect(JSON.parse(await ok(dir, ['customers', 'erase', W.email, '--json']))).toMatchObject({ customers: 1 })

      expect(foundIn(dir, [...needles(X), ...needles(W)])).toEqual([])
      expect(missingFrom(dir, needles(K))).toEqual([])
    } finally {
      expect(await serve.stop()).toBe(0)
    }
  })
})

/** The strings of a person that erasure must remove: email, first and last name, phone, street. */
function needles(p: Person): string[] {
  return [p.email, p.first_name, p.last_name, p.phone, p.street]
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
}

/** The forms a string takes in stored bytes: as is, lower-cased, and escaped inside JSON (also inside JSON in JSON). */
function forms(s: string): string[] {
  const json = JSON.stringify(s).slice(1, -1)
  return [...new Set([s, s.toLowerCase(), json, JSON.stringify(json).slice(1, -1)])]
}

/** `file: string` for each of the strings found, in any form, in any file (case-insensitive). */
function foundIn(dir: string, strings: string[]): string[] {
  const out: string[] = []
  for (const f of files(dir)) {
    const bytes = readFileSync(f)
    const lower = bytes.toString('latin1').toLowerCase()
    for (const s of strings) {
      if (forms(s).some((form) => bytes.includes(Buffer.from(form, 'utf8')) || lower.includes(Buffer.from(form.toLowerCase(), 'utf8').toString('latin1'))))
        out.push(`${f.slice(dir.length + 1)}: ${s}`)
    }
  }
  return out
}

function missingFrom(dir: string, strings: string[]): string[] {
  const found = new Set(foundIn(dir, strings).map((f) => f.slice(f.indexOf(': ') + 2)))
  return strings.filter((s) => !found.has(s))
}
