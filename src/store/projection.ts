import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { CanonicalEvent } from '../contracts/events.ts'
import { addMoney, moneyToNumber } from '../lib/money.ts'
import { newId } from '../lib/ids.ts'
import { applyCommerceToView, mergeCommerce } from './commerce-projection.ts'
import { recordMerge } from './customer-aliases.ts'
import { invoiceCustomer, markInvoicePaid } from './invoices.repo.ts'
import { upsertSubscription } from './subscriptions-view.ts'
import { applyShipment } from './shipments.repo.ts'
import { formCustomer } from './form-customer.ts'
import { applyEngagement, marketingSentSince, mergeEngagement } from './engagement.ts'
import { attributeOrderChange } from './attributions.repo.ts'
import { recordMessageTouch } from './outbox.repo.ts'
import { addStock, afterOrderProjected } from './order-commerce.ts'
import { applyReceiptToStock } from './purchasing.repo.ts'
import { recordOrderDemand } from './demand.repo.ts'
import { clampStock } from './stock-range.ts'
import { segmentEventCustomer } from './segments.repo.ts'
import type { CustomersTable, Database } from './tables.ts'
import { moveWorkflowEntries, refreshCustomerEntries, type CustomerOrderFacts } from './workflow-entries.repo.ts'
import type { WrittenOrder } from './written-order.ts'
import type { ViewSkips } from '../engine/ports.ts'

type Db = Kysely<Database> | Transaction<Database>
type Obj = Record<string, unknown>

/**
 * The store's view, updated from events in the transaction that stores them. Every rule here
 * must give the same view whatever order events arrive in, and whether they arrive once or twice
 * (duplicates never reach this code: the event id is unique). Newer-wins fields compare
 * occurred_at; counters are recomputed from rows, never incremented. Consent is two newest-wins
 * registers (the shop's flag, storeflow's explicit newsletter changes) combined by one rule; an
 * event carrying a customer's id and email joins any email-only row into the id's row; the
 * fulfilment status is ranked (delivered > fulfilled) and kept aside until its order arrives.
 */
export async function applyToView(db: Db, event: CanonicalEvent, skip?: ViewSkips): Promise<string | null> {
  const { type, data, store: storeId, occurred_at: at } = event
  // derived from the view itself: names its customer, changes nothing (store/segments.repo.ts)
  if (type === 'segment.entered' || type === 'segment.exited') return segmentEventCustomer(db, storeId, data)
  const customerData = customerOf(event)
  // a payment names its invoice; the invoice knows its customer (so their overdue reminders end)
  if (type === 'invoice.paid' && !customerData) {
    await markInvoicePaid(db, storeId, { id: str(data.invoice_id), number: str(data.number) }, { amount: str(data.amount), at: str(data.paid_at) ?? at })
    return invoiceCustomer(db, storeId, { id: str(data.invoice_id), number: str(data.number) })
  }
  // storeflow's own events name their customer; they say nothing new about them (their time is
  // storeflow's, and would make the shop's later-arriving changes look older than they are)
  const customerKey = customerData
    ? DERIVED_EVENT_TYPES.has(type)
      ? await findCustomer(db, storeId, customerData)
      : // a form is posted by anyone (no key): it fills in what a known customer lacks, never overwrites
        await upsertCustomer(db, storeId, customerData, at, { fillOnly: type === 'form.submitted' })
    : null

  if ((type === 'newsletter.subscribed' || type === 'newsletter.unsubscribed') && customerKey) {
    await applyNewsletter(db, customerKey, type === 'newsletter.subscribed', at)
  }
  if ((type === 'message.opened' || type === 'message.clicked') && customerKey) await applyEngagement(db, customerKey, type, at)
  if (!skip?.attribution) await recordMessageTouch(db, storeId, type, data, at)

  if (type.startsWith('order.') && type !== 'order.fulfilled' && type !== 'order.delivered') {
    const written = await upsertOrder(db, storeId, data, at, type, customerKey, skip?.attribution === true, skip?.analytics === true)
    await applyCommerceToView(db, event)
    await afterOrderProjected(db, storeId, String(data.id), (event as { historical?: boolean }).historical === true, skip?.inventory === true, written)
    if (!skip?.demand) await recordOrderDemand(db, storeId, String(data.id), written)
  } else if ((type === 'order.fulfilled' || type === 'order.delivered') && data.order_id) {
    const status = type === 'order.delivered' ? 'delivered' : 'fulfilled'
    const when = type === 'order.delivered' ? (str(data.delivered_at) ?? at) : at
    await applyFulfilment(db, storeId, String(data.order_id), { status, at: when })
  } else if (type === 'cart.updated' || type === 'checkout.started' || type === 'cart.abandoned') {
    await upsertCart(db, storeId, data, at, customerKey)
  } else if (type === 'product.updated') {
    await upsertProduct(db, storeId, data, at)
  } else if (type === 'inventory.updated') {
    await upsertInventory(db, storeId, data, at)
  } else if (type === 'purchase_order.received') {
    await applyReceiptToStock(db, storeId, data, addStock)
  } else if (type.startsWith('subscription.') && type !== 'subscription.renewal_due' && data.id) {
    await upsertSubscription(db, storeId, data, at, customerKey)
  } else if (type === 'shipment.updated' && data.order_id) {
    await applyShipment(db, storeId, data, new Date(at).toISOString())
  } else if (type === 'invoice.paid') {
    await markInvoicePaid(db, storeId, { id: str(data.invoice_id), number: str(data.number) }, { amount: str(data.amount), at: str(data.paid_at) ?? at })
  }
  // a shipment or fulfilment that names no customer (a carrier's tracking update never does) is
  // about its order's buyer, once the order is known: its runs, goals and waits are theirs
  if (!customerKey && ORDER_SHIPMENT_TYPES.has(type) && data.order_id) return orderCustomer(db, storeId, String(data.order_id))
  return customerKey
}

