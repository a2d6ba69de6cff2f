import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { UserError } from '../lib/errors.ts'
import type { DialectName } from './db.ts'
import { getRun, type RunView } from './runs.repo.ts'
import { toEvent } from './storage.ts'
import type { CustomersTable, Database } from './tables.ts'
import { cartView, customerView, orderView } from './views.ts'

/**
 * Privacy duties (issue 4): export everything storeflow holds on a customer, and erase their
 * personal data everywhere, keeping anonymised aggregates (order totals, counts, line items).
 *
 * Erasure works in two passes inside one transaction:
 * 1. Structured: the customer's profile, and every row linked to them (events, orders, carts,
 *    messages, runs and their steps, deliveries that mention them) is scrubbed by field name
 *    (email, phone, names, addresses …), and the personal strings found there become "needles".
 * 2. Sweep: every text column of every table (tables added later included) is searched for those
 *    needles, case-insensitively, and each occurrence is replaced by "[redacted]". This catches the
 *    email in a log step's output or a delivery body that no field name points at.
 *
 * Kept on purpose: storeflow's customer key and the shop's customer id (opaque ids, so a second
 * redact, the shop's later events and the aggregates still line up), tags, counts and money.
 * `profile_at` is set to the erasure time, so a late redelivery of an older event does not write
 * the erased fields back.
 */

type Db = Kysely<Database> | Transaction<Database>
type Obj = Record<string, unknown>

export const REDACTED = '[redacted]'

/** What identifies the customer: the shop's id, storeflow's key, or an email; plus what a shop says about them. */
export interface CustomerIdentity {
  ref: string
  email?: string | null
  phone?: string | null
  /** orders the shop asks to redact (Shopify `orders_to_redact`) even when not linked to the customer */
  orderIds?: string[]
}

export interface CustomerExport {
  store: string
  customer_ref: string
  exported_at: string
  customer: Record<string, unknown> | null
  profiles: Array<Record<string, unknown>>
  orders: Array<Record<string, unknown>>
  carts: Array<Record<string, unknown>>
  events: Array<Record<string, unknown>>
  messages: Array<Record<string, unknown>>
  runs: RunView[]
  deliveries: Array<Record<string, unknown>>
}

function identity(ref: string | CustomerIdentity): CustomerIdentity {
  return typeof ref === 'string' ? { ref } : ref
}

async function findCustomers(db: Db, storeId: string, id: CustomerIdentity): Promise<Array<Selectable<CustomersTable>>> {
  const emails = [id.ref, id.email].filter((e): e is string => typeof e === 'string' && e.includes('@')).map((e) => e.toLowerCase())
  return db.selectFrom('customers').selectAll().where('store_id', '=', storeId)
    .where((eb) => eb.or([
      eb('external_id', '=', id.ref),
      eb('key', '=', id.ref),
      ...(emails.length > 0 ? [eb('email', 'in', emails)] : []),
    ]))
    .orderBy('created_at').execute()
}

const NONE = ['//none']

