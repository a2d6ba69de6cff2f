import { forgetAudienceMember } from './remote-services.ts'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { endedColumns, isActiveStatus } from '../engine/run-status.ts'
import { UserError } from '../lib/errors.ts'
import { aliasesOf } from './customer-aliases.ts'
import type { DialectName } from './db.ts'
import { settleErasure } from './privacy-disk.ts'
import { EMAIL_KEYS, idText, isPlainObject, Needles, parsePayload, REDACTED, safeJson, scrubJson, scrubPayload } from './privacy-scrub.ts'
import { getRun, type RunView } from './runs.repo.ts'
import { toEvent } from './storage.ts'
import type { CartsTable, CustomersTable, Database, EventsTable, MessagesTable, OrdersTable, SubscriptionsTable, WebhookDeliveriesTable } from './tables.ts'
import { cartView, customerView, orderView } from './views.ts'

export { REDACTED, scrub } from './privacy-scrub.ts'

/**
 * Privacy duties: export everything storeflow holds on a customer, and erase their personal data,
 * keeping anonymised aggregates (order totals, counts, line items).
 *
 * Both work on the customer's footprint, found by keys inside their own store and nowhere else:
 * their profile (by the shop's id, storeflow's key, a key merged into it, or an email the shop
 * has no id for); the events, orders, carts, messages and runs that carry those keys; the orders
 * the shop names (Shopify's orders_to_redact) and the events of their orders that no customer
 * links; the steps of those runs; the shop's deliveries whose payload is about them (their
 * customer id, email or orders, where a payload names its customer); their privacy exports.
 * Erasure writes those rows and no other: never another store's, never another customer's,
 * never an event's type or any other column that is not personal.
 *
 * Inside those rows (privacy-scrub.ts) personal fields are cleared by name and the customer's own
 * strings replaced in free text. Then the old bytes are made to leave the files (privacy-disk.ts).
 *
 * Kept on purpose: storeflow's customer key and the shop's customer id (opaque ids, so a second
 * redact, the shop's later events and the aggregates still line up), tags, counts and money.
 * `profile_at` is set to the erasure time, so a late redelivery of an older event does not write
 * the erased fields back.
 */

type Db = Kysely<Database> | Transaction<Database>
type CustomerRow = Selectable<CustomersTable>

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
  subscriptions: Array<Record<string, unknown>>
  events: Array<Record<string, unknown>>
  messages: Array<Record<string, unknown>>
  runs: RunView[]
  deliveries: Array<Record<string, unknown>>
}

export interface EraseResult {
  /** whether anything at all was known of the customer in the store */
  found: boolean
  customers: number
  events: number
  orders: number
  carts: number
  messages: number
  runs: number
  runs_cancelled: number
  deliveries: number
  exports: number
  /** the old bytes are gone from the database files (SQLite's WAL checkpointed, PostgreSQL vacuumed) */
  disk_settled: boolean
}

function identity(ref: string | CustomerIdentity): CustomerIdentity {
  return typeof ref === 'string' ? { ref } : ref
}

/** The customer's rows in one store. */
interface Footprint {
  customers: CustomerRow[]
  /** their keys, merged-away ones included */
  keys: string[]
  externalIds: string[]
  emails: string[]
  events: Array<Selectable<EventsTable>>
  orders: Array<Selectable<OrdersTable>>
  carts: Array<Selectable<CartsTable>>
  subscriptions: Array<Selectable<SubscriptionsTable>>
  messages: Array<Selectable<MessagesTable>>
  runIds: string[]
  deliveries: Array<Selectable<WebhookDeliveriesTable>>
}

/** A value no key or id takes, for `in` lists that would otherwise be empty. */
const NONE = '//none'
const some = (xs: string[]): string[] => (xs.length > 0 ? xs : [NONE])
const uniq = <T>(xs: T[]): T[] => [...new Set(xs)]
const isEmail = (v: unknown): v is string => typeof v === 'string' && v.includes('@')

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size))
  return out
}