const ORDER_SHIPMENT_TYPES = new Set(['order.fulfilled', 'order.delivered', 'shipment.updated'])

async function orderCustomer(db: Db, storeId: string, orderId: string): Promise<string | null> {
  const row = await db.selectFrom('orders').select('customer_key').where('store_id', '=', storeId).where('id', '=', orderId).executeTakeFirst()
  return row?.customer_key ?? null
}

/** The customer object an event carries (upserted into the view unless the event is a derived one); read by view-writes.ts too. */
export function customerOf(event: CanonicalEvent): Obj | null {
  const { type, data } = event
  if (type.startsWith('customer.') && (data.id || data.email) && !data.customer) return data
  if (type === 'form.submitted') return formCustomer(data.fields)
  const customer = data.customer as Obj | null | undefined
  if (customer && (customer.id || customer.email)) return customer
  if (typeof data.email === 'string' && data.email) return { email: data.email }
  return null
}

/** The event types storeflow derives itself (docs/events.md, Derived events). */
export const DERIVED_EVENT_TYPES: ReadonlySet<string> = new Set([
  'cart.abandoned',
  'customer.inactive',
  'customer.birthday',
  'inventory.low',
  'inventory.out_of_stock',
  'inventory.back_in_stock',
  'subscription.renewal_due',
  'invoice.overdue',
  'segment.entered',
  'segment.exited',
])

/** The key of the customer an event names (by the shop's id, else email), without changing them; null when unknown. */
async function findCustomer(db: Db, storeId: string, c: Obj): Promise<string | null> {
  const externalId = c.id ? String(c.id) : null
  const email = typeof c.email === 'string' && c.email ? c.email.toLowerCase() : null
  const byId = externalId
    ? await db.selectFrom('customers').select('key').where('store_id', '=', storeId).where('external_id', '=', externalId).executeTakeFirst()
    : undefined
  if (byId) return byId.key
  if (!email) return null
  const byEmail = await db
    .selectFrom('customers')
    .select('key')
    .where('store_id', '=', storeId)
    .where('email', '=', email)
    .orderBy('created_at')
    .orderBy('key')
    .executeTakeFirst()
  return byEmail?.key ?? null
}

const PROFILE_FIELDS = ['email', 'phone', 'first_name', 'last_name', 'birthday', 'timezone'] as const

type CustomerRow = Selectable<CustomersTable>

