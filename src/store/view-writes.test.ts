import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import type { ViewPart } from '../core/workflow/reads.ts'
import { applyToView } from './projection.ts'
import { VIEW_WRITES, writesOf } from './view-writes.ts'

/**
 * The declaration of what each event type writes (view-writes.ts) against what the projection
 * really writes: one event of every declared type is applied to a real database holding a
 * customer, a product, an order, a cart, a subscription and an invoice it can touch, and every
 * row it changed is named by its part. A change to a part the declaration does not list for the
 * type (nor the profile through the customer object it carries), or to a table no part names,
 * fails here.
 */

/** the parts of the customers and carts rows, by column; any other column of theirs is the profile (customers) or the cart's contents */
const CUSTOMER_COLUMNS: Record<string, ViewPart> = {
  orders_count: 'customer_orders',
  total_spent: 'customer_orders',
  last_order_at: 'customer_orders',
  marketing_sent_since_last_order: 'customer_orders',
  loyalty_points: 'loyalty',
}

/** what a customers or carts row holds when it is made (before any order or membership is counted into it) */
const NEW_ROW: Record<string, Record<string, unknown>> = {
  customers: { orders_count: 0, total_spent: '0.00', last_order_at: null, marketing_sent_since_last_order: 0, loyalty_points: 0, segments: '[]', rfm: null },
  carts: { converted: 0 },
}

/** tables by part; a table not here that an event changes fails the test (a new part to declare) */
const TABLE_PARTS: Record<string, ViewPart | 'not_read'> = {
  customer_aliases: 'customer_profile',
  orders: 'orders',
  pending_fulfilments: 'orders',
  shipments: 'orders',
  products: 'catalog',
  variants: 'catalog',
  inventory_levels: 'catalog',
  subscriptions: 'subscriptions',
  invoices: 'invoices',
  invoice_payments: 'invoices',
  discount_codes: 'loyalty',
  discount_code_uses: 'loyalty',
  loyalty_ledger: 'loyalty',
  // insight's cohort aggregate: no condition, template or action reads it
  workflow_entries: 'not_read',
}

const STORE = 'default'
const customer = { id: 'c1', email: 'ann@example.com', first_name: 'Ann', accepts_marketing: true }
const order = (id: string) => ({
  id,
  customer,
  total_price: '30.00',
  currency: 'USD',
  checkout_id: 'ck1',
  financial_status: 'paid',
  discount_codes: ['SAVE10'],
  line_items: [{ sku: 'SKU1', product_id: 'p1', title: 'Mug', quantity: 1, price: '30.00' }],
})
const cart = (id: string) => ({
  id,
  customer,
  total_price: '30.00',
  line_items: [{ sku: 'SKU1', product_id: 'p1', title: 'Mug', quantity: 1, price: '30.00' }],
})

/** one event of each declared type, about what `setup` made */
const SAMPLES: Record<string, Record<string, unknown>> = {
  'customer.created': { ...customer, id: 'c2', email: 'bo@example.com' },
  'customer.updated': { ...customer, last_name: 'Lee', tags: ['vip'] },
  'newsletter.subscribed': { customer },
  'newsletter.unsubscribed': { customer },
  'message.opened': { message_id: 'm1', customer },
  'message.clicked': { message_id: 'm1', customer, url: 'https://shop.example/x' },
  'form.submitted': { form: 'signup', fields: { email: 'cy@example.com', first_name: 'Cy' } },
  'order.created': order('o2'),
  'order.paid': order('o2'),
  'order.cancelled': order('o2'),
  'order.refunded': { ...order('o1'), refund_amount: '5.00' },
  'order.fulfilled': { order_id: 'o1', customer, carrier: 'UPS', tracking_number: '1Z1' },
  'order.delivered': { order_id: 'o1', customer, delivered_at: '2026-03-02T00:00:00Z' },
  'shipment.updated': { order_id: 'o1', status: 'in_transit', carrier: 'UPS', tracking_number: '1Z1', estimated_delivery_at: '2026-03-09' },
  'cart.updated': cart('ck2'),
  'checkout.started': cart('ck2'),
  'cart.abandoned': cart('ck2'),
  'product.updated': { id: 'p1', title: 'Mug', variants: [{ id: 'v1', sku: 'SKU1', price: '32.00', inventory_quantity: 7 }] },
  'inventory.updated': { sku: 'SKU1', available: 4 },
  'purchase_order.received': {
    purchase_order: { id: 'po1', number: 'PO-1', supplier_id: 's1', status: 'received' },
    receipt_id: 'r1',
    lines: [{ sku: 'SKU1', quantity: 5 }],
  },
  'subscription.created': { id: 'sub1', customer, plan: 'beans', price: '12.00', interval: 'month', status: 'active' },
  'subscription.cancelled': { id: 'sub1', customer, plan: 'beans', price: '12.00', interval: 'month', status: 'cancelled' },
  'invoice.paid': { invoice_id: 'inv1', amount: '10.00', customer },
  'customer.inactive': { customer },
  'customer.birthday': { customer },
  'inventory.low': { sku: 'SKU1', available: 1, reorder_point: 2 },
  'inventory.out_of_stock': { sku: 'SKU1', available: 0, reorder_point: 2 },
  'inventory.back_in_stock': { sku: 'SKU1', available: 3, reorder_point: 2 },
  'subscription.renewal_due': { id: 'sub1', customer, plan: 'beans', price: '12.00', interval: 'month', status: 'active' },
  'invoice.overdue': { id: 'inv1', number: 'INV-1', total: '20.00', currency: 'USD', due_at: '2026-02-01T00:00:00Z', customer },
  'segment.entered': { segment: 'vip', customer },
  'segment.exited': { segment: 'vip', customer },
  'schedule.tick': { schedule: 'nightly' },
}