async function findCustomers(db: Db, storeId: string, id: CustomerIdentity): Promise<CustomerRow[]> {
  const refIsEmail = isEmail(id.ref)
  const emails = uniq([id.ref, id.email].filter(isEmail).map((e) => e.toLowerCase()))
  const forwarded = (
    await db.selectFrom('customer_aliases').select('customer_key').where('store_id', '=', storeId).where('alias_key', '=', id.ref).execute()
  ).map((a) => a.customer_key)
  return db
    .selectFrom('customers')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) =>
      eb.or([
        eb('external_id', '=', id.ref),
        eb('key', 'in', [id.ref, ...forwarded]),
        // asked by email: every profile with it. Asked by the shop's id: an email names only a
        // profile the shop had no id for; another id's profile sharing the email is someone else.
        ...(emails.length === 0 ? [] : [refIsEmail ? eb('email', 'in', emails) : eb.and([eb('email', 'in', emails), eb('external_id', 'is', null)])]),
      ]),
    )
    .orderBy('created_at')
    .orderBy('key')
    .execute()
}

async function findFootprint(db: Db, storeId: string, id: CustomerIdentity, options: { deliveries: boolean } = { deliveries: true }): Promise<Footprint> {
  const customers = await findCustomers(db, storeId, id)
  const direct = customers.map((c) => c.key)
  const keys = uniq([...direct, ...(await aliasesOf(db, storeId, direct))])
  // a ref that is neither one of their keys nor an email is the shop's id, even with no profile for it (a redact for a customer only deliveries mention)
  const refIsShopId = id.ref !== '' && !isEmail(id.ref) && !keys.includes(id.ref)
  const externalIds = uniq([...customers.flatMap((c) => (c.external_id ? [c.external_id] : [])), ...(refIsShopId ? [id.ref] : [])])
  const emails = uniq([...customers.map((c) => c.email), id.email, isEmail(id.ref) ? id.ref : null].filter(isEmail).map((e) => e.toLowerCase()))

  const orders = await db
    .selectFrom('orders')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('customer_key', 'in', some(keys)), eb('id', 'in', some(id.orderIds ?? []))]))
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  const orderIds = uniq([...orders.map((o) => o.id), ...(id.orderIds ?? [])])
  const linked = await db.selectFrom('events').selectAll().where('store_id', '=', storeId).where('customer_key', 'in', some(keys)).orderBy('seq').execute()
  const unlinked = await unlinkedOrderEvents(db, storeId, orderIds)
  const events = [...linked, ...unlinked].sort((a, b) => Number(a.seq) - Number(b.seq))
  const checkoutIds = orders.flatMap((o) => (o.checkout_id ? [o.checkout_id] : []))
  const carts = await db
    .selectFrom('carts')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('customer_key', 'in', some(keys)), eb('id', 'in', some(checkoutIds))]))
    .orderBy('updated_at')
    .orderBy('id')
    .execute()
  const subscriptions = await db
    .selectFrom('subscriptions')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('customer_key', 'in', some(keys))
    .orderBy('id')
    .execute()
  const messages = await db
    .selectFrom('messages')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('customer_key', 'in', some(keys))
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  // runs carry the key of the event that started them; a guest order's runs have none, and are found by that event
  const guestSeqs = unlinked.map((e) => Number(e.seq))
  const runs = await db
    .selectFrom('runs')
    .select('id')
    .where('store_id', '=', storeId)
    .where((eb) =>
      eb.or([
        eb('customer_key', 'in', some(keys)),
        eb.and([eb('customer_key', 'is', null), eb('trigger_event_seq', 'in', guestSeqs.length > 0 ? guestSeqs : [-1])]),
      ]),
    )
    .orderBy('started_at')
    .orderBy('id')
    .execute()
  const deliveries = options.deliveries ? await deliveriesAbout(db, storeId, { externalIds, emails, orderIds }) : []
  return { customers, keys, externalIds, emails, events, orders, carts, subscriptions, messages, runIds: runs.map((r) => r.id), deliveries }
}

/** order.* events of these orders that no customer links (guest checkouts, fulfilments). */
async function unlinkedOrderEvents(db: Db, storeId: string, orderIds: string[]): Promise<Array<Selectable<EventsTable>>> {
  const found = new Map<number, Selectable<EventsTable>>()
  for (const chunk of chunks(orderIds, 20)) {
    // LIKE narrows the search; the parsed data decides (an id can appear inside another value)
    const rows = await db
      .selectFrom('events')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('customer_key', 'is', null)
      .where('type', 'like', 'order.%')
      .where((eb) => eb.or(chunk.map((id) => eb('data', 'like', `%${id}%`))))
      .execute()
    for (const row of rows) {
      const data = safeJson(row.data)
      if (isPlainObject(data) && (chunk.includes(idText(data.id) ?? NONE) || chunk.includes(idText(data.order_id) ?? NONE))) found.set(Number(row.seq), row)
    }
  }
  return [...found.values()]
}