/** Everything storeflow holds on the customer. Throws not_found when nothing at all is known of them. */
export async function exportCustomer(db: Db, storeId: string, customerRef: string | CustomerIdentity, now: Date = new Date()): Promise<CustomerExport> {
  const id = identity(customerRef)
  const customers = await findCustomers(db, storeId, id)
  const keys = customers.length > 0 ? customers.map((c) => c.key) : NONE
  const orders = await db.selectFrom('orders').selectAll().where('store_id', '=', storeId).where('customer_key', 'in', keys).orderBy('created_at').execute()
  const carts = await db.selectFrom('carts').selectAll().where('store_id', '=', storeId).where('customer_key', 'in', keys).orderBy('updated_at').execute()
  const events = await db.selectFrom('events').selectAll().where('store_id', '=', storeId).where('customer_key', 'in', keys).orderBy('seq').execute()
  const messages = await db.selectFrom('messages').selectAll().where('store_id', '=', storeId).where('customer_key', 'in', keys).orderBy('created_at').execute()
  const runIds = await db.selectFrom('runs').select('id').where('store_id', '=', storeId).where('customer_key', 'in', keys).orderBy('started_at').execute()
  const runs: RunView[] = []
  for (const r of runIds) runs.push(await getRun(db as Kysely<Database>, storeId, r.id))
  const needles = strongNeedles(customers, id)
  const deliveries = needles.length === 0 ? [] : await db.selectFrom('webhook_deliveries').selectAll().where('store_id', '=', storeId)
    .where((eb) => eb.or(needles.map((n) => eb(sql<string>`lower(body)`, 'like', `%${n.toLowerCase()}%`))))
    .orderBy('received_at').execute()
  if (customers.length === 0 && deliveries.length === 0) throw new UserError(`customer "${id.ref}" not found in store "${storeId}"`, { code: 'not_found' })
  const profiles = customers.map(customerView)
  return {
    store: storeId,
    customer_ref: id.ref,
    exported_at: now.toISOString(),
    customer: profiles[0] ?? null,
    profiles,
    orders: orders.map(orderView),
    carts: carts.map(cartView),
    events: events.map(toEvent).map((e) => ({ id: e.id, type: e.type, occurred_at: e.occurred_at, received_at: e.received_at, historical: e.historical, data: e.data })),
    messages: messages.map((m) => ({ id: m.id, channel: m.channel, category: m.category, status: m.status, to: m.to_addr, from: m.from_addr, subject: m.subject, html: m.html, text: m.text, workflow_id: m.workflow_id, run_id: m.run_id, opens: m.opens, clicks: m.clicks, created_at: m.created_at, sent_at: m.sent_at })),
    runs,
    deliveries: deliveries.map((d) => ({ id: d.id, platform: d.platform, topic: d.topic, received_at: d.received_at, body: d.body })),
  }
}

export interface EraseResult {
  customers: number
  events: number
  orders: number
  carts: number
  messages: number
  runs: number
  runs_cancelled: number
  deliveries: number
  swept: number
}

