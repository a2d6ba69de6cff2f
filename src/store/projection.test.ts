import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { customerView, orderView } from './views.ts'

/**
 * The store's view must be the same whatever order events arrive in, and whether they arrive
 * once or twice. Each case sends its events in every order (one set of ids per order, so one
 * database serves them all), then sends them all again (duplicates), and compares the view.
 */

type Raw = ReturnType<typeof event>

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items]
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))
}

async function send(env: TestEnv, raw: Raw) {
  const parsed = parseEvent(raw, { store: 'default', now: env.clock.now() })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  const [result] = await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
  // accepted; the router does what it causes
  await env.app.engine.settle()
  return result!
}

/** Sends `events` in this order, then all of them again in reverse: the repeats must be duplicates. */
async function sendTwice(env: TestEnv, events: Raw[]) {
  for (const e of events) expect((await send(env, e)).duplicate).toBe(false)
  for (const e of [...events].reverse()) expect((await send(env, e)).duplicate).toBe(true)
}

async function customersWith(env: TestEnv, where: { id?: string; email?: string }) {
  let q = env.app.handle.db.selectFrom('customers').selectAll().where('store_id', '=', 'default')
  q = q.where((eb) => eb.or([...(where.id ? [eb('external_id', '=', where.id)] : []), ...(where.email ? [eb('email', '=', where.email)] : [])]))
  return q.execute()
}

async function viewOf(env: TestEnv, id: string) {
  const rows = await customersWith(env, { id })
  expect(rows).toHaveLength(1)
  return customerView(rows[0]!)
}

/** The view without what differs between permutations by construction (the row key, the ids). */
function comparable(view: Record<string, unknown>) {
  const { key: _key, id: _id, email: _email, ...rest } = view
  return rest
}