interface Who {
  externalIds: string[]
  emails: string[]
  orderIds: string[]
}

/** The store's webhook deliveries whose payload is about the customer. */
async function deliveriesAbout(db: Db, storeId: string, who: Who): Promise<Array<Selectable<WebhookDeliveriesTable>>> {
  const probes = uniq([...who.externalIds, ...who.emails, ...who.orderIds])
  const found = new Map<string, Selectable<WebhookDeliveriesTable>>()
  for (const chunk of chunks(probes, 20)) {
    const rows = await db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('store_id', '=', storeId)
      .where((eb) => eb.or(chunk.map((p) => eb(sql<string>`lower(body)`, 'like', `%${p.toLowerCase()}%`))))
      .execute()
    for (const row of rows) if (!found.has(row.id) && payloadIsAbout(row.topic, row.body, who)) found.set(row.id, row)
  }
  return [...found.values()].sort((a, b) => (a.received_at < b.received_at ? -1 : a.received_at > b.received_at ? 1 : 0))
}

/**
 * Whether a shop's payload is about the customer, judged where a payload names whom it is about:
 * its own id (a customers/* topic) or order id (orders, fulfilments, refunds), its `customer`
 * object or `customer_id`, and the email of the payload itself or of its customer or billing
 * party. A mention elsewhere (another customer's order note) does not make it theirs.
 */
function payloadIsAbout(topic: string, body: string, who: Who): boolean {
  const root = parsePayload(body)
  if (!isPlainObject(root)) return false
  const ids = new Set(who.externalIds)
  const orders = new Set(who.orderIds)
  const emails = new Set(who.emails)
  const has = (set: Set<string>, v: unknown) => {
    const text = idText(v)
    return text !== null && set.has(text)
  }
  const emailOf = (o: Record<string, unknown>) => EMAIL_KEYS.some((k) => typeof o[k] === 'string' && emails.has((o[k] as string).toLowerCase()))
  // BigCommerce names the subject in `data`
  const subjects = [root, root.data].filter(isPlainObject)
  const t = topic.toLowerCase()
  if (t.includes('customer') && subjects.some((s) => has(ids, s.id))) return true
  if (/order|fulfil|refund/.test(t) && subjects.some((s) => has(orders, s.id) || has(orders, s.order_id))) return true
  const customers = subjects.map((s) => s.customer).filter(isPlainObject)
  if (customers.some((c) => has(ids, c.id) || emailOf(c))) return true
  const parties = [...subjects, root.billing].filter(isPlainObject)
  return parties.some((p) => emailOf(p) || has(ids, p.customer_id))
}

/** Everything storeflow holds on the customer. Throws not_found when nothing at all is known of them. */
export async function exportCustomer(db: Db, storeId: string, customerRef: string | CustomerIdentity, now: Date = new Date()): Promise<CustomerExport> {
  const id = identity(customerRef)
  const fp = await findFootprint(db, storeId, id)
  if (fp.customers.length === 0 && fp.orders.length === 0 && fp.deliveries.length === 0)
    throw new UserError(`customer "${id.ref}" not found in store "${storeId}"`, { code: 'not_found' })
  const runs: RunView[] = []
  for (const runId of fp.runIds) runs.push(await getRun(db as Kysely<Database>, storeId, runId))
  const profiles = fp.customers.map(customerView)
  return {
    store: storeId,
    customer_ref: id.ref,
    exported_at: now.toISOString(),
    customer: profiles[0] ?? null,
    profiles,
    orders: fp.orders.map(orderView),
    carts: fp.carts.map(cartView),
    subscriptions: fp.subscriptions.map((s) => ({ ...(JSON.parse(s.data) as Record<string, unknown>), status: s.status, next_renewal_at: s.next_renewal_at })),
    events: fp.events
      .map(toEvent)
      .map((e) => ({ id: e.id, type: e.type, occurred_at: e.occurred_at, received_at: e.received_at, historical: e.historical, data: e.data })),
    messages: fp.messages.map((m) => ({
      id: m.id,
      channel: m.channel,
      category: m.category,
      status: m.status,
      to: m.to_addr,
      from: m.from_addr,
      subject: m.subject,
      html: m.html,
      text: m.text,
      workflow_id: m.workflow_id,
      run_id: m.run_id,
      opens: m.opens,
      clicks: m.clicks,
      created_at: m.created_at,
      sent_at: m.sent_at,
    })),
    runs,
    deliveries: fp.deliveries.map((d) => ({ id: d.id, platform: d.platform, topic: d.topic, received_at: d.received_at, body: d.body })),
  }
}