/**
 * `fillOnly`: for what strangers may post (a form). On a customer who exists, a profile field is
 * only filled where it is empty, and consent is only taken when nothing was ever said about it (no
 * shop flag, no explicit subscribe or unsubscribe): otherwise anyone knowing an email could change
 * that customer's phone, name or birthday, or opt them back in after they unsubscribed.
 */
async function upsertCustomer(db: Db, storeId: string, c: Obj, at: string, options: { fillOnly?: boolean } = {}): Promise<string> {
  const externalId = c.id ? String(c.id) : null
  const email = typeof c.email === 'string' && c.email ? c.email.toLowerCase() : null
  let row: CustomerRow | undefined = externalId
    ? await db.selectFrom('customers').selectAll().where('store_id', '=', storeId).where('external_id', '=', externalId).executeTakeFirst()
    : undefined
  // a customer known only by email is the same customer once an event brings their id: an
  // event carrying both joins every email-only row to the id's row, whichever came first
  // (once the id's row carries this email, no email-only row for it can appear: an email-only
  // event finds the id's row by its email; so the look is skipped, saving a query per event)
  // (read by email alone, the id checked here: with `external_id is null` in the query SQLite's
  // planner took the id index, reading every email-only customer of the store)
  const emailOnly =
    externalId && email && row?.email !== email
      ? (
          await db.selectFrom('customers').selectAll().where('store_id', '=', storeId).where('email', '=', email).orderBy('created_at').orderBy('key').execute()
        ).filter((c) => c.external_id === null)
      : []
  if (!row && externalId) row = emailOnly.shift()
  else if (!row && email) {
    row = await db
      .selectFrom('customers')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('email', '=', email)
      .orderBy('created_at')
      .orderBy('key')
      .executeTakeFirst()
  }
  if (row) for (const other of emailOnly) if (other.key !== row.key) row = await mergeCustomers(db, storeId, row, other)

  const incomingTags = normaliseTags(c.tags)
  const createdAt = str(c.created_at) ?? at
  const shopConsent = typeof c.accepts_marketing === 'boolean' ? (c.accepts_marketing ? 1 : 0) : null
  if (!row) {
    const key = newId('cus_')
    const consent = {
      unsubscribed_at: null,
      consent_at: null,
      shop_accepts_marketing: shopConsent,
      shop_accepts_marketing_at: shopConsent === null ? null : at,
    }
    await db
      .insertInto('customers')
      .values({
        key,
        store_id: storeId,
        external_id: externalId,
        email,
        phone: str(c.phone),
        first_name: str(c.first_name),
        last_name: str(c.last_name),
        accepts_marketing: combinedConsent({ ...consent, attributes: '{}' }),
        ...consent,
        birthday: str(c.birthday),
        timezone: str(c.timezone),
        tags: JSON.stringify(incomingTags),
        orders_count: 0,
        total_spent: '0.00',
        last_order_at: null,
        attributes: JSON.stringify(extraFields(c)),
        profile_at: at,
        created_at: createdAt,
        updated_at: at,
      })
      .execute()
    return key
  }
  const patch: Partial<CustomerRow> = {}
  if (externalId && !row.external_id) patch.external_id = externalId
  const newer = !row.profile_at || at >= row.profile_at
  if (options.fillOnly) {
    for (const field of PROFILE_FIELDS) {
      const value = field === 'email' ? email : str(c[field])
      if (value !== null && row[field] === null) patch[field] = value
    }
  } else if (newer) {
    for (const field of PROFILE_FIELDS) {
      const value = field === 'email' ? email : str(c[field])
      if (value !== null && value !== row[field]) patch[field] = value
    }
    patch.profile_at = at
    const attrs = { ...(JSON.parse(row.attributes) as Obj), ...extraFields(c) }
    patch.attributes = JSON.stringify(attrs)
  } else if (!row.email && email) {
    patch.email = email
  }
  // the shop's consent flag is its own newest-wins register (ties: false wins), apart from
  // storeflow's explicit newsletter register; combinedConsent says how the two make one flag
  const consentNeverSaid = row.shop_accepts_marketing_at === null && row.consent_at === null
  if (shopConsent !== null && (!options.fillOnly || consentNeverSaid) && newerShopConsent(shopConsent, at, row) && !beforeErasure(row, at)) {
    patch.shop_accepts_marketing = shopConsent
    patch.shop_accepts_marketing_at = at
    patch.accepts_marketing = combinedConsent({ ...row, ...patch })
  }
  // created_at is the earliest any event says: the same whatever order they arrive in
  if (createdAt < row.created_at) patch.created_at = createdAt
  if (incomingTags.length > 0) {
    const merged = [...new Set([...(JSON.parse(row.tags) as string[]), ...incomingTags])]
    patch.tags = JSON.stringify(merged)
  }
  if (Object.keys(patch).length > 0) {
    patch.updated_at = at > row.updated_at ? at : row.updated_at
    await db.updateTable('customers').set(patch).where('key', '=', row.key).execute()
  }
  return row.key
}

