import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { buildServer } from '../http/server.ts'
import { Scheduler } from '../engine/scheduler.ts'
import { silentLogger } from '../lib/logger.ts'
import { createKey, createStore, updateSettings } from '../store/stores.repo.ts'

/**
 * The time-based derived events on the injected clock: each falls once per occurrence, however
 * often the sweep runs and however many workers sweep, and what fell due while nothing ran is
 * derived once, late, when the sweep comes back.
 */
const ON = (type: string, id = type.replace(/\W/g, '-')) => `
id: ${id}
name: On ${type}
trigger: { event: ${type} }
steps:
  - action: log
    with: { message: '{{ trigger.type }} for {{ customer.email }}' }
`

describe.each(DIALECTS)('time-based derived events on %s', (dialect) => {
  let env: TestEnv
  let scheduler: Scheduler
  beforeEach(async () => {
    env = await createTestEnv(dialect)
    scheduler = new Scheduler(env.app.engine, silentLogger, { everyMs: 0 })
    // the first pass puts the sweeps' schedules in place, counting from now
    await scheduler.pass()
  })
  afterEach(async () => {
    await env.cleanup()
  })

  const send = async (raw: ReturnType<typeof event>, store = 'default') => {
    const parsed = parseEvent({ ...raw, store }, { store, now: env.clock.now() })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
  }
  /** moves the clock and lets the sweeps and the router run, as a worker would */
  const at = async (iso: string) => {
    env.clock.set(iso)
    await scheduler.pass()
    await env.app.engine.drain()
  }
  const derived = async (type: string, store = 'default') =>
    (
      await env.app.handle.db
        .selectFrom('events')
        .select(['id', 'occurred_at', 'data', 'source'])
        .where('store_id', '=', store)
        .where('type', '=', type)
        .orderBy('seq')
        .execute()
    ).map((e) => ({ id: e.id, occurred_at: e.occurred_at, source: e.source, data: JSON.parse(e.data) as Record<string, unknown> }))
  const runsOf = async (workflowId: string) =>
    (
      await env.app.handle.db.selectFrom('runs').select(['status', 'trigger_event_id']).where('workflow_id', '=', workflowId).orderBy('started_at').execute()
    ).map((r) => r.trigger_event_id)

  const cart = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    email: 'ada@example.com',
    currency: 'USD',
    total_price: '120.00',
    line_items: [{ sku: 'MUG', title: 'Mug', quantity: 2, price: '60.00' }],
    recovery_url: `https://shop.example/cart/${id}/recover`,
    ...extra,
  })

  describe('cart.abandoned', () => {
    it('falls cart_abandoned_after its last update, once, with the recovery URL; a later update and a second abandonment make a second', async () => {
      await installWorkflow(env.app, ON('cart.abandoned', 'recover'))
      await send(event('checkout.started', 'ck-1', cart('c1', { updated_at: '2026-03-02T10:00:00Z' })))
      await at('2026-03-02T10:59:00Z')
      expect(await derived('cart.abandoned')).toEqual([])
      await at('2026-03-02T11:00:30Z')
      await at('2026-03-02T11:30:00Z')
      await at('2026-03-02T12:30:00Z')
      const [first, ...rest] = await derived('cart.abandoned')
      expect(rest).toEqual([])
      expect(first).toMatchObject({ id: 'cart.abandoned:c1:2026-03-02T10:00:00.000Z', occurred_at: '2026-03-02T11:00:00.000Z', source: 'derived' })
      expect(first!.data).toMatchObject({ id: 'c1', recovery_url: 'https://shop.example/cart/c1/recover', email: 'ada@example.com', total_price: '120.00' })
      expect(await runsOf('recover')).toEqual(['cart.abandoned:c1:2026-03-02T10:00:00.000Z'])

      await send(event('cart.updated', 'cu-2', cart('c1', { updated_at: '2026-03-02T13:00:00Z', total_price: '180.00' })))
      await at('2026-03-02T14:01:00Z')
      expect((await derived('cart.abandoned')).map((e) => e.id)).toEqual([
        'cart.abandoned:c1:2026-03-02T10:00:00.000Z',
        'cart.abandoned:c1:2026-03-02T13:00:00.000Z',
      ])
      expect(await runsOf('recover')).toHaveLength(2)
    })

    it('none when an order for the checkout, or any order of the same customer, came first; none without an email', async () => {
      await send(event('checkout.started', 'ck-1', cart('c1', { updated_at: '2026-03-02T10:00:00Z', customer: { id: 'u1', email: 'ada@example.com' } })))
      await send(
        event(
          'checkout.started',
          'ck-2',
          cart('c2', { updated_at: '2026-03-02T10:00:00Z', email: 'bob@example.com', customer: { id: 'u2', email: 'bob@example.com' } }),
        ),
      )
      await send(event('checkout.started', 'ck-3', cart('c3', { updated_at: '2026-03-02T10:00:00Z', email: null })))
      await send(
        event(
          'order.paid',
          'o-1',
          { id: '1001', currency: 'USD', total_price: '120.00', checkout_id: 'c1', customer: { id: 'u1', email: 'ada@example.com' }, line_items: [] },
          '2026-03-02T10:20:00Z',
        ),
      )
      // bob ordered through another checkout: his abandoned one is not chased
      await send(
        event(
          'order.paid',
          'o-2',
          {
            id: '1002',
            currency: 'USD',
            total_price: '10.00',
            customer: { id: 'u2', email: 'bob@example.com' },
            line_items: [],
            created_at: '2026-03-02T10:30:00Z',
          },
          '2026-03-02T10:30:00Z',
        ),
      )
      await at('2026-03-02T12:00:00Z')
      expect(await derived('cart.abandoned')).toEqual([])
    })

    it('after downtime, what fell due meanwhile falls once; what fell due more than 7 days ago does not', async () => {
      await send(event('checkout.started', 'ck-old', cart('old', { updated_at: '2026-02-20T10:00:00Z' })))
      await send(event('checkout.started', 'ck-1', cart('c1', { updated_at: '2026-03-02T10:00:00Z' })))
      // no sweep ran for two days
      await at('2026-03-04T10:00:00Z')
      await at('2026-03-04T10:05:00Z')
      expect((await derived('cart.abandoned')).map((e) => e.id)).toEqual(['cart.abandoned:c1:2026-03-02T10:00:00.000Z'])
    })

    it("follows the store's cart_abandoned_after, and stays within its store", async () => {
      const now = env.clock.now()
      await createStore(env.app.handle.db, { id: 'b', name: 'B' }, now)
      await updateSettings(env.app.handle.db, 'b', { cart_abandoned_after: '3h' })
      await scheduler.pass()
      await send(event('checkout.started', 'ck-a', cart('ca', { updated_at: '2026-03-02T10:00:00Z' })))
      await send(event('checkout.started', 'ck-b', cart('cb', { updated_at: '2026-03-02T10:00:00Z' })), 'b')
      await at('2026-03-02T12:00:00Z')
      expect((await derived('cart.abandoned')).map((e) => e.id)).toEqual(['cart.abandoned:ca:2026-03-02T10:00:00.000Z'])
      expect(await derived('cart.abandoned', 'b')).toEqual([])
      await at('2026-03-02T13:01:00Z')
      expect((await derived('cart.abandoned', 'b')).map((e) => e.id)).toEqual(['cart.abandoned:cb:2026-03-02T10:00:00.000Z'])
      expect(await derived('cart.abandoned')).toHaveLength(1)
    })
  })

  describe('customer.inactive', () => {
    const order = (id: string, when: string) =>
      event(
        'order.paid',
        `o-${id}`,
        { id, currency: 'USD', total_price: '50.00', customer: { id: 'u1', email: 'ada@example.com' }, line_items: [], created_at: when },
        when,
      )

    it('once per inactive spell: a new order starts a new one', async () => {
      await installWorkflow(env.app, ON('customer.inactive', 'win-back'))
      await send(order('1', '2026-03-02T10:00:00Z'))
      await at('2026-05-31T09:00:00Z') // 89 days and 23 hours
      expect(await derived('customer.inactive')).toEqual([])
      await at('2026-05-31T10:15:00Z')
      await at('2026-06-01T10:15:00Z')
      await at('2026-06-08T10:15:00Z')
      const first = await derived('customer.inactive')
      expect(first.map((e) => e.id)).toEqual([expect.stringMatching(/^customer\.inactive:cus_\w+:2026-03-02T10:00:00\.000Z$/)])
      expect(first[0]!.data).toMatchObject({ customer: { id: 'u1', email: 'ada@example.com' }, last_order_at: '2026-03-02T10:00:00.000Z' })
      expect(first[0]!.occurred_at).toBe('2026-05-31T10:00:00.000Z')

      await send(order('2', '2026-06-10T10:00:00Z'))
      await at('2026-09-08T10:15:00Z')
      await at('2026-09-09T10:15:00Z')
      expect((await derived('customer.inactive')).map((e) => e.id.replace(/^customer\.inactive:cus_\w+:/, ''))).toEqual([
        '2026-03-02T10:00:00.000Z',
        '2026-06-10T10:00:00.000Z',
      ])
      expect(await runsOf('win-back')).toHaveLength(2)
    })
  })

  describe('customer.birthday', () => {
    const born = (id: string, birthday: string, timezone?: string) =>
      event('customer.created', `cc-${id}`, { id, email: `${id}@example.com`, birthday, ...(timezone ? { timezone } : {}) })

    it("at 09:00 on the day in the customer's zone, once a year", async () => {
      await installWorkflow(env.app, ON('customer.birthday', 'birthday'))
      await send(born('ny', '1990-03-05', 'America/New_York'))
      await at('2026-03-05T13:50:00Z') // 08:50 in New York
      expect(await derived('customer.birthday')).toEqual([])
      await at('2026-03-05T14:00:00Z')
      await at('2026-03-05T20:00:00Z')
      await at('2026-03-06T14:00:00Z')
      const first = await derived('customer.birthday')
      expect(first.map((e) => [e.id.replace(/cus_\w+/, 'KEY'), e.occurred_at])).toEqual([['customer.birthday:KEY:2026', '2026-03-05T14:00:00.000Z']])
      expect(first[0]!.data).toMatchObject({ customer: { id: 'ny', email: 'ny@example.com', birthday: '1990-03-05' } })
      await at('2027-03-05T14:15:00Z')
      expect((await derived('customer.birthday')).map((e) => e.id.split(':').pop())).toEqual(['2026', '2027'])
      expect(await runsOf('birthday')).toHaveLength(2)
    })

    it("born on 29 February: the 28th in other years, the 29th in leap years; the store's zone when the customer has none", async () => {
      await env.app.handle.db.updateTable('stores').set({ timezone: 'Asia/Tokyo' }).where('id', '=', 'default').execute()
      await send(born('leap', '2000-02-29'))
      await at('2027-02-28T00:15:00Z') // 09:15 in Tokyo
      await at('2028-02-28T00:15:00Z')
      expect((await derived('customer.birthday')).map((e) => e.occurred_at)).toEqual(['2027-02-28T00:00:00.000Z'])
      await at('2028-02-29T00:15:00Z')
      expect((await derived('customer.birthday')).map((e) => e.occurred_at)).toEqual(['2027-02-28T00:00:00.000Z', '2028-02-29T00:00:00.000Z'])
    })

    it('more birthdays in a day than one sweep takes: the next sweep takes the rest, not the same ones again', async () => {
      const many = Array.from({ length: 1005 }, (_, i) => born(`m${String(i).padStart(4, '0')}`, '1990-03-05', 'UTC'))
      const parsed = many.map((raw) => {
        const p = parseEvent(raw, { store: 'default', now: env.clock.now() })
        if (!p.ok) throw new Error(JSON.stringify(p.issues))
        return p.event
      })
      await env.app.engine.ingest(parsed, { historical: false, source: 'test' })
      await env.app.engine.drain()
      await at('2026-03-05T09:15:00Z')
      expect(await derived('customer.birthday')).toHaveLength(1000)
      await at('2026-03-05T09:30:00Z')
      const all = await derived('customer.birthday')
      expect(all).toHaveLength(1005)
      expect(new Set(all.map((e) => e.id)).size).toBe(1005)
    })

    it('a birthday missed while nothing ran falls once when the sweep comes back, within 7 days', async () => {
      await send(born('a', '1990-03-05', 'UTC'))
      await send(born('b', '1990-02-20', 'UTC'))
      await at('2026-03-07T12:00:00Z')
      await at('2026-03-07T12:15:00Z')
      expect((await derived('customer.birthday')).map((e) => (e.data.customer as { id: string }).id)).toEqual(['a'])
    })
  })

  describe('subscription.renewal_due', () => {
    const subscription = (id: string, eventId: string, next: string, status = 'active') =>
      event('subscription.created', eventId, {
        id,
        customer: { id: 'u1', email: 'ada@example.com' },
        plan: 'coffee-monthly',
        price: '19.00',
        interval: 'month',
        next_renewal_at: next,
        status,
      })

    it('renewal_notice before next_renewal_at, once per renewal date; not for a cancelled subscription', async () => {
      await installWorkflow(env.app, ON('subscription.renewal_due', 'renewal'))
      await send(subscription('s1', 'sub-1', '2026-03-20T00:00:00Z'))
      await send(subscription('s2', 'sub-2', '2026-03-20T00:00:00Z', 'cancelled'))
      await at('2026-03-12T23:50:00Z')
      expect(await derived('subscription.renewal_due')).toEqual([])
      await at('2026-03-13T00:15:00Z')
      await at('2026-03-14T00:15:00Z')
      const first = await derived('subscription.renewal_due')
      expect(first.map((e) => [e.id, e.occurred_at])).toEqual([['subscription.renewal_due:s1:2026-03-20T00:00:00.000Z', '2026-03-13T00:00:00.000Z']])
      expect(first[0]!.data).toMatchObject({ id: 's1', plan: 'coffee-monthly', price: '19.00', customer: { id: 'u1' } })

      const renewed = { ...subscription('s1', 'sub-1-renewed', '2026-04-20T00:00:00Z'), occurred_at: '2026-03-20T00:00:00.000Z' }
      await send(renewed)
      await at('2026-04-13T00:15:00Z')
      expect((await derived('subscription.renewal_due')).map((e) => e.id)).toEqual([
        'subscription.renewal_due:s1:2026-03-20T00:00:00.000Z',
        'subscription.renewal_due:s1:2026-04-20T00:00:00.000Z',
      ])
      expect(await runsOf('renewal')).toHaveLength(2)
    })

    it('a renewal due event leaves the subscription as the shop last said', async () => {
      await send(subscription('s1', 'sub-1', '2026-03-20T00:00:00Z'))
      await at('2026-03-13T00:15:00Z')
      // the shop's cancellation, sent before the notice, arrives after it
      await send({ ...subscription('s1', 'sub-1-cancel', '2026-03-20T00:00:00Z', 'cancelled'), occurred_at: '2026-03-12T12:00:00.000Z' })
      const row = await env.app.handle.db.selectFrom('subscriptions').select(['status']).where('id', '=', 's1').executeTakeFirstOrThrow()
      expect(row.status).toBe('cancelled')
    })
  })

  it('two workers sweeping at once derive each occurrence once', async () => {
    await installWorkflow(env.app, ON('cart.abandoned', 'recover'))
    const other = new Scheduler(env.app.engine, silentLogger, { everyMs: 0 })
    for (let i = 0; i < 20; i++)
      await send(event('checkout.started', `ck-${i}`, cart(`c${i}`, { updated_at: '2026-03-02T10:00:00Z', email: `shopper${i}@example.com` })))
    for (const minute of ['01', '02', '03']) {
      env.clock.set(`2026-03-02T11:${minute}:00Z`)
      await Promise.all([scheduler.pass(), other.pass(), scheduler.pass(), other.pass()])
    }
    await env.app.engine.drain()
    const ids = (await derived('cart.abandoned')).map((e) => e.id)
    expect(ids).toHaveLength(20)
    expect(new Set(ids).size).toBe(20)
    expect(await runsOf('recover')).toHaveLength(20)
  })

  it('the derived events are listed by the API like any other, in their store only', async () => {
    const { key } = await createKey(env.app.handle.db, 'default', 'read', env.clock.now())
    await send(event('checkout.started', 'ck-1', cart('c1', { updated_at: '2026-03-02T10:00:00Z' })))
    await at('2026-03-02T11:05:00Z')
    const server = await buildServer(env.app)
    try {
      const res = await server.inject({ method: 'GET', url: '/api/v1/events?type=cart.abandoned', headers: { authorization: `Bearer ${key}` } })
      expect(res.statusCode).toBe(200)
      const body = res.json() as { items: Array<{ id: string; data: { recovery_url: string } }> }
      expect(body.items.map((e) => [e.id, e.data.recovery_url])).toEqual([
        ['cart.abandoned:c1:2026-03-02T10:00:00.000Z', 'https://shop.example/cart/c1/recover'],
      ])
    } finally {
      await server.close()
    }
  })
})