/** Erases the customer's personal data in their store, in one transaction; ends their active runs; then clears the old bytes from the files. */
export async function eraseCustomer(
  db: Kysely<Database>,
  storeId: string,
  customerRef: string | CustomerIdentity,
  now: Date,
  dialect: DialectName,
): Promise<EraseResult> {
  const id = identity(customerRef)
  const result = await db.transaction().execute((trx) => eraseFootprint(trx, storeId, id, now, { deliveries: true }))
  if (result.found) result.disk_settled = await settleErasure(db, dialect)
  return result
}

async function eraseFootprint(
  trx: Transaction<Database>,
  storeId: string,
  id: CustomerIdentity,
  now: Date,
  options: { deliveries: boolean },
): Promise<EraseResult> {
  const fp = await findFootprint(trx, storeId, id, options)
  const needles = new Needles()
  for (const c of fp.customers) needles.addCustomer(c)
  needles.add(id.email)
  needles.add(id.phone)
  for (const row of [...fp.events, ...fp.orders, ...fp.carts, ...fp.subscriptions]) needles.collect(safeJson(row.data))
  for (const d of fp.deliveries) needles.collect(parsePayload(d.body))
  const at = now.toISOString()

  for (const e of fp.events) {
    const data = scrubJson(e.data, needles)
    if (data !== e.data) await trx.updateTable('events').set({ data }).where('store_id', '=', storeId).where('seq', '=', e.seq).execute()
  }
  for (const o of fp.orders) {
    const data = scrubJson(o.data, needles)
    if (data !== o.data) await trx.updateTable('orders').set({ data }).where('store_id', '=', storeId).where('id', '=', o.id).execute()
  }
  for (const c of fp.carts) {
    const data = scrubJson(c.data, needles)
    if (data !== c.data || c.email !== null)
      await trx.updateTable('carts').set({ data, email: null }).where('store_id', '=', storeId).where('id', '=', c.id).execute()
  }
  for (const sub of fp.subscriptions) {
    const data = scrubJson(sub.data, needles)
    if (data !== sub.data) await trx.updateTable('subscriptions').set({ data }).where('store_id', '=', storeId).where('id', '=', sub.id).execute()
  }
  for (const m of fp.messages) await eraseMessage(trx, storeId, m, needles)
  let cancelled = 0
  for (const runId of fp.runIds) if (await eraseRun(trx, storeId, runId, needles, at)) cancelled++
  for (const d of fp.deliveries) await eraseDelivery(trx, storeId, d, needles)

  const exportsDeleted = await deleteExports(trx, storeId, id, fp)
  // the hashes of their email sync_audience kept (remote-services.ts)
  for (const c of fp.customers) await forgetAudienceMember(trx, storeId, c.key)

  for (const c of fp.customers) {
    await trx
      .updateTable('customers')
      .set({
        email: null,
        phone: null,
        first_name: null,
        last_name: null,
        birthday: null,
        timezone: null,
        accepts_marketing: 0,
        attributes: JSON.stringify({ erased_at: at }),
        profile_at: at,
        updated_at: at,
      })
      .where('store_id', '=', storeId)
      .where('key', '=', c.key)
      .execute()
  }
  return {
    found: fp.customers.length > 0 || fp.orders.length > 0 || fp.events.length > 0 || fp.deliveries.length > 0 || exportsDeleted > 0,
    customers: fp.customers.length,
    events: fp.events.length,
    orders: fp.orders.length,
    carts: fp.carts.length,
    messages: fp.messages.length,
    runs: fp.runIds.length,
    runs_cancelled: cancelled,
    deliveries: fp.deliveries.length,
    exports: exportsDeleted,
    disk_settled: false,
  }
}