type ConsentFields = Pick<CustomerRow, 'unsubscribed_at' | 'consent_at' | 'shop_accepts_marketing' | 'shop_accepts_marketing_at' | 'attributes'>

/**
 * accepts_marketing from its two registers. An unsubscribe recorded by storeflow holds until a
 * later explicit newsletter.subscribed (docs/workflows.md, Guardrails): the shop's accepts_marketing, stale or
 * not, does not undo it. After an explicit subscribe, the shop's flag counts only when it was
 * said later. With no explicit change, the shop's flag is the answer. Registers older than an
 * erasure (privacy.ts) are forgotten.
 */
function combinedConsent(row: ConsentFields): number {
  const erasedAt = erasedAtOf(row)
  const explicitAt = row.consent_at && !(erasedAt && row.consent_at < erasedAt) ? row.consent_at : null
  const shopAt = row.shop_accepts_marketing_at && !(erasedAt && row.shop_accepts_marketing_at < erasedAt) ? row.shop_accepts_marketing_at : null
  if (explicitAt && row.unsubscribed_at) return 0
  if (explicitAt && !(shopAt && shopAt > explicitAt)) return 1
  return shopAt ? (row.shop_accepts_marketing ?? 0) : 0
}

function newerShopConsent(value: number, at: string, row: ConsentFields): boolean {
  const current = row.shop_accepts_marketing_at
  return !current || at > current || (at === current && value === 0 && row.shop_accepts_marketing !== 0)
}

function erasedAtOf(row: Pick<CustomerRow, 'attributes'>): string | null {
  const erased = (JSON.parse(row.attributes) as Obj).erased_at
  return typeof erased === 'string' ? erased : null
}

function beforeErasure(row: Pick<CustomerRow, 'attributes'>, at: string): boolean {
  const erasedAt = erasedAtOf(row)
  return erasedAt !== null && at < erasedAt
}

/**
 * newsletter.subscribed / unsubscribed: the newest explicit change wins, an older one arriving
 * late is ignored; at the same time the unsubscribe wins, so the outcome does not depend on
 * which of the two arrived first.
 */
async function applyNewsletter(db: Db, customerKey: string, subscribe: boolean, at: string): Promise<void> {
  const row = await db.selectFrom('customers').selectAll().where('key', '=', customerKey).executeTakeFirstOrThrow()
  if (beforeErasure(row, at)) return
  if (row.consent_at && (subscribe ? at <= row.consent_at : at < row.consent_at)) return
  const next = { ...row, consent_at: at, unsubscribed_at: subscribe ? null : at }
  await db
    .updateTable('customers')
    .set({
      consent_at: next.consent_at,
      unsubscribed_at: next.unsubscribed_at,
      accepts_marketing: combinedConsent(next),
      updated_at: at > row.updated_at ? at : row.updated_at,
    })
    .where('key', '=', customerKey)
    .execute()
}

/**
 * Joins an email-only customer (`from`) into the customer with the shop's id (`into`): everything
 * that points at `from` is moved, the profile is combined so that the result does not depend on
 * which row was made first, and `from` is deleted, its key kept as an alias of `into` (a key
 * already handed out, such as the one in a mailed unsubscribe link, still finds the customer).
 * Returns the merged row.
 */