/** Erases the customer's personal data everywhere, in one transaction; ends their active runs. */
export async function eraseCustomer(db: Kysely<Database>, storeId: string, customerRef: string | CustomerIdentity, now: Date, dialect: DialectName): Promise<EraseResult> {
  const id = identity(customerRef)
  return db.transaction().execute(async (trx) => {
    const customers = await findCustomers(trx, storeId, id)
    const keys = customers.length > 0 ? customers.map((c) => c.key) : NONE
    const needles = new Needles()
    for (const c of customers) needles.addCustomer(c)
    needles.addStrong(id.email)
    needles.addStrong(id.phone)
    const result: EraseResult = { customers: customers.length, events: 0, orders: 0, carts: 0, messages: 0, runs: 0, runs_cancelled: 0, deliveries: 0, swept: 0 }

    // 1. rows linked to the customer: collect their personal strings first, then scrub them
    const events = await trx.selectFrom('events').select(['seq', 'data']).where('store_id', '=', storeId).where('customer_key', 'in', keys).execute()
    const orderIds = id.orderIds ?? []
    const orders = await trx.selectFrom('orders').select(['id', 'data']).where('store_id', '=', storeId)
      .where((eb) => eb.or([eb('customer_key', 'in', keys), ...(orderIds.length > 0 ? [eb('id', 'in', orderIds)] : [])])).execute()
    const carts = await trx.selectFrom('carts').select(['id', 'data']).where('store_id', '=', storeId).where('customer_key', 'in', keys).execute()
    for (const row of [...events, ...orders, ...carts]) needles.collect(JSON.parse(row.data))

    // deliveries and unlinked order events that mention them (by any personal string or the shop's ids)
    const mentions = [...needles.strong, ...customers.flatMap((c) => (c.external_id ? [c.external_id] : [])), ...orderIds]
    const deliveries = mentions.length === 0 ? [] : await trx.selectFrom('webhook_deliveries').select(['id', 'body', 'headers']).where('store_id', '=', storeId)
      .where((eb) => eb.or(mentions.map((n) => eb(sql<string>`lower(body)`, 'like', `%${n.toLowerCase()}%`)))).execute()
    for (const d of deliveries) needles.collect(safeJson(d.body))

    const all = needles.all()
    for (const e of events) {
      await trx.updateTable('events').set({ data: JSON.stringify(scrub(JSON.parse(e.data), all)) }).where('seq', '=', e.seq).execute()
      result.events++
    }
    for (const o of orders) {
      await trx.updateTable('orders').set({ data: JSON.stringify(scrub(JSON.parse(o.data), all)) }).where('store_id', '=', storeId).where('id', '=', o.id).execute()
      result.orders++
    }
    for (const c of carts) {
      await trx.updateTable('carts').set({ data: JSON.stringify(scrub(JSON.parse(c.data), all)) }).where('store_id', '=', storeId).where('id', '=', c.id).execute()
      result.carts++
    }
    for (const d of deliveries) {
      await trx.updateTable('webhook_deliveries').set({ body: scrubText(d.body, all), headers: JSON.stringify(scrub(JSON.parse(d.headers), all)) }).where('id', '=', d.id).execute()
      result.deliveries++
    }

    result.messages = Number((await trx.updateTable('messages')
      .set({ to_addr: REDACTED, subject: null, html: null, text: null, headers: '{}' })
      .where('store_id', '=', storeId).where('customer_key', 'in', keys).executeTakeFirst()).numUpdatedRows)

    const runs = await trx.selectFrom('runs').select(['id', 'status', 'state']).where('store_id', '=', storeId).where('customer_key', 'in', keys).execute()
    for (const r of runs) {
      const active = r.status === 'running' || r.status === 'waiting'
      await trx.updateTable('runs').set({
        customer_email: null,
        state: JSON.stringify(scrub(JSON.parse(r.state), all)),
        ...(active ? { status: 'cancelled', due_at: null, ended_at: now.toISOString(), lease_owner: null, lease_until: null } : {}),
        // a worker holding an older copy of the run must lose its versioned write (engine invariant 8)
        version: sql`version + 1`,
        updated_at: now.toISOString(),
      }).where('id', '=', r.id).execute()
      if (active) result.runs_cancelled++
      result.runs++
      await trx.deleteFrom('correlations').where('run_id', '=', r.id).execute()
      const steps = await trx.selectFrom('run_steps').select(['step_key', 'input', 'output', 'error']).where('run_id', '=', r.id).execute()
      for (const s of steps) {
        await trx.updateTable('run_steps').set({
          input: s.input === null ? null : JSON.stringify(scrub(JSON.parse(s.input), all)),
          output: s.output === null ? null : JSON.stringify(scrub(JSON.parse(s.output), all)),
          error: s.error === null ? null : replaceNeedles(s.error, all),
        }).where('run_id', '=', r.id).where('step_key', '=', s.step_key).execute()
      }
    }

    await trx.deleteFrom('privacy_exports').where('store_id', '=', storeId)
      .where((eb) => eb.or([eb('customer_key', 'in', keys), eb('customer_ref', 'in', [id.ref, ...(id.email ? [id.email] : [])])])).execute()

    for (const c of customers) {
      await trx.updateTable('customers').set({
        email: null, phone: null, first_name: null, last_name: null, birthday: null, timezone: null,
        accepts_marketing: 0, attributes: JSON.stringify({ erased_at: now.toISOString() }),
        profile_at: now.toISOString(), updated_at: now.toISOString(),
      }).where('key', '=', c.key).execute()
    }

    // 2. the sweep
    result.swept = await sweep(trx, needles.strong, dialect)
    return result
  })
}

/** shop/redact: every customer's personal data in the store, and every delivery body; ends all active runs. */
export async function eraseStore(db: Kysely<Database>, storeId: string, now: Date, dialect: DialectName): Promise<{ customers: number }> {
  const customers = await db.selectFrom('customers').select('key').where('store_id', '=', storeId).execute()
  for (const c of customers) await eraseCustomer(db, storeId, c.key, now, dialect)
  await db.transaction().execute(async (trx) => {
    // what no customer row links: events, orders and carts of guests, and every raw delivery
    for (const table of ['events', 'orders', 'carts'] as const) {
      const rows = await (trx as Kysely<any>).selectFrom(table).select(table === 'events' ? ['seq as pk', 'data'] : ['id as pk', 'data']).where('store_id', '=', storeId).execute()
      for (const row of rows as Array<{ pk: string | number; data: string }>) {
        const data = JSON.stringify(scrub(JSON.parse(row.data), []))
        if (data !== row.data) await (trx as Kysely<any>).updateTable(table).set({ data }).where('store_id', '=', storeId).where(table === 'events' ? 'seq' : 'id', '=', row.pk).execute()
      }
    }
    const deliveries = await trx.selectFrom('webhook_deliveries').select(['id', 'body']).where('store_id', '=', storeId).execute()
    for (const d of deliveries) await trx.updateTable('webhook_deliveries').set({ body: scrubText(d.body, []) }).where('id', '=', d.id).execute()
    await trx.updateTable('messages').set({ to_addr: REDACTED, subject: null, html: null, text: null, headers: '{}' }).where('store_id', '=', storeId).execute()
    await trx.updateTable('runs').set({ customer_email: null, version: sql`version + 1` }).where('store_id', '=', storeId).execute()
    const active = await trx.selectFrom('runs').select('id').where('store_id', '=', storeId).where('status', 'in', ['running', 'waiting']).execute()
    for (const r of active) {
      await trx.updateTable('runs').set({ status: 'cancelled', due_at: null, ended_at: now.toISOString(), lease_owner: null, lease_until: null, version: sql`version + 1`, updated_at: now.toISOString() }).where('id', '=', r.id).execute()
      await trx.deleteFrom('correlations').where('run_id', '=', r.id).execute()
    }
    await trx.deleteFrom('privacy_exports').where('store_id', '=', storeId).execute()
  })
  return { customers: customers.length }
}