/** Privacy exports (customers/data_request) of the customer: copies of their data, deleted. */
async function deleteExports(trx: Transaction<Database>, storeId: string, id: CustomerIdentity, fp: Footprint): Promise<number> {
  const refs = uniq([id.ref, ...fp.externalIds, ...fp.emails].filter((r) => r !== ''))
  const probes = uniq([...fp.externalIds, ...fp.emails, ...fp.orders.map((o) => o.id)])
  const candidates = await trx
    .selectFrom('privacy_exports')
    .select(['id', 'customer_key', 'customer_ref', 'data'])
    .where('store_id', '=', storeId)
    .where((eb) =>
      eb.or([
        eb('customer_key', 'in', some(fp.keys)),
        eb('customer_ref', 'in', some(refs)),
        ...probes.map((p) => eb(sql<string>`lower(data)`, 'like', `%${p.toLowerCase()}%`)),
      ]),
    )
    .execute()
  const keys = new Set(fp.keys)
  const ids = new Set(fp.externalIds)
  const emails = new Set(fp.emails)
  const deliveries = new Set(fp.deliveries.map((d) => d.id))
  const orders = new Set(fp.orders.map((o) => o.id))
  // an export is theirs when its subject is (by key or ref), or when it holds their profile, orders or deliveries (not a mere mention)
  const theirs = candidates.filter((e) => {
    if ((e.customer_key && keys.has(e.customer_key)) || refs.includes(e.customer_ref)) return true
    const data = safeJson(e.data)
    const list = (name: string) => (isPlainObject(data) && Array.isArray(data[name]) ? (data[name] as unknown[]).filter(isPlainObject) : [])
    return (
      list('profiles').some((p) => keys.has(String(p.key)) || ids.has(String(p.id)) || (typeof p.email === 'string' && emails.has(p.email.toLowerCase()))) ||
      list('orders').some((o) => orders.has(String(o.id))) ||
      list('deliveries').some((d) => deliveries.has(String(d.id)))
    )
  })
  if (theirs.length === 0) return 0
  await trx
    .deleteFrom('privacy_exports')
    .where('store_id', '=', storeId)
    .where(
      'id',
      'in',
      theirs.map((e) => e.id),
    )
    .execute()
  return theirs.length
}

/** A message keeps its counts and status (aggregates); its address and content go. */
async function eraseMessage(trx: Transaction<Database>, storeId: string, m: Pick<Selectable<MessagesTable>, 'id' | 'error'>, needles: Needles): Promise<void> {
  await trx
    .updateTable('messages')
    .set({ to_addr: REDACTED, subject: null, html: null, text: null, headers: '{}', error: m.error === null ? null : needles.redact(m.error) })
    .where('store_id', '=', storeId)
    .where('id', '=', m.id)
    .execute()
}

/**
 * Scrubs a run and its steps; an active run is cancelled (written as every ended run is,
 * engine/run-status.ts) and its waits dropped. Returns whether it was cancelled.
 */
async function eraseRun(trx: Transaction<Database>, storeId: string, runId: string, needles: Needles, at: string): Promise<boolean> {
  const r = await trx.selectFrom('runs').select(['status', 'state']).where('store_id', '=', storeId).where('id', '=', runId).executeTakeFirstOrThrow()
  const active = isActiveStatus(r.status)
  await trx
    .updateTable('runs')
    .set({
      customer_email: null,
      state: scrubJson(r.state, needles),
      ...(active ? { ...endedColumns('cancelled', at), lease_until: null } : {}),
      // a worker holding an older copy of the run must lose its versioned write (engine invariant 8)
      version: sql`version + 1`,
      updated_at: at,
    })
    .where('store_id', '=', storeId)
    .where('id', '=', runId)
    .execute()
  if (active) await trx.deleteFrom('correlations').where('store_id', '=', storeId).where('run_id', '=', runId).execute()
  const steps = await trx.selectFrom('run_steps').select(['step_key', 'input', 'output', 'error']).where('run_id', '=', runId).execute()
  for (const s of steps) {
    const next = { input: scrubJson(s.input, needles), output: scrubJson(s.output, needles), error: s.error === null ? null : needles.redact(s.error) }
    if (next.input === s.input && next.output === s.output && next.error === s.error) continue
    await trx.updateTable('run_steps').set(next).where('run_id', '=', runId).where('step_key', '=', s.step_key).execute()
  }
  return active
}

async function eraseDelivery(
  trx: Transaction<Database>,
  storeId: string,
  d: Pick<Selectable<WebhookDeliveriesTable>, 'id' | 'body' | 'headers'>,
  needles: Needles,
): Promise<void> {
  const body = scrubPayload(d.body, needles)
  const headers = scrubJson(d.headers, needles)
  if (body !== d.body || headers !== d.headers)
    await trx.updateTable('webhook_deliveries').set({ body, headers }).where('store_id', '=', storeId).where('id', '=', d.id).execute()
}