async function mergeCustomers(db: Db, storeId: string, into: CustomerRow, from: CustomerRow): Promise<CustomerRow> {
  const moveKey = async (table: 'orders' | 'carts' | 'events' | 'messages') => {
    await db.updateTable(table).set({ customer_key: into.key }).where('store_id', '=', storeId).where('customer_key', '=', from.key).execute()
  }
  await moveKey('orders')
  await moveKey('carts')
  await moveKey('events')
  await moveKey('messages')
  await db
    .updateTable('runs')
    .set({
      customer_key: into.key,
      customer_id: into.external_id,
      customer_email: sql<string | null>`coalesce(customer_email, ${into.email ?? from.email})`,
      // a worker holding one of these runs must re-read it (engine invariant 8), or it would go on
      // with the merged-away customer key
      version: sql<number>`version + 1`,
    })
    .where('store_id', '=', storeId)
    .where('customer_key', '=', from.key)
    .execute()
  await db.updateTable('correlations').set({ corr_key: into.key }).where('store_id', '=', storeId).where('corr_key', '=', from.key).execute()
  await moveWorkflowEntries(db, storeId, from.key, into.key)
  await db.updateTable('privacy_exports').set({ customer_key: into.key }).where('store_id', '=', storeId).where('customer_key', '=', from.key).execute()

  // profile: the row whose profile is newer goes first, the other fills its gaps
  const fromNewer = Boolean(from.profile_at && (!into.profile_at || from.profile_at > into.profile_at))
  const [first, second] = fromNewer ? [from, into] : [into, from]
  const profile: Partial<CustomerRow> = {}
  for (const field of PROFILE_FIELDS) profile[field] = first[field] ?? second[field]
  // consent: each register from whichever row holds the newer one, with the same ties as applyNewsletter/newerShopConsent
  const explicit = !from.consent_at
    ? into
    : !into.consent_at
      ? from
      : from.consent_at > into.consent_at || (from.consent_at === into.consent_at && from.unsubscribed_at)
        ? from
        : into
  const shop = !from.shop_accepts_marketing_at
    ? into
    : !into.shop_accepts_marketing_at
      ? from
      : from.shop_accepts_marketing_at > into.shop_accepts_marketing_at ||
          (from.shop_accepts_marketing_at === into.shop_accepts_marketing_at && from.shop_accepts_marketing === 0)
        ? from
        : into
  const merged: CustomerRow = {
    ...into,
    ...profile,
    consent_at: explicit.consent_at,
    unsubscribed_at: explicit.unsubscribed_at,
    shop_accepts_marketing: shop.shop_accepts_marketing,
    shop_accepts_marketing_at: shop.shop_accepts_marketing_at,
    tags: JSON.stringify([...new Set([...(JSON.parse(into.tags) as string[]), ...(JSON.parse(from.tags) as string[])])]),
    attributes: JSON.stringify({ ...(JSON.parse(second.attributes) as Obj), ...(JSON.parse(first.attributes) as Obj) }),
    profile_at: first.profile_at ?? second.profile_at,
    ...mergeEngagement(into, from),
    // ISO-8601 text compares in time order
    created_at: from.created_at < into.created_at ? from.created_at : into.created_at,
    updated_at: from.updated_at > into.updated_at ? from.updated_at : into.updated_at,
  }
  merged.accepts_marketing = combinedConsent(merged)
  await db.deleteFrom('customers').where('key', '=', from.key).execute()
  await recordMerge(db, storeId, from.key, into.key, merged.updated_at)
  const { key, store_id: _s, ...values } = merged
  await db.updateTable('customers').set(values).where('key', '=', key).execute()
  await recomputeCustomerTotals(db, storeId, key)
  await mergeCommerce(db, storeId, from.key, key)
  return db.selectFrom('customers').selectAll().where('key', '=', key).executeTakeFirstOrThrow()
}