// ---------------------------------------------------------------------------------------------
// scrubbing

/** Objects under these keys are addresses: only the country code survives (for aggregates). */
const ADDRESS_KEYS = new Set(['billing_address', 'shipping_address', 'default_address', 'address', 'billing', 'shipping', 'destination'])
const ADDRESS_LIST_KEYS = new Set(['addresses', 'shipping_addresses'])
/** Scalar fields that are personal data wherever they appear. */
const PERSONAL_KEYS = new Set([
  'email', 'contact_email', 'customer_email', 'phone', 'first_name', 'last_name', 'birthday', 'date_of_birth',
  'address1', 'address2', 'address_1', 'address_2', 'street_1', 'street_2', 'city', 'zip', 'postcode', 'province',
  'company', 'latitude', 'longitude', 'note', 'customer_note', 'ip_address', 'browser_ip', 'customer_ip_address',
  'customer_user_agent', 'client_details', 'full_name', 'username', 'display_name', 'to', 'to_addr', 'recipient',
])
/** Kept inside a scrubbed address. */
const ADDRESS_KEEP = ['country_code', 'country_iso2']

function isPersonish(o: Obj): boolean {
  return 'first_name' in o || 'last_name' in o || 'email' in o || 'address1' in o || 'street_1' in o || 'address_1' in o
}

/** Removes personal fields by name, then replaces the needles in every remaining string. */
export function scrub(value: unknown, needles: string[]): unknown {
  if (typeof value === 'string') return replaceNeedles(value, needles)
  if (Array.isArray(value)) return value.map((v) => scrub(v, needles))
  if (value === null || typeof value !== 'object') return value
  const o = value as Obj
  const personish = isPersonish(o)
  const out: Obj = {}
  for (const [key, v] of Object.entries(o)) {
    if (v === null || v === undefined) {
      out[key] = v
    } else if (ADDRESS_KEYS.has(key) && typeof v === 'object' && !Array.isArray(v)) {
      const kept: Obj = {}
      for (const k of ADDRESS_KEEP) if (k in (v as Obj)) kept[k] = (v as Obj)[k]
      out[key] = kept
    } else if (ADDRESS_LIST_KEYS.has(key) && Array.isArray(v)) {
      out[key] = []
    } else if (PERSONAL_KEYS.has(key) || (personish && key === 'name')) {
      out[key] = null
    } else {
      out[key] = scrub(v, needles)
    }
  }
  return out
}

