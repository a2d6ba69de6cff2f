import type { Kysely, Transaction } from 'kysely'
import type { CanonicalEvent } from '../contracts/events.ts'
import { addMoney, moneyToNumber } from '../lib/money.ts'
import { newId } from '../lib/ids.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>
type Obj = Record<string, unknown>

/**
 * The store's view, updated from events in the transaction that stores them. Every rule here
 * must give the same view whatever order events arrive in, and whether they arrive once or twice
 * (duplicates never reach this code: the event id is unique). Newer-wins fields compare
 * occurred_at; counters are recomputed from rows, never incremented.
 */
export async function applyToView(db: Db, event: CanonicalEvent): Promise<string | null> {
  const { type, data, store: storeId, occurred_at: at } = event
  const customerData = customerOf(event)
  const customerKey = customerData ? await upsertCustomer(db, storeId, customerData, at, type) : null

  if (type === 'newsletter.subscribed' && customerKey) {
    await db.updateTable('customers').set({ accepts_marketing: 1, unsubscribed_at: null, updated_at: at }).where('key', '=', customerKey).execute()
  } else if (type === 'newsletter.unsubscribed' && customerKey) {
    await db.updateTable('customers').set({ accepts_marketing: 0, unsubscribed_at: at, updated_at: at }).where('key', '=', customerKey).execute()
  }

  if (type.startsWith('order.') && type !== 'order.fulfilled' && type !== 'order.delivered') {
    await upsertOrder(db, storeId, data, at, type, customerKey)
  } else if ((type === 'order.fulfilled' || type === 'order.delivered') && data.order_id) {
    const status = type === 'order.delivered' ? 'delivered' : 'fulfilled'
    await db.updateTable('orders').set({ fulfillment_status: status }).where('store_id', '=', storeId).where('id', '=', String(data.order_id)).execute()
  } else if (type === 'cart.updated' || type === 'checkout.started' || type === 'cart.abandoned') {
    await upsertCart(db, storeId, data, at, customerKey)
  } else if (type === 'product.updated') {
    await upsertProduct(db, storeId, data, at)
  } else if (type === 'inventory.updated') {
    await upsertInventory(db, storeId, data, at)
  }
  return customerKey
}

function customerOf(event: CanonicalEvent): Obj | null {
  const { type, data } = event
  if (type.startsWith('customer.') && (data.id || data.email) && !data.customer) return data
  if (type === 'form.submitted') {
    const fields = (data.fields ?? {}) as Obj
    return fields.email ? fields : null
  }
  const customer = data.customer as Obj | null | undefined
  if (customer && (customer.id || customer.email)) return customer
  if (typeof data.email === 'string' && data.email) return { email: data.email }
  return null
}

const PROFILE_FIELDS = ['email', 'phone', 'first_name', 'last_name', 'birthday', 'timezone'] as const