async function upsertOrder(
  db: Db,
  storeId: string,
  data: Obj,
  at: string,
  type: string,
  customerKey: string | null,
  skipAttribution = false,
  skipEntries = false,
): Promise<WrittenOrder> {
  const id = String(data.id)
  const existing = await db.selectFrom('orders').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  const newer = !existing || at >= existing.updated_at
  const total = newer ? String(data.total_price ?? existing?.total_price ?? '0') : existing.total_price
  const cancelled = type === 'order.cancelled' || existing?.cancelled === 1 ? 1 : 0
  const refunded =
    type === 'order.refunded'
      ? addMoney(existing?.refunded ?? '0', String(data.refund_amount ?? data.total_price ?? existing?.total_price ?? '0'))
      : (existing?.refunded ?? '0.00')
  // counted from the stored (newest) total, not the arriving event's: the same in any order
  const counted = cancelled ? '0.00' : addMoney(total, `-${refunded}`.replace('--', ''))
  const countedAmount = moneyToNumber(counted) < 0 ? '0.00' : counted
  const snapshot = newer ? data : (JSON.parse(existing.data) as Obj)
  let fulfilment: Fulfilment = { status: existing?.fulfillment_status ?? null, at: existing?.fulfillment_at ?? null }
  const fromEvent = { status: str(data.fulfillment_status), at }
  if (betterFulfilment(fromEvent, fulfilment)) fulfilment = fromEvent
  if (!existing) {
    // order.fulfilled / order.delivered that came before the order itself
    const pending = await db
      .selectFrom('pending_fulfilments')
      .select(['status', 'at'])
      .where('store_id', '=', storeId)
      .where('order_id', '=', id)
      .executeTakeFirst()
    if (pending) {
      if (betterFulfilment(pending, fulfilment)) fulfilment = pending
      await db.deleteFrom('pending_fulfilments').where('store_id', '=', storeId).where('order_id', '=', id).execute()
    }
  }
  const values = {
    customer_key: customerKey ?? existing?.customer_key ?? null,
    number: snapshot.number != null ? String(snapshot.number) : (existing?.number ?? null),
    currency: String(snapshot.currency ?? existing?.currency ?? 'USD'),
    total_price: total,
    counted_amount: countedAmount,
    refunded,
    cancelled,
    financial_status: str(snapshot.financial_status) ?? existing?.financial_status ?? null,
    fulfillment_status: fulfilment.status,
    fulfillment_at: fulfilment.at,
    checkout_id: snapshot.checkout_id != null ? String(snapshot.checkout_id) : (existing?.checkout_id ?? null),
    data: JSON.stringify(snapshot),
    updated_at: newer ? at : existing.updated_at,
  }
  // created_at is the earliest any of the order's events says (its own created_at, else when it happened)
  const createdAt = str(data.created_at) ?? at
  const written: WrittenOrder = {
    ...values,
    created_at: existing && existing.created_at <= createdAt ? existing.created_at : createdAt,
    risk: existing?.risk ?? null,
    stock_state: existing?.stock_state ?? 0,
    stock_lines: existing?.stock_lines ?? null,
    snapshot,
  }
  if (existing) {
    await db
      .updateTable('orders')
      .set({ ...values, ...(createdAt < existing.created_at ? { created_at: createdAt } : {}) })
      .where('store_id', '=', storeId)
      .where('id', '=', id)
      .execute()
  } else {
    await db
      .insertInto('orders')
      .values({ store_id: storeId, id, created_at: createdAt, ...values })
      .execute()
  }
  if (values.checkout_id) {
    await db.updateTable('carts').set({ converted: 1 }).where('store_id', '=', storeId).where('id', '=', values.checkout_id).execute()
  }
  // each customer whose orders changed: totals, then their workflow entries from the same read of their orders
  for (const key of new Set([values.customer_key, existing?.customer_key ?? null])) {
    if (!key) continue
    const orders = await recomputeCustomerTotals(db, storeId, key)
    if (!skipEntries) await refreshCustomerEntries(db, storeId, key, undefined, orders)
    // the customer's first order: none of theirs created before it (read here, not again for the risk score)
    if (key === written.customer_key) written.firstOrder = !orders.some((o) => o.id !== id && o.created_at < written.created_at)
  }
  if (!skipAttribution) await attributeOrderChange(db, storeId, id, !existing, at, written)
  return written
}

interface Fulfilment {
  status: string | null
  at: string | null
}

/** delivered > fulfilled > anything else the shop says (partial, unfulfilled, …) */
const FULFILMENT_RANK: Record<string, number> = { fulfilled: 1, delivered: 2 }

function fulfilmentRank(status: string | null): number {
  return status ? (FULFILMENT_RANK[status] ?? 0) : 0
}