/** A stored body: scrubbed as JSON when it is JSON, else only the needles are replaced. */
function scrubText(text: string, needles: string[]): string {
  const parsed = safeJson(text)
  return parsed === undefined ? replaceNeedles(text, needles) : JSON.stringify(scrub(parsed, needles))
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export function replaceNeedles(text: string, needles: string[]): string {
  let out = text
  for (const n of needles) if (n && out.toLowerCase().includes(n.toLowerCase())) out = out.replace(new RegExp(escapeRegExp(n), 'gi'), REDACTED)
  return out
}

/**
 * Personal strings of one customer. Strong needles (email, phone, full name, street line) are
 * specific enough to be searched for in the whole database; weak ones (a first name alone) only in
 * rows already linked to the customer.
 */
class Needles {
  readonly strong = new Set<string>()
  readonly weak = new Set<string>()

  addStrong(v: unknown): void {
    if (typeof v === 'string' && v.trim().length >= 5) this.strong.add(v.trim())
  }

  addWeak(v: unknown): void {
    if (typeof v === 'string' && v.trim().length >= 2) this.weak.add(v.trim())
  }

  addCustomer(c: Selectable<CustomersTable>): void {
    this.addStrong(c.email)
    this.addStrong(c.phone)
    this.addWeak(c.first_name)
    this.addWeak(c.last_name)
    if (c.first_name && c.last_name) this.addStrong(`${c.first_name} ${c.last_name}`)
    this.collect(safeJson(c.attributes))
  }

  /** Walks a JSON value and collects the values of personal fields. */
  collect(value: unknown): void {
    if (Array.isArray(value)) {
      for (const v of value) this.collect(v)
      return
    }
    if (value === null || typeof value !== 'object') return
    const o = value as Obj
    for (const key of ['email', 'contact_email', 'customer_email', 'phone', 'address1', 'address2', 'address_1', 'address_2', 'street_1', 'street_2']) this.addStrong(o[key])
    this.addWeak(o['first_name'])
    this.addWeak(o['last_name'])
    if (typeof o['first_name'] === 'string' && typeof o['last_name'] === 'string') this.addStrong(`${o['first_name']} ${o['last_name']}`)
    if (isPersonish(o) && typeof o['name'] === 'string' && o['name'].includes(' ')) this.addStrong(o['name'])
    for (const v of Object.values(o)) if (v !== null && typeof v === 'object') this.collect(v)
  }

  all(): string[] {
    // longest first, so "Jane Doe" is replaced before "Jane"
    return [...new Set([...this.strong, ...this.weak])].sort((a, b) => b.length - a.length)
  }
}

/** Tables the sweep leaves alone: dashboard users and keys are not customer data, migrations are ours. */
const SWEEP_SKIP = new Set(['storeflow_migrations', 'users', 'api_keys', 'connectors', 'sessions'])

/** Every text column of every table: needle occurrences replaced. Returns the number of values changed. */
async function sweep(db: Db, strong: Set<string>, dialect: DialectName): Promise<number> {
  const needles = [...strong].sort((a, b) => b.length - a.length)
  if (needles.length === 0) return 0
  const columns = await textColumns(db, dialect)
  const rid = dialect === 'sqlite' ? sql.raw('rowid') : sql.raw('ctid::text')
  let changed = 0
  for (const { table, column } of columns) {
    const col = sql.ref(column)
    const where = sql.join(needles.map((n) => sql`lower(${col}) like ${`%${n.toLowerCase()}%`}`), sql` or `)
    const rows = await sql<{ rid: string | number; v: string }>`select ${rid} as rid, ${col} as v from ${sql.table(table)} where ${where}`.execute(db)
    for (const row of rows.rows) {
      const v = replaceNeedles(row.v, needles)
      if (v === row.v) continue
      if (dialect === 'sqlite') await sql`update ${sql.table(table)} set ${col} = ${v} where rowid = ${row.rid}`.execute(db)
      else await sql`update ${sql.table(table)} set ${col} = ${v} where ctid = ${String(row.rid)}::tid`.execute(db)
      changed++
    }
  }
  return changed
}

/** Every text column of every table (SQLite: sqlite_master; PostgreSQL: the current schema). */
export async function textColumns(db: Db, dialect: DialectName): Promise<Array<{ table: string; column: string }>> {
  const out: Array<{ table: string; column: string }> = []
  if (dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
    for (const t of tables.rows) {
      if (SWEEP_SKIP.has(t.name)) continue
      const cols = await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${t.name})`.execute(db)
      for (const c of cols.rows) if (/text|char|clob|json/i.test(c.type)) out.push({ table: t.name, column: c.name })
    }
  } else {
    const cols = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and data_type in ('text', 'character varying')
      order by table_name, ordinal_position`.execute(db)
    for (const c of cols.rows) if (!SWEEP_SKIP.has(c.table_name)) out.push({ table: c.table_name, column: c.column_name })
  }
  return out
}

function strongNeedles(customers: Array<Selectable<CustomersTable>>, id: CustomerIdentity): string[] {
  const n = new Needles()
  for (const c of customers) {
    n.addStrong(c.email)
    if (c.external_id) n.strong.add(c.external_id)
  }
  n.addStrong(id.email)
  if (id.ref.includes('@')) n.addStrong(id.ref)
  return [...n.strong]
}