type Rows = Map<string, Array<Record<string, unknown>>>

async function snapshot(env: TestEnv, tables: string[]): Promise<Rows> {
  const out: Rows = new Map()
  for (const t of tables) out.set(t, (await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(env.app.handle.db)).rows)
  return out
}

/** the parts (or unnamed tables) that differ between two snapshots */
function changedParts(before: Rows, after: Rows): Set<string> {
  const parts = new Set<string>()
  for (const [table, rows] of after) {
    const old = before.get(table) ?? []
    const json = (r: Record<string, unknown>) => JSON.stringify(r)
    const oldSet = new Set(old.map(json))
    const newSet = new Set(rows.map(json))
    const added = rows.filter((r) => !oldSet.has(json(r)))
    const removed = old.filter((r) => !newSet.has(json(r)))
    if (added.length === 0 && removed.length === 0) continue
    if (table === 'customers' || table === 'carts') {
      const id = table === 'customers' ? 'key' : 'id'
      const columns = new Set<string>()
      for (const r of [...added, ...removed]) {
        const other = (added.includes(r) ? removed : added).find((o) => o[id] === r[id])
        // a new row: what it holds besides the values every new row starts with
        const base = other ?? NEW_ROW[table]!
        for (const c of Object.keys(r)) if (!(c in base) || JSON.stringify(base[c]) !== JSON.stringify(r[c])) columns.add(c)
      }
      for (const c of columns) {
        if (table === 'customers') parts.add(c === 'segments' || c === 'rfm' ? 'customers.segments' : (CUSTOMER_COLUMNS[c] ?? 'customer_profile'))
        else parts.add(c === 'converted' ? 'cart_conversion' : 'carts')
      }
    } else {
      const part = TABLE_PARTS[table]
      if (part !== 'not_read') parts.add(part ?? `table ${table}`)
    }
  }
  return parts
}

describe('what each event type writes of the view (view-writes.ts) is what the projection writes', () => {
  let env: TestEnv
  let tables: string[]
  let minute = 0
  const at = () => new Date(Date.UTC(2026, 2, 1, 0, ++minute)).toISOString()
  const eventOf = (type: string, data: Record<string, unknown>): CanonicalEvent => {
    const parsed = parseEvent({ id: `e${minute}-${type}`, type, occurred_at: at(), data }, { store: STORE, now: new Date('2027-01-01T00:00:00Z') })
    if (!parsed.ok) throw new Error(`${type}: ${JSON.stringify(parsed.issues)}`)
    return parsed.event
  }
  // what the sandbox leaves out for a workflow that reads no derivation
  const skips = { attribution: true, demand: true, inventory: true }
  const apply = (e: CanonicalEvent) => env.app.handle.db.transaction().execute((tx) => applyToView(tx, e, skips))

  beforeAll(async () => {
    env = await createTestEnv('sqlite')
    tables = (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(env.app.handle.db)).rows
      .map((r) => r.name)
      .filter((t) => !['events', 'kysely_migration', 'kysely_migration_lock'].includes(t))
    // what the samples touch: a customer with an order of a cart, a product in stock, a subscription
    for (const [type, data] of [
      ['customer.created', customer],
      ['product.updated', { id: 'p1', title: 'Mug', variants: [{ id: 'v1', sku: 'SKU1', price: '30.00', inventory_quantity: 10 }] }],
      ['checkout.started', cart('ck1')],
      ['order.created', order('o1')],
      ['subscription.created', SAMPLES['subscription.created']!],
    ] as const)
      await apply(eventOf(type, data as Record<string, unknown>))
  })
  afterAll(async () => {
    await env?.cleanup()
  })

  it('has a sample for every declared type', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(VIEW_WRITES).sort())
  })

  for (const type of Object.keys(SAMPLES)) {
    it(`${type} changes only the parts declared for it`, async () => {
      const event = eventOf(type, SAMPLES[type]!)
      const before = await snapshot(env, tables)
      await apply(event)
      const changed = changedParts(before, await snapshot(env, tables))
      const writes = writesOf(event)
      expect(writes.parts).not.toBe('all')
      const declared = new Set<string>(writes.parts === 'all' ? [] : writes.parts)
      if (writes.customer) declared.add('customer_profile')
      expect([...changed].filter((p) => !declared.has(p))).toEqual([])
    })
  }
})
