import { describe, expect, it } from 'vitest'
import { useApiEnv } from '../../test/helpers/api-env.ts'
import { DIALECTS } from '../../test/helpers/dialects.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import { createStore } from '../store/stores.repo.ts'

/**
 * The demo store through its service, read back through the HTTP API: what a seed makes (and
 * that the same seed makes it again, another seed something else), and `live` traffic that
 * starts runs of an active workflow.
 */
describe.each(DIALECTS)('demo store on %s', (dialect) => {
  const api = useApiEnv(dialect)

  const get = async (url: string) => {
    const res = await api.server.inject({ method: 'GET', url, headers: api.headers })
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as Record<string, any>
  }
  /** the events the demo sent (not those storeflow derived from them) as the API lists them, oldest first, without when they were received */
  const allEvents = async (store: string) => {
    const key = (await api.env.app.services.keys.create(store, 'admin')).key
    const items: Array<Record<string, any>> = []
    let cursor = ''
    do {
      const res = await api.server.inject({
        method: 'GET',
        url: `/api/v1/events?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        headers: { authorization: `Bearer ${key}` },
      })
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json() as { items: Array<Record<string, any>>; next_cursor: string | null }
      items.push(...page.items)
      cursor = page.next_cursor ?? ''
    } while (cursor)
    return items
      .filter((e) => String(e.id).startsWith('demo-'))
      .map(({ id, type, occurred_at, historical, data }) => ({ id, type, occurred_at, historical, data }))
      .reverse()
  }
  const seed = (store: string, seed?: number) => api.env.app.services.demo.seed({ customers: 40, days: 90, store, seed, end: new Date('2026-03-02T10:00:00Z') })

  it('a seed gives the same events, ids and data, every time; another seed another store; the catalogue has suppliers, the history carts and subscriptions', async () => {
    const db = api.env.app.handle.db
    for (const id of ['twin', 'other']) await createStore(db, { id }, api.env.clock.now())

    const first = await seed('default', 7)
    const twin = await seed('twin', 7)
    const other = await seed('other', 8)
    expect(other.summary.seed).toBe(8)
    expect(first.summary).toEqual(twin.summary)
    expect(first.events.duplicates).toBe(0)

    const a = await allEvents('default')
    const b = await allEvents('twin')
    const c = await allEvents('other')
    expect(a.length).toBe(first.events.accepted)
    expect(b).toEqual(a)
    expect(a.every((e) => e.historical === true)).toBe(true)
    // another seed: other ids, other customers, another history
    const ids = new Set(a.map((e) => e.id))
    expect(c.filter((e) => ids.has(e.id))).toEqual([])
    const people = (events: typeof a) =>
      events
        .filter((e) => e.type === 'customer.created')
        .map((e) => e.data.email)
        .sort()
    expect(people(c)).not.toEqual(people(a))

    // what the store holds: every type a demanding user looks for
    const types = new Set(a.map((e) => e.type))
    for (const type of [
      'product.updated',
      'customer.created',
      'cart.updated',
      'checkout.started',
      'order.created',
      'order.paid',
      'order.fulfilled',
      'order.delivered',
      'inventory.updated',
      'subscription.created',
    ])
      expect(types, type).toContain(type)
    const customers = a.filter((e) => e.type === 'customer.created').map((e) => e.data)
    expect(customers.length).toBe(40)
    // some with a zone, birthday and consent, some without each
    for (const field of ['timezone', 'birthday']) expect(new Set(customers.map((cu) => typeof cu[field] === 'string')), field).toEqual(new Set([true, false]))
    expect(new Set(customers.map((cu) => cu.accepts_marketing))).toEqual(new Set([true, false]))
    // repeat buyers
    const ordersPer = new Map<string, number>()
    for (const e of a.filter((x) => x.type === 'order.created')) ordersPer.set(e.data.customer.id, (ordersPer.get(e.data.customer.id) ?? 0) + 1)
    expect([...ordersPer.values()].filter((n) => n > 1).length).toBe(first.summary.repeat_customers)
    expect(first.summary.repeat_customers).toBeGreaterThan(0)
    // checkouts that became orders, and carts no order followed
    const ordered = new Set(a.filter((e) => e.type === 'order.created').map((e) => e.data.checkout_id))
    const carts = new Set(a.filter((e) => e.type === 'cart.updated' || e.type === 'checkout.started').map((e) => e.data.id))
    expect([...carts].filter((id) => ordered.has(id)).length).toBeGreaterThan(0)
    expect([...carts].filter((id) => !ordered.has(id)).length).toBe(first.summary.abandoned_carts)
    expect(first.summary.abandoned_carts).toBeGreaterThan(0)
    // subscriptions with their next renewal after the end of the history
    const subs = a.filter((e) => e.type === 'subscription.created')
    expect(subs.length).toBe(first.summary.subscriptions)
    for (const s of subs) expect(typeof s.data.next_renewal_at).toBe('string')

    // suppliers, with lead times, covering the catalogue's SKUs
    const suppliers = (await get('/api/v1/suppliers')).items as Array<{ id: string; lead_time_days: number; skus: string[] }>
    expect(suppliers.map((s) => s.id).sort()).toEqual([...first.suppliers.created].sort())
    expect(suppliers.length).toBe(4)
    for (const s of suppliers) {
      expect(s.lead_time_days).toBeGreaterThan(0)
      expect(s.skus.length).toBeGreaterThan(0)
    }
    // stock and demand: the forecast has history to go on
    const forecast = (await get('/api/v1/inventory/forecast?as_of=2026-03-01&limit=100')).items as Array<{ sku: string; daily_demand: number }>
    expect(forecast.some((f) => f.daily_demand > 0)).toBe(true)

    // again: nothing new, the suppliers kept as they are
    const again = await seed('default', 7)
    expect(again.events).toEqual({ accepted: 0, duplicates: first.events.accepted })
    expect(again.suppliers).toEqual({ created: [], existing: first.suppliers.created })
    expect(await allEvents('default')).toEqual(a)
  })

  it('live sends N events, not historical, stamped with the clock; an active workflow starts a run for each order paid', async () => {
    const app = api.env.app
    await seed('default')
    await installWorkflow(
      app,
      `
id: paid-tag
name: Tag payers
trigger: { event: order.paid }
reentry: { per_customer: always, concurrent: true }
steps:
  - action: tag_customer
    with: { tags: [paid-live] }
`,
    )
    const started = api.env.clock.now().getTime()
    const stats = await app.services.demo.live({
      store: 'default',
      customers: 40,
      rate: 2,
      count: 60,
      // the same traffic on every run of the test
      session: 'test',
      // half a second a event, on the test's clock
      sleep: async (ms) => api.env.clock.advance(ms),
    })
    expect(stats.sent).toBe(60)
    expect(stats.duplicates).toBe(0)

    const live = (await allEvents('default')).filter((e) => !e.historical)
    expect(live.length).toBe(60)
    expect(live.map((e) => e.occurred_at)).toEqual(live.map((_, i) => new Date(started + i * 500).toISOString()))
    const counted: Record<string, number> = {}
    for (const e of live) counted[e.type] = (counted[e.type] ?? 0) + 1
    expect(counted).toEqual(stats.by_type)
    for (const type of ['cart.updated', 'checkout.started', 'order.created', 'order.paid']) expect(counted[type], type).toBeGreaterThan(0)

    await app.engine.drain()
    const runs = (await get('/api/v1/runs?workflow=paid-tag&limit=500')).items as Array<{ id: string }>
    expect(runs.length).toBe(counted['order.paid'])

    // a second session on the same clock sends events of its own
    const more = await app.services.demo.live({ store: 'default', customers: 40, rate: 1000, count: 5, sleep: async () => {} })
    expect(more.session).not.toBe(stats.session)
    expect(more.duplicates).toBe(0)
    expect((await allEvents('default')).filter((e) => !e.historical).length).toBe(65)
  })
})