describe.each(DIALECTS)('the store view on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  describe('consent', () => {
    it('a late, older newsletter.subscribed does not undo a newer unsubscribe (the reported order)', async () => {
      const customer = { id: 'c1', email: 'c1@example.com' }
      await send(env, event('newsletter.unsubscribed', 'u1', { customer }, '2026-03-02T00:00:00Z'))
      await send(env, event('newsletter.subscribed', 's1', { customer }, '2026-02-01T00:00:00Z'))
      const view = await viewOf(env, 'c1')
      expect(view).toMatchObject({ accepts_marketing: false, unsubscribed_at: '2026-03-02T00:00:00.000Z' })
    })

    it('an unsubscribe holds against an older subscribe and a later stale shop flag, in every order and twice', async () => {
      const views: unknown[] = []
      for (const [n, order] of permutations([0, 1, 2]).entries()) {
        const customer = { id: `c${n}`, email: `c${n}@example.com` }
        const events = [
          event('newsletter.unsubscribed', `u-${n}`, { customer }, '2026-03-02T00:00:00Z'),
          event('newsletter.subscribed', `s-${n}`, { customer }, '2026-02-01T00:00:00Z'),
          // the shop's stale accepts_marketing: true on a later update does not undo it (docs/workflows.md, Guardrails)
          event('customer.updated', `cu-${n}`, { ...customer, accepts_marketing: true, first_name: 'Ann' }, '2026-03-05T00:00:00Z'),
        ]
        await sendTwice(
          env,
          order.map((i) => events[i]!),
        )
        views.push(comparable(await viewOf(env, `c${n}`)))
      }
      expect(views[0]).toMatchObject({ accepts_marketing: false, unsubscribed_at: '2026-03-02T00:00:00.000Z', first_name: 'Ann' })
      for (const view of views) expect(view).toEqual(views[0])
    })

    it('only an explicitly later subscribe undoes an unsubscribe, in every order and twice', async () => {
      const views: unknown[] = []
      for (const [n, order] of permutations([0, 1, 2, 3]).entries()) {
        const customer = { id: `d${n}`, email: `d${n}@example.com` }
        const events = [
          event('customer.created', `cc-${n}`, { ...customer, accepts_marketing: false }, '2026-01-01T00:00:00Z'),
          event('newsletter.subscribed', `s1-${n}`, { customer }, '2026-02-01T00:00:00Z'),
          event('newsletter.unsubscribed', `u-${n}`, { customer }, '2026-03-02T00:00:00Z'),
          event('newsletter.subscribed', `s2-${n}`, { customer }, '2026-03-10T00:00:00Z'),
        ]
        await sendTwice(
          env,
          order.map((i) => events[i]!),
        )
        views.push(comparable(await viewOf(env, `d${n}`)))
      }
      expect(views[0]).toMatchObject({ accepts_marketing: true, unsubscribed_at: null })
      for (const view of views) expect(view).toEqual(views[0])
    })

    it('a subscribe and an unsubscribe at the same time: the unsubscribe wins in either order', async () => {
      for (const [n, order] of permutations([0, 1]).entries()) {
        const customer = { id: `t${n}`, email: `t${n}@example.com` }
        const events = [
          event('newsletter.subscribed', `s-${n}`, { customer }, '2026-03-02T00:00:00Z'),
          event('newsletter.unsubscribed', `u-${n}`, { customer }, '2026-03-02T00:00:00Z'),
        ]
        await sendTwice(
          env,
          order.map((i) => events[i]!),
        )
        expect(await viewOf(env, `t${n}`)).toMatchObject({ accepts_marketing: false, unsubscribed_at: '2026-03-02T00:00:00.000Z' })
      }
    })

    it("the shop's flag said after an explicit subscribe counts, whichever arrives first", async () => {
      for (const [n, order] of permutations([0, 1]).entries()) {
        const customer = { id: `f${n}`, email: `f${n}@example.com` }
        const events = [
          event('newsletter.subscribed', `s-${n}`, { customer }, '2026-03-01T00:00:00Z'),
          event('customer.updated', `cu-${n}`, { ...customer, accepts_marketing: false }, '2026-03-05T00:00:00Z'),
        ]
        await sendTwice(
          env,
          order.map((i) => events[i]!),
        )
        expect(await viewOf(env, `f${n}`)).toMatchObject({ accepts_marketing: false, unsubscribed_at: null })
      }
    })
  })

  describe('one customer known first by email, then by id', () => {
    it('customer.created{id}, an order and a cart carrying only the email, customer.updated{id, email}: one customer in every order', async () => {
      const views: unknown[] = []
      for (const [n, order] of permutations([0, 1, 2, 3]).entries()) {
        const id = `m${n}`
        const email = `m${n}@example.com`
        const events = [
          event('customer.created', `cc-${n}`, { id, tags: ['vip'], created_at: '2026-01-01T00:00:00Z' }, '2026-01-01T00:00:00Z'),
          event(
            'order.created',
            `oc-${n}`,
            { id: `o-${n}`, email, currency: 'USD', total_price: '40.00', created_at: '2026-02-01T00:00:00Z' },
            '2026-02-01T00:00:00Z',
          ),
          event(
            'cart.updated',
            `ca-${n}`,
            { id: `k-${n}`, customer: { email, tags: 'newsletter' }, currency: 'USD', total_price: 15, updated_at: '2026-02-02T00:00:00Z' },
            '2026-02-02T00:00:00Z',
          ),
          event('customer.updated', `cu-${n}`, { id, email: email.toUpperCase(), first_name: 'Mia' }, '2026-02-03T00:00:00Z'),
        ]
        await sendTwice(
          env,
          order.map((i) => events[i]!),
        )
        const rows = await customersWith(env, { id, email })
        expect(rows, `order ${order.join(',')}`).toHaveLength(1)
        const view = customerView(rows[0]!)
        expect(view).toMatchObject({ id, email })
        const key = rows[0]!.key
        const db = env.app.handle.db
        const stored = await db
          .selectFrom('events')
          .select('customer_key')
          .where(
            'id',
            'in',
            events.map((e) => e.id),
          )
          .execute()
        expect(stored.map((e) => e.customer_key)).toEqual([key, key, key, key])
        expect((await db.selectFrom('orders').select('customer_key').where('id', '=', `o-${n}`).executeTakeFirstOrThrow()).customer_key).toBe(key)
        expect((await db.selectFrom('carts').select('customer_key').where('id', '=', `k-${n}`).executeTakeFirstOrThrow()).customer_key).toBe(key)
        views.push({ ...comparable(view), tags: [...(view.tags as string[])].sort() })
      }
      expect(views[0]).toMatchObject({
        orders_count: 1,
        total_spent: 40,
        last_order_at: '2026-02-01T00:00:00.000Z',
        created_at: '2026-01-01T00:00:00.000Z',
        first_name: 'Mia',
        tags: ['newsletter', 'vip'],
      })
      for (const view of views) expect(view).toEqual(views[0])
    })

    it("the merge moves the email-only customer's runs, waits and messages: a wait_for then hears events by id", async () => {
      await installWorkflow(
        env.app,
        `
id: thanks
name: Thanks
trigger: { event: order.created }
steps:
  - wait_for: { event: order.paid, timeout: 2d }
    received:
      - action: tag_customer
        with: { tags: ['paid'] }
`,
      )
      const db = env.app.handle.db
      await send(env, event('customer.created', 'cc', { id: 'X', accepts_marketing: true }, '2026-03-01T00:00:00Z'))
      await send(env, event('order.created', 'oc', { id: 'o1', email: 'a@x.com', currency: 'USD', total_price: 25 }, '2026-03-02T00:00:00Z'))
      await env.app.engine.drain()
      const emailOnly = (await customersWith(env, { email: 'a@x.com' }))[0]!
      expect(emailOnly.external_id).toBeNull()
      await db
        .insertInto('messages')
        .values({
          id: 'msg_1',
          store_id: 'default',
          idempotency_key: 'k1',
          run_id: null,
          step_key: null,
          workflow_id: null,
          customer_key: emailOnly.key,
          channel: 'email',
          category: 'marketing',
          to_addr: 'a@x.com',
          from_addr: null,
          subject: 'hi',
          html: null,
          text: null,
          headers: '{}',
          status: 'sent',
          error: null,
          message_id: null,
          opens: 0,
          clicks: 0,
          created_at: '2026-03-02T00:00:00.000Z',
          sent_at: '2026-03-02T00:00:00.000Z',
        })
        .execute()

      await send(env, event('customer.updated', 'cu', { id: 'X', email: 'a@x.com' }, '2026-03-02T01:00:00Z'))
      const rows = await customersWith(env, { id: 'X', email: 'a@x.com' })
      expect(rows).toHaveLength(1)
      const key = rows[0]!.key
      expect(key).not.toBe(emailOnly.key)
      expect(customerView(rows[0]!)).toMatchObject({ orders_count: 1, total_spent: 25, accepts_marketing: true })
      const [run] = await db.selectFrom('runs').selectAll().where('workflow_id', '=', 'thanks').execute()
      expect(run).toMatchObject({ customer_key: key, customer_id: 'X', customer_email: 'a@x.com', status: 'waiting' })
      const correlations = await db.selectFrom('correlations').select('corr_key').where('run_id', '=', run!.id).execute()
      expect(correlations.map((c) => c.corr_key)).toEqual([key])
      expect((await db.selectFrom('messages').select('customer_key').where('id', '=', 'msg_1').executeTakeFirstOrThrow()).customer_key).toBe(key)
      expect(await db.selectFrom('customers').select('key').where('key', '=', emailOnly.key).execute()).toEqual([])

      // an order.paid carrying only the id reaches the wait registered under the email-only key
      await send(env, event('order.paid', 'op', { id: 'o1', customer: { id: 'X' }, currency: 'USD', total_price: 25 }, '2026-03-02T02:00:00Z'))
      await env.app.engine.drain()
      const after = await db.selectFrom('runs').select('status').where('id', '=', run!.id).executeTakeFirstOrThrow()
      expect(after.status).toBe('completed')
      expect((await viewOf(env, 'X')).tags).toEqual(['paid'])
    })
  })

  describe('times inside data', () => {
    it('are stored as UTC toISOString(), so the view compares them right as text', async () => {
      const customer = { id: 'z1', email: 'z1@example.com', created_at: '2026-01-10T09:00:00+09:00' }
      // 01:00+05:00 is 20:00Z the day before: as raw text it would sort after 21:00Z
      await send(env, event('order.created', 'o1', { id: 'o1', customer, currency: 'USD', total_price: 10, created_at: '2026-03-05T01:00:00+05:00' }))
      await send(env, event('order.created', 'o2', { id: 'o2', customer, currency: 'USD', total_price: 10, created_at: '2026-03-04T21:00:00Z' }))
      await send(env, event('cart.updated', 'c1', { id: 'k1', customer, total_price: 5, updated_at: '2026-03-04T12:00:00-03:00' }))
      await send(
        env,
        event('order.fulfilled', 'f1', { order_id: 'o1', customer, estimated_delivery_at: '2026-03-09', tracking_number: 'T1' }, '2026-03-05T10:00:00+01:00'),
      )
      await send(env, event('order.delivered', 'd1', { order_id: 'o1', customer, delivered_at: '2026-03-08T18:30:00.5-04:00' }, '2026-03-09T00:00:00Z'))

      const db = env.app.handle.db
      const view = await viewOf(env, 'z1')
      expect(view).toMatchObject({ created_at: '2026-01-10T00:00:00.000Z', last_order_at: '2026-03-04T21:00:00.000Z', orders_count: 2 })
      const orders = await db.selectFrom('orders').select(['id', 'created_at', 'fulfillment_status', 'fulfillment_at']).orderBy('id').execute()
      expect(orders).toEqual([
        { id: 'o1', created_at: '2026-03-04T20:00:00.000Z', fulfillment_status: 'delivered', fulfillment_at: '2026-03-08T22:30:00.500Z' },
        { id: 'o2', created_at: '2026-03-04T21:00:00.000Z', fulfillment_status: null, fulfillment_at: null },
      ])
      expect((await db.selectFrom('carts').select('updated_at').where('id', '=', 'k1').executeTakeFirstOrThrow()).updated_at).toBe('2026-03-04T15:00:00.000Z')
      const stored = await db.selectFrom('events').select(['id', 'occurred_at', 'data']).where('id', 'in', ['f1', 'd1']).orderBy('id').execute()
      expect(
        stored.map((e) => [
          e.id,
          e.occurred_at,
          (JSON.parse(e.data) as Record<string, unknown>).estimated_delivery_at ?? (JSON.parse(e.data) as Record<string, unknown>).delivered_at,
        ]),
      ).toEqual([
        ['d1', '2026-03-09T00:00:00.000Z', '2026-03-08T22:30:00.500Z'],
        ['f1', '2026-03-05T09:00:00.000Z', '2026-03-09T00:00:00.000Z'],
      ])
    })

    it('a time that is not strict ISO-8601 with a zone is rejected naming the field; birthday stays YYYY-MM-DD', () => {
      const now = env.clock.now()
      const order = (created_at: string) =>
        parseEvent(event('order.created', 'x', { id: 'o', currency: 'USD', total_price: 1, created_at }), { store: 'default', now })
      for (const bad of ['March 5, 2026', '2026-03-05T09:30:00', '2026-03-05', '2026-02-30T00:00:00Z', '2026-03-05T24:00:00Z', '1741167000']) {
        const parsed = order(bad)
        expect(parsed.ok, bad).toBe(false)
        if (!parsed.ok) {
          expect(parsed.issues[0]!.path).toBe('data.created_at')
          expect(parsed.issues[0]!.message).toContain('must be an ISO-8601 time with a zone')
          expect(parsed.issues[0]!.message).toContain(JSON.stringify(bad))
        }
      }
      const envelope = parseEvent({ ...event('customer.created', 'x', { id: 'c' }), occurred_at: 'yesterday' }, { store: 'default', now })
      expect(envelope.ok ? null : envelope.issues[0]!.path).toBe('occurred_at')
      const cart = parseEvent(event('cart.updated', 'x', { id: 'k', total_price: 1, updated_at: 'Thu, 05 Mar 2026 09:30:00 GMT' }), { store: 'default', now })
      expect(cart.ok ? null : cart.issues[0]!.path).toBe('data.updated_at')
      const customer = parseEvent(event('customer.created', 'x', { id: 'c', birthday: '1990-07-14', created_at: '2026-03-05T10:30:00+01:00' }), {
        store: 'default',
        now,
      })
      expect(customer.ok && customer.event.data).toMatchObject({ birthday: '1990-07-14', created_at: '2026-03-05T09:30:00.000Z' })
      const badBirthday = parseEvent(event('customer.created', 'x', { id: 'c', birthday: '1990-07-14T00:00:00Z' }), { store: 'default', now })
      expect(badBirthday.ok ? null : badBirthday.issues[0]!.path).toBe('data.birthday')
    })
  })

  describe('fulfilment', () => {
    it('order.fulfilled and order.delivered before or after the order, in every order and twice: delivered, with its time, counted once', async () => {
      const results: unknown[] = []
      for (const [n, order] of permutations([0, 1, 2, 3]).entries()) {
        const customer = { id: `p${n}`, email: `p${n}@example.com` }
        const o = { id: `o-${n}`, customer, currency: 'USD', total_price: '30.00', created_at: '2026-03-01T00:00:00Z' }
        const events = [
          event('order.created', `oc-${n}`, { ...o, fulfillment_status: null }, '2026-03-01T00:00:00Z'),
          event('order.paid', `op-${n}`, { ...o, financial_status: 'paid' }, '2026-03-01T01:00:00Z'),
          event('order.fulfilled', `of-${n}`, { order_id: o.id, customer, carrier: 'UPS', tracking_number: `T${n}` }, '2026-03-02T00:00:00Z'),
          event('order.delivered', `od-${n}`, { order_id: o.id, customer, delivered_at: '2026-03-04T12:00:00Z' }, '2026-03-04T13:00:00Z'),
        ]
        await sendTwice(
          env,
          order.map((i) => events[i]!),
        )
        const row = await env.app.handle.db.selectFrom('orders').selectAll().where('id', '=', o.id).executeTakeFirstOrThrow()
        const { id: _id, customer: _c, ...orderRest } = orderView(row)
        results.push({ order: { ...orderRest, fulfillment_at: row.fulfillment_at }, customer: comparable(await viewOf(env, `p${n}`)) })
      }
      expect(results[0]).toMatchObject({
        order: { fulfillment_status: 'delivered', fulfillment_at: '2026-03-04T12:00:00.000Z', financial_status: 'paid', total_price: 30 },
        customer: { orders_count: 1, total_spent: 30, last_order_at: '2026-03-01T00:00:00.000Z' },
      })
      for (const result of results) expect(result).toEqual(results[0])
      expect(await env.app.handle.db.selectFrom('pending_fulfilments').selectAll().execute()).toEqual([])
    })

    it('a fulfilment before its order is no order: nothing counted until the order arrives', async () => {
      const customer = { id: 'q1', email: 'q1@example.com' }
      await send(env, event('order.delivered', 'd', { order_id: 'o9', customer, delivered_at: '2026-03-04T12:00:00Z' }, '2026-03-04T12:00:00Z'))
      await send(env, event('order.fulfilled', 'f', { order_id: 'o9', customer }, '2026-03-02T00:00:00Z'))
      const db = env.app.handle.db
      expect(await db.selectFrom('orders').selectAll().execute()).toEqual([])
      expect(await viewOf(env, 'q1')).toMatchObject({ orders_count: 0, total_spent: 0, last_order_at: null })
      await send(
        env,
        event('order.paid', 'p', { id: 'o9', customer, currency: 'USD', total_price: 12, fulfillment_status: 'fulfilled' }, '2026-03-05T00:00:00Z'),
      )
      expect(await viewOf(env, 'q1')).toMatchObject({ orders_count: 1, total_spent: 12 })
      expect(await db.selectFrom('orders').select(['fulfillment_status', 'fulfillment_at']).executeTakeFirstOrThrow()).toEqual({
        fulfillment_status: 'delivered',
        fulfillment_at: '2026-03-04T12:00:00.000Z',
      })
    })

    it("a tracking update or fulfilment naming no customer is the order's buyer's: their runs start on it; before the order is known it is no one's", async () => {
      await installWorkflow(
        env.app,
        `
id: tracked
name: Tracked
trigger: { event: shipment.updated }
reentry: { per_customer: always, concurrent: true }
steps:
  - action: tag_customer
    with: { tags: ['{{ event.data.status }}'] }
`,
      )
      const db = env.app.handle.db
      const customer = { id: 'r1', email: 'r1@example.com' }
      await send(env, event('shipment.updated', 's0', { order_id: 'o7', status: 'exception' }, '2026-03-02T00:00:00Z'))
      await send(env, event('order.paid', 'p', { id: 'o7', customer, currency: 'USD', total_price: 12 }, '2026-03-02T01:00:00Z'))
      await send(env, event('order.fulfilled', 'f', { order_id: 'o7', carrier: 'UPS' }, '2026-03-02T02:00:00Z'))
      await send(env, event('shipment.updated', 's1', { order_id: 'o7', status: 'in_transit' }, '2026-03-02T03:00:00Z'))
      await env.app.engine.drain()
      const key = (await customersWith(env, { id: 'r1' }))[0]!.key
      const stored = await db.selectFrom('events').select(['id', 'customer_key']).where('id', 'in', ['s0', 'f', 's1']).orderBy('id').execute()
      expect(stored).toEqual([
        { id: 'f', customer_key: key },
        { id: 's0', customer_key: null },
        { id: 's1', customer_key: key },
      ])
      expect((await viewOf(env, 'r1')).tags).toEqual(['in_transit'])
    })
  })

  it('orders_count, total_spent and last_order_at are the same for every order of created, paid, a partial refund and another order cancelled', async () => {
    const totals: unknown[] = []
    for (const [n, order] of permutations([0, 1, 2, 3]).entries()) {
      const customer = { id: `r${n}`, email: `r${n}@example.com` }
      const a = { id: `a-${n}`, customer, currency: 'USD', total_price: '100.00', created_at: '2026-03-01T00:00:00Z' }
      const b = { id: `b-${n}`, customer, currency: 'USD', total_price: '50.00', created_at: '2026-03-03T00:00:00Z' }
      const events = [
        event('order.created', `ac-${n}`, a, '2026-03-01T00:00:00Z'),
        event('order.paid', `ap-${n}`, { ...a, financial_status: 'paid' }, '2026-03-01T01:00:00Z'),
        event('order.refunded', `ar-${n}`, { ...a, financial_status: 'partially_refunded', refund_amount: '30.50' }, '2026-03-02T00:00:00Z'),
        event('order.cancelled', `bx-${n}`, { ...b, financial_status: 'voided' }, '2026-03-04T00:00:00Z'),
      ]
      await sendTwice(
        env,
        order.map((i) => events[i]!),
      )
      const { orders_count, total_spent, last_order_at } = await viewOf(env, `r${n}`)
      totals.push({ orders_count, total_spent, last_order_at })
    }
    expect(totals[0]).toEqual({ orders_count: 1, total_spent: 69.5, last_order_at: '2026-03-01T00:00:00.000Z' })
    for (const t of totals) expect(t).toEqual(totals[0])
  })
})