/**
 * Whether `candidate` replaces `current` as the order's fulfilment status. A higher rank wins and
 * is never undone (a late order.fulfilled does not take back delivered); within fulfilled or
 * delivered the earliest time wins (when it first happened); the shop's other statuses follow the
 * newest order snapshot. Max-like, so the same in any order.
 */
function betterFulfilment(candidate: Fulfilment, current: Fulfilment): boolean {
  if (!candidate.status) return false
  if (!current.status) return true
  const rank = fulfilmentRank(candidate.status)
  const currentRank = fulfilmentRank(current.status)
  if (rank !== currentRank) return rank > currentRank
  if (current.at === null) return candidate.at !== null
  if (candidate.at === null) return false
  if (rank > 0) return candidate.at < current.at
  return candidate.at > current.at || (candidate.at === current.at && candidate.status > current.status)
}

/** order.fulfilled / order.delivered: onto the order, or kept until the order's first order.* event */
async function applyFulfilment(db: Db, storeId: string, orderId: string, incoming: Fulfilment): Promise<void> {
  const order = await db
    .selectFrom('orders')
    .select(['fulfillment_status', 'fulfillment_at'])
    .where('store_id', '=', storeId)
    .where('id', '=', orderId)
    .executeTakeFirst()
  if (order) {
    if (betterFulfilment(incoming, { status: order.fulfillment_status, at: order.fulfillment_at })) {
      await db
        .updateTable('orders')
        .set({ fulfillment_status: incoming.status, fulfillment_at: incoming.at })
        .where('store_id', '=', storeId)
        .where('id', '=', orderId)
        .execute()
    }
    return
  }
  const pending = await db
    .selectFrom('pending_fulfilments')
    .select(['status', 'at'])
    .where('store_id', '=', storeId)
    .where('order_id', '=', orderId)
    .executeTakeFirst()
  if (!pending) {
    await db.insertInto('pending_fulfilments').values({ store_id: storeId, order_id: orderId, status: incoming.status!, at: incoming.at! }).execute()
  } else if (betterFulfilment(incoming, pending)) {
    await db
      .updateTable('pending_fulfilments')
      .set({ status: incoming.status!, at: incoming.at! })
      .where('store_id', '=', storeId)
      .where('order_id', '=', orderId)
      .execute()
  }
}

/** orders_count, total_spent and last_order_at from the customer's order rows: exact, order-independent */
/** The customer's orders_count, total_spent and last_order_at from their orders; returns the orders read. */
async function recomputeCustomerTotals(db: Db, storeId: string, customerKey: string): Promise<Array<CustomerOrderFacts & { id: string }>> {
  // store_id first: the orders_customer_idx index starts with it
  const orders = await db
    .selectFrom('orders')
    .select(['id', 'customer_key', 'counted_amount', 'cancelled', 'created_at'])
    .where('store_id', '=', storeId)
    .where('customer_key', '=', customerKey)
    .execute()
  let total = '0.00'
  let count = 0
  let last: string | null = null
  for (const o of orders) {
    if (o.cancelled) continue
    count += 1
    total = addMoney(total, o.counted_amount)
    if (!last || o.created_at > last) last = o.created_at
  }
  await db
    .updateTable('customers')
    .set({ orders_count: count, total_spent: total, last_order_at: last, marketing_sent_since_last_order: marketingSentSince(storeId, last) })
    .where('key', '=', customerKey)
    .execute()
  return orders
}

async function upsertCart(db: Db, storeId: string, data: Obj, at: string, customerKey: string | null): Promise<void> {
  const id = String(data.id)
  const existing = await db.selectFrom('carts').select(['updated_at', 'customer_key']).where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  const updatedAt = str(data.updated_at) ?? at
  if (existing && existing.updated_at > updatedAt) return
  const customer = data.customer as Obj | null | undefined
  const values = {
    customer_key: customerKey ?? existing?.customer_key ?? null,
    email: emailOf(data.email) ?? emailOf(customer?.email) ?? (customerKey ? await customerEmail(db, customerKey) : null),
    currency: String(data.currency ?? 'USD'),
    total_price: String(data.total_price ?? '0'),
    data: JSON.stringify(data),
    updated_at: updatedAt,
  }
  if (existing) await db.updateTable('carts').set(values).where('store_id', '=', storeId).where('id', '=', id).execute()
  else
    await db
      .insertInto('carts')
      .values({ store_id: storeId, id, converted: 0, ...values })
      .execute()
}