async function upsertCustomer(db: Db, storeId: string, c: Obj, at: string, type: string): Promise<string> {
  const externalId = c.id ? String(c.id) : null
  const email = typeof c.email === 'string' && c.email ? c.email.toLowerCase() : null
  let row = externalId
    ? await db.selectFrom('customers').selectAll().where('store_id', '=', storeId).where('external_id', '=', externalId).executeTakeFirst()
    : undefined
  if (!row && email) {
    // a customer known only by email is the same customer once an event brings their id
    let q = db.selectFrom('customers').selectAll().where('store_id', '=', storeId).where('email', '=', email)
    if (externalId) q = q.where('external_id', 'is', null)
    row = await q.orderBy('created_at').executeTakeFirst()
  }
  const incomingTags = normaliseTags(c.tags)
  if (!row) {
    const key = newId('cus_')
    await db.insertInto('customers').values({
      key,
      store_id: storeId,
      external_id: externalId,
      email,
      phone: str(c.phone),
      first_name: str(c.first_name),
      last_name: str(c.last_name),
      accepts_marketing: c.accepts_marketing === true || type === 'newsletter.subscribed' ? 1 : 0,
      unsubscribed_at: null,
      birthday: str(c.birthday),
      timezone: str(c.timezone),
      tags: JSON.stringify(incomingTags),
      orders_count: 0,
      total_spent: '0.00',
      last_order_at: null,
      attributes: JSON.stringify(extraFields(c)),
      profile_at: at,
      created_at: str(c.created_at) ?? at,
      updated_at: at,
    }).execute()
    return row === undefined ? key : key
  }
  const patch: Record<string, unknown> = {}
  if (externalId && !row.external_id) patch.external_id = externalId
  const newer = !row.profile_at || at >= row.profile_at
  if (newer) {
    for (const field of PROFILE_FIELDS) {
      const value = field === 'email' ? email : str(c[field])
      if (value !== null && value !== row[field]) patch[field] = value
    }
    // an unsubscribe recorded by storeflow holds until an explicit newsletter.subscribed:
    // the shop's stale accepts_marketing on a later customer update does not undo it
    if (typeof c.accepts_marketing === 'boolean' && !row.unsubscribed_at) patch.accepts_marketing = c.accepts_marketing ? 1 : 0
    patch.profile_at = at
    const attrs = { ...(JSON.parse(row.attributes) as Obj), ...extraFields(c) }
    patch.attributes = JSON.stringify(attrs)
  } else if (!row.email && email) {
    patch.email = email
  }
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

async function upsertOrder(db: Db, storeId: string, data: Obj, at: string, type: string, customerKey: string | null): Promise<void> {
  const id = String(data.id)
  const existing = await db.selectFrom('orders').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  const total = String(data.total_price ?? existing?.total_price ?? '0')
  const cancelled = type === 'order.cancelled' || existing?.cancelled === 1 ? 1 : 0
  const refunded = type === 'order.refunded'
    ? addMoney(existing?.refunded ?? '0', String(data.refund_amount ?? total))
    : existing?.refunded ?? '0.00'
  const counted = cancelled ? '0.00' : addMoney(total, `-${refunded}`.replace('--', ''))
  const countedAmount = moneyToNumber(counted) < 0 ? '0.00' : counted
  const newer = !existing || at >= existing.updated_at
  const snapshot = newer ? data : (JSON.parse(existing.data) as Obj)
  const values = {
    customer_key: customerKey ?? existing?.customer_key ?? null,
    number: snapshot.number != null ? String(snapshot.number) : existing?.number ?? null,
    currency: String(snapshot.currency ?? existing?.currency ?? 'USD'),
    total_price: newer ? total : existing!.total_price,
    counted_amount: countedAmount,
    refunded,
    cancelled,
    financial_status: str(snapshot.financial_status) ?? existing?.financial_status ?? null,
    fulfillment_status: str(snapshot.fulfillment_status) ?? existing?.fulfillment_status ?? null,
    checkout_id: snapshot.checkout_id != null ? String(snapshot.checkout_id) : existing?.checkout_id ?? null,
    data: JSON.stringify(snapshot),
    updated_at: newer ? at : existing!.updated_at,
  }
  if (existing) {
    await db.updateTable('orders').set(values).where('store_id', '=', storeId).where('id', '=', id).execute()
  } else {
    await db.insertInto('orders').values({ store_id: storeId, id, created_at: str(data.created_at) ?? at, ...values }).execute()
  }
  if (values.checkout_id) {
    await db.updateTable('carts').set({ converted: 1 }).where('store_id', '=', storeId).where('id', '=', values.checkout_id).execute()
  }
  if (values.customer_key) await recomputeCustomerTotals(db, storeId, values.customer_key)
}

/** orders_count, total_spent and last_order_at from the customer's order rows: exact, order-independent */
async function recomputeCustomerTotals(db: Db, storeId: string, customerKey: string): Promise<void> {
  // store_id first: the orders_customer_idx index starts with it
  const orders = await db.selectFrom('orders').select(['counted_amount', 'cancelled', 'created_at']).where('store_id', '=', storeId).where('customer_key', '=', customerKey).execute()
  let total = '0.00'
  let count = 0
  let last: string | null = null
  for (const o of orders) {
    if (o.cancelled) continue
    count += 1
    total = addMoney(total, o.counted_amount)
    if (!last || o.created_at > last) last = o.created_at
  }
  await db.updateTable('customers').set({ orders_count: count, total_spent: total, last_order_at: last }).where('key', '=', customerKey).execute()
}

async function upsertCart(db: Db, storeId: string, data: Obj, at: string, customerKey: string | null): Promise<void> {
  const id = String(data.id)
  const existing = await db.selectFrom('carts').select(['updated_at', 'customer_key']).where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  const updatedAt = str(data.updated_at) ?? at
  if (existing && existing.updated_at > updatedAt) return
  const values = {
    customer_key: customerKey ?? existing?.customer_key ?? null,
    currency: String(data.currency ?? 'USD'),
    total_price: String(data.total_price ?? '0'),
    data: JSON.stringify(data),
    updated_at: updatedAt,
  }
  if (existing) await db.updateTable('carts').set(values).where('store_id', '=', storeId).where('id', '=', id).execute()
  else await db.insertInto('carts').values({ store_id: storeId, id, converted: 0, ...values }).execute()
}

async function upsertProduct(db: Db, storeId: string, data: Obj, at: string): Promise<void> {
  const id = String(data.id)
  const existing = await db.selectFrom('products').select('updated_at').where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (existing && existing.updated_at > at) return
  const values = { title: String(data.title ?? ''), status: String(data.status ?? 'active'), data: JSON.stringify(data), updated_at: at }
  if (existing) await db.updateTable('products').set(values).where('store_id', '=', storeId).where('id', '=', id).execute()
  else await db.insertInto('products').values({ store_id: storeId, id, ...values }).execute()
  for (const v of (data.variants ?? []) as Obj[]) {
    const variant = {
      product_id: id,
      sku: str(v.sku),
      price: String(v.price ?? '0'),
      inventory_quantity: typeof v.inventory_quantity === 'number' ? v.inventory_quantity : null,
    }
    const vid = String(v.id)
    const found = await db.selectFrom('variants').select('id').where('store_id', '=', storeId).where('id', '=', vid).executeTakeFirst()
    if (found) await db.updateTable('variants').set(variant).where('store_id', '=', storeId).where('id', '=', vid).execute()
    else await db.insertInto('variants').values({ store_id: storeId, id: vid, ...variant }).execute()
  }
}

async function upsertInventory(db: Db, storeId: string, data: Obj, at: string): Promise<void> {
  const sku = String(data.sku)
  const location = data.location_id != null ? String(data.location_id) : 'default'
  const existing = await db.selectFrom('inventory_levels').select('updated_at').where('store_id', '=', storeId).where('sku', '=', sku).where('location_id', '=', location).executeTakeFirst()
  if (existing && existing.updated_at > at) return
  const available = Number(data.available)
  if (existing) {
    await db.updateTable('inventory_levels').set({ available, updated_at: at }).where('store_id', '=', storeId).where('sku', '=', sku).where('location_id', '=', location).execute()
  } else {
    await db.insertInto('inventory_levels').values({ store_id: storeId, sku, location_id: location, available, updated_at: at }).execute()
  }
  const levels = await db.selectFrom('inventory_levels').select('available').where('store_id', '=', storeId).where('sku', '=', sku).execute()
  const sum = levels.reduce((n, l) => n + l.available, 0)
  await db.updateTable('variants').set({ inventory_quantity: sum }).where('store_id', '=', storeId).where('sku', '=', sku).execute()
}

function normaliseTags(tags: unknown): string[] {
  if (Array.isArray(tags)) return tags.map(String).map((t) => t.trim()).filter(Boolean)
  if (typeof tags === 'string') return tags.split(',').map((t) => t.trim()).filter(Boolean)
  return []
}

const KNOWN_CUSTOMER_FIELDS = new Set(['id', 'email', 'phone', 'first_name', 'last_name', 'accepts_marketing', 'birthday', 'timezone', 'tags', 'created_at'])

function extraFields(c: Obj): Obj {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !KNOWN_CUSTOMER_FIELDS.has(k)))
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null
}