/** Rows read at a time by the store-wide pass of shop/redact. */
const PAGE = 500

/**
 * shop/redact: every customer's personal data in this one store, the rows no customer links
 * (guest orders, their runs), every delivery and message of the store, its privacy exports; ends
 * all active runs. Nothing outside the store is read or written.
 */
export async function eraseStore(
  db: Kysely<Database>,
  storeId: string,
  now: Date,
  dialect: DialectName,
): Promise<{ customers: number; disk_settled: boolean }> {
  const customers = await db.selectFrom('customers').select('key').where('store_id', '=', storeId).execute()
  // each customer by their footprint (deliveries follow below, all of them)
  for (const c of customers) await db.transaction().execute((trx) => eraseFootprint(trx, storeId, { ref: c.key }, now, { deliveries: false }))
  await db.transaction().execute(async (trx) => {
    const at = now.toISOString()
    // rows no customer links: each scrubbed with the personal strings it carries itself
    let seq = -1
    for (;;) {
      const rows = await trx
        .selectFrom('events')
        .select(['seq', 'data'])
        .where('store_id', '=', storeId)
        .where('customer_key', 'is', null)
        .where('seq', '>', seq)
        .orderBy('seq')
        .limit(PAGE)
        .execute()
      if (rows.length === 0) break
      for (const row of rows) {
        const data = scrubJson(row.data, ownNeedles(safeJson(row.data)))
        if (data !== row.data) await trx.updateTable('events').set({ data }).where('store_id', '=', storeId).where('seq', '=', row.seq).execute()
      }
      seq = Number(rows[rows.length - 1]!.seq)
    }
    for (const table of ['orders', 'carts'] as const) {
      let id = ''
      for (;;) {
        const rows = await trx
          .selectFrom(table)
          .select(['id', 'data'])
          .where('store_id', '=', storeId)
          .where('customer_key', 'is', null)
          .where('id', '>', id)
          .orderBy('id')
          .limit(PAGE)
          .execute()
        if (rows.length === 0) break
        for (const row of rows) {
          const data = scrubJson(row.data, ownNeedles(safeJson(row.data)))
          if (data !== row.data) await trx.updateTable(table).set({ data }).where('store_id', '=', storeId).where('id', '=', row.id).execute()
        }
        id = rows[rows.length - 1]!.id
      }
    }
    let runId = ''
    for (;;) {
      const rows = await trx
        .selectFrom('runs')
        .select(['id', 'trigger_event_seq'])
        .where('store_id', '=', storeId)
        .where('customer_key', 'is', null)
        .where('id', '>', runId)
        .orderBy('id')
        .limit(PAGE)
        .execute()
      if (rows.length === 0) break
      for (const row of rows) {
        const trigger = await trx
          .selectFrom('events')
          .select('data')
          .where('store_id', '=', storeId)
          .where('seq', '=', row.trigger_event_seq)
          .executeTakeFirst()
        await eraseRun(trx, storeId, row.id, ownNeedles(trigger ? safeJson(trigger.data) : null), at)
      }
      runId = rows[rows.length - 1]!.id
    }
    let deliveryId = ''
    for (;;) {
      const rows = await trx
        .selectFrom('webhook_deliveries')
        .select(['id', 'body', 'headers'])
        .where('store_id', '=', storeId)
        .where('id', '>', deliveryId)
        .orderBy('id')
        .limit(PAGE)
        .execute()
      if (rows.length === 0) break
      for (const row of rows) await eraseDelivery(trx, storeId, row, ownNeedles(parsePayload(row.body)))
      deliveryId = rows[rows.length - 1]!.id
    }
    // messages to no customer (a `to` the workflow named) go too
    await trx
      .updateTable('messages')
      .set({ to_addr: REDACTED, subject: null, html: null, text: null, headers: '{}', error: null })
      .where('store_id', '=', storeId)
      .execute()
    await trx.deleteFrom('privacy_exports').where('store_id', '=', storeId).execute()
  })
  const disk_settled = await settleErasure(db, dialect)
  return { customers: customers.length, disk_settled }
}

function ownNeedles(value: unknown): Needles {
  const n = new Needles()
  n.collect(value)
  return n
}