function emailOf(value: unknown): string | null {
  return typeof value === 'string' && value ? value.toLowerCase() : null
}

async function customerEmail(db: Db, customerKey: string): Promise<string | null> {
  const row = await db.selectFrom('customers').select('email').where('key', '=', customerKey).executeTakeFirst()
  return row?.email ?? null
}

async function upsertProduct(db: Db, storeId: string, data: Obj, at: string): Promise<void> {
  const id = String(data.id)
  const existing = await db.selectFrom('products').select('updated_at').where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (existing && existing.updated_at > at) return
  const values = { title: String(data.title ?? ''), status: String(data.status ?? 'active'), data: JSON.stringify(data), updated_at: at }
  if (existing) await db.updateTable('products').set(values).where('store_id', '=', storeId).where('id', '=', id).execute()
  else
    await db
      .insertInto('products')
      .values({ store_id: storeId, id, ...values })
      .execute()
  for (const v of (data.variants ?? []) as Obj[]) {
    const variant = {
      product_id: id,
      sku: str(v.sku),
      price: String(v.price ?? '0'),
      inventory_quantity: typeof v.inventory_quantity === 'number' ? v.inventory_quantity : null,
      // the shop's "was" price (update_product sets it too); absent: none
      compare_at_price: str(v.compare_at_price),
    }
    const vid = String(v.id)
    const found = await db.selectFrom('variants').select('id').where('store_id', '=', storeId).where('id', '=', vid).executeTakeFirst()
    if (found) await db.updateTable('variants').set(variant).where('store_id', '=', storeId).where('id', '=', vid).execute()
    else
      await db
        .insertInto('variants')
        .values({ store_id: storeId, id: vid, ...variant })
        .execute()
  }
}

async function upsertInventory(db: Db, storeId: string, data: Obj, at: string): Promise<void> {
  const sku = String(data.sku)
  const location = data.location_id != null ? String(data.location_id) : 'default'
  // lock order: the SKU's variants, then its levels, as orders' stock moves (order-commerce.ts) and
  // adjust_inventory take them; the other order could deadlock the two on PostgreSQL
  await db
    .updateTable('variants')
    .set({ inventory_quantity: sql<number | null>`inventory_quantity` })
    .where('store_id', '=', storeId)
    .where('sku', '=', sku)
    .execute()
  const existing = await db
    .selectFrom('inventory_levels')
    .select('updated_at')
    .where('store_id', '=', storeId)
    .where('sku', '=', sku)
    .where('location_id', '=', location)
    .executeTakeFirst()
  if (existing && existing.updated_at > at) return
  const available = Number(data.available)
  if (existing) {
    await db
      .updateTable('inventory_levels')
      .set({ available, updated_at: at })
      .where('store_id', '=', storeId)
      .where('sku', '=', sku)
      .where('location_id', '=', location)
      .execute()
  } else {
    await db.insertInto('inventory_levels').values({ store_id: storeId, sku, location_id: location, available, updated_at: at }).execute()
  }
  const levels = await db.selectFrom('inventory_levels').select('available').where('store_id', '=', storeId).where('sku', '=', sku).execute()
  const sum = clampStock(levels.reduce((n, l) => n + Number(l.available), 0))
  await db.updateTable('variants').set({ inventory_quantity: sum }).where('store_id', '=', storeId).where('sku', '=', sku).execute()
}

function normaliseTags(tags: unknown): string[] {
  if (Array.isArray(tags))
    return tags
      .map(String)
      .map((t) => t.trim())
      .filter(Boolean)
  if (typeof tags === 'string')
    return tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
  return []
}

const KNOWN_CUSTOMER_FIELDS = new Set(['id', 'email', 'phone', 'first_name', 'last_name', 'accepts_marketing', 'birthday', 'timezone', 'tags', 'created_at'])

function extraFields(c: Obj): Obj {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !KNOWN_CUSTOMER_FIELDS.has(k)))
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null
}
