import { describe, expect, it } from 'vitest'
import { useApiEnv } from '../../test/helpers/api-env.ts'
import { DIALECTS } from '../../test/helpers/dialects.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import { addDays } from '../core/forecast/index.ts'
import { Engine } from '../engine/engine.ts'
import { inventoryEvent } from '../engine/inventory.ts'
import { createKey, createStore } from '../store/stores.repo.ts'

/**
 * Inventory through the front door: stock alerts as events in the log and the runs they start,
 * adjust_inventory in workflows, and GET /api/v1/inventory/forecast.
 */
describe.each(DIALECTS)('inventory on %s', (dialect) => {
  const api = useApiEnv(dialect)

  const send = async (events: unknown[], options: { headers?: { authorization: string }; history?: boolean } = {}) => {
    const url = options.history ? '/api/v1/events?history=true' : '/api/v1/events'
    const res = await api.server.inject({ method: 'POST', url, headers: options.headers ?? api.headers, payload: { events } })
    expect(res.statusCode, res.body).toBe(202)
    await api.env.app.engine.drain()
  }
  const get = async (url: string, headers = api.headers) => {
    const res = await api.server.inject({ method: 'GET', url, headers })
    return { status: res.statusCode, body: res.json() as Record<string, any> }
  }
  const put = async (url: string, payload: unknown, headers = api.headers) => {
    const res = await api.server.inject({ method: 'PUT', url, headers, payload: payload as object })
    return { status: res.statusCode, body: res.json() as Record<string, any> }
  }
  const now = () => api.env.clock.now().toISOString()
  const product = (id: string, qty: number, sku = 'MUG', store = 'default') => ({
    id,
    type: 'product.updated',
    store,
    occurred_at: now(),
    data: { id: sku === 'MUG' ? 'p1' : `p-${sku}`, title: 'Red <mug>', variants: [{ id: `v-${sku}`, sku, price: '10.00', inventory_quantity: qty }] },
  })
  const order = (id: string, qty: number, at = now(), type = 'order.paid', sku = 'MUG', store = 'default') => ({
    id: `${type}:${id}`,
    type,
    store,
    occurred_at: at,
    data: {
      id,
      currency: 'USD',
      total_price: String(qty * 10),
      created_at: at,
      customer: { id: `c-${id}`, email: `c-${id}@example.com` },
      line_items: [{ sku, product_id: 'p1', variant_id: 'v1', title: 'Red <mug>', quantity: qty, price: '10.00' }],
    },
  })
  const stockEvents = async (store = 'default') =>
    (
      await api.env.app.handle.db
        .selectFrom('events')
        .select(['id', 'type', 'data', 'historical', 'occurred_at'])
        .where('store_id', '=', store)
        .where('type', 'like', 'inventory.%')
        .where('type', '!=', 'inventory.updated')
        .orderBy('seq')
        .execute()
    ).map((e) => ({ id: e.id, historical: e.historical, occurred_at: e.occurred_at, data: JSON.parse(e.data) as Record<string, unknown> }))
  const runsOf = async (workflow: string) => (await get(`/api/v1/runs?workflow=${workflow}`)).body.items as unknown[]

  const ON_LOW = `
id: on-low
name: Tell the team
trigger: { event: inventory.low }
steps:
  - action: log
    with: { message: "low {{ event.data.sku }}" }
`
  const ON_BACK = `
id: on-back
name: Back in stock
trigger: { event: inventory.back_in_stock }
steps:
  - action: log
    with: { message: "back {{ event.data.sku }}" }
`

  it('orders and stock levels cross the reorder point: inventory.low once per crossing, out_of_stock and back_in_stock, each starting its runs once', async () => {
    await installWorkflow(api.env.app, ON_LOW)
    await installWorkflow(api.env.app, ON_BACK)
    expect((await put('/api/v1/inventory/MUG/reorder-point', { reorder_point: 10 })).body).toEqual({ sku: 'MUG', reorder_point: 10 })
    await send([product('e1', 20)])
    await send([order('o1', 5)]) // 15
    expect(await stockEvents()).toEqual([])
    api.env.clock.advance(60_000)
    await send([order('o2', 6)]) // 9: crosses below 10
    await send([order('o3', 1)]) // 8: still low, no second alert
    // the same order again (a shop's retry) moves nothing
    await send([order('o3', 1, now(), 'order.created')])
    const low = await stockEvents()
    expect(low).toEqual([
      {
        id: 'inventory.low:MUG:1',
        historical: 0,
        occurred_at: '2026-03-02T10:01:00.000Z',
        data: { sku: 'MUG', available: 9, reorder_point: 10, product_id: 'p1', title: 'Red <mug>' },
      },
    ])
    expect(await runsOf('on-low')).toHaveLength(1)

    // the shop counts 0: out of stock; then a restock: back in stock, and above the reorder point
    await send([{ id: 'inv1', type: 'inventory.updated', store: 'default', occurred_at: now(), data: { sku: 'MUG', available: 0 } }])
    api.env.clock.advance(60_000)
    await send([{ id: 'inv2', type: 'inventory.updated', store: 'default', occurred_at: now(), data: { sku: 'MUG', available: 30 } }])
    // a cancelled order gives its stock back, once
    await send([order('o3', 1, now(), 'order.cancelled')]) // 31
    await send([order('o4', 25)]) // 6: low again, the second crossing
    expect((await stockEvents()).map((e) => e.id)).toEqual([
      'inventory.low:MUG:1',
      'inventory.out_of_stock:MUG:1',
      'inventory.back_in_stock:MUG:1',
      'inventory.low:MUG:2',
    ])
    expect((await get('/api/v1/inventory/forecast?sku=MUG')).body.available).toBe(6)
    expect(await runsOf('on-low')).toHaveLength(2)
    expect(await runsOf('on-back')).toHaveLength(1)
  })

  it('history moves the alert state and records its crossings as history, at their time, starting no runs', async () => {
    await installWorkflow(api.env.app, ON_LOW)
    await put('/api/v1/inventory/MUG/reorder-point', { reorder_point: 10 })
    await send([product('e1', 12)])
    await send([{ id: 'h1', type: 'inventory.updated', store: 'default', occurred_at: '2026-01-10T09:00:00Z', data: { sku: 'MUG', available: 4 } }], {
      history: true,
    })
    expect(await stockEvents()).toEqual([
      {
        id: 'inventory.low:MUG:1',
        historical: 1,
        occurred_at: '2026-01-10T09:00:00.000Z',
        data: { sku: 'MUG', available: 4, reorder_point: 10, product_id: 'p1', title: 'Red <mug>' },
      },
    ])
    expect(await runsOf('on-low')).toHaveLength(0)
  })

  it("the forecast's reorder point comes from imported order history; a manual one wins; cancelled orders are taken off the demand", async () => {
    await send([product('e1', 40)])
    // 28 days of 2 units a day before today (2026-03-02), one order a day; one more cancelled
    const history = Array.from({ length: 28 }, (_, i) => order(`h${i}`, 2, `${addDays('2026-02-02', i)}T12:00:00Z`))
    history.push(order('hx', 50, '2026-02-10T12:00:00Z'), order('hx', 50, '2026-02-10T13:00:00Z', 'order.cancelled'))
    await send(history, { history: true })
    // history moves no stock and leaves the SKU's forecast stale; the first live order refits it
    // for today, its own 13 units included (2 a day, then a spike: a reorder point above 27)
    await send([order('live1', 13)]) // 27 left
    const low = await stockEvents()
    expect(low).toHaveLength(1)
    expect(low[0]!.data.available).toBe(27)
    expect(low[0]!.data.reorder_point as number).toBeGreaterThan(27)
    const f = await get('/api/v1/inventory/forecast?sku=MUG&as_of=2026-03-01')
    // as of yesterday: 2 a day flat, lead time 7 → reorder point 14; 21 days → 42 − 27 = 15
    expect(f.body).toMatchObject({
      sku: 'MUG',
      available: 27,
      daily_demand: 2,
      method: 'holt_winters',
      reorder_point: 14,
      suggested_quantity: 15,
      days_of_cover: 13.5,
    })
    expect(f.body.forecast).toHaveLength(28)
    expect(f.body.forecast[0]).toEqual({ date: '2026-03-02', quantity: 2 })
    // still low: no second alert
    await send([order('live2', 13)]) // 14 left
    expect(await stockEvents()).toHaveLength(1)
    // a manual reorder point wins, in the forecast too
    await put('/api/v1/inventory/MUG/reorder-point', { reorder_point: 5 })
    expect((await get('/api/v1/inventory/forecast?sku=MUG')).body.reorder_point).toBe(5)
  })

  it('a reorder point PUT for " MUG " (blanks around the SKU, as a spreadsheet exports it) is the reorder point of MUG', async () => {
    await send([product('e1', 40)])
    const set = await put('/api/v1/inventory/%20MUG%20/reorder-point', { reorder_point: 7 })
    expect(set.status).toBe(200)
    expect(set.body).toEqual({ sku: 'MUG', reorder_point: 7 })
    expect((await get('/api/v1/inventory/forecast?sku=MUG')).body.reorder_point).toBe(7)
    expect((await get('/api/v1/inventory/forecast?sku=%20MUG%20')).body.reorder_point).toBe(7)
  })

  it('a forecast from no sales, and from one day of sales: numbers, never NaN or a 500', async () => {
    await send([product('e1', 40), product('e2', 5, 'TEE')])
    const none = await get('/api/v1/inventory/forecast?sku=MUG')
    expect(none.status).toBe(200)
    expect(none.body).toMatchObject({
      sku: 'MUG',
      available: 40,
      daily_demand: 0,
      method: 'none',
      days_of_cover: null,
      reorder_point: 0,
      suggested_quantity: 0,
    })
    await send([order('o1', 3, now(), 'order.paid', 'TEE')])
    const one = await get('/api/v1/inventory/forecast?sku=TEE&horizon=1&lead_time_days=0')
    expect(one.status, JSON.stringify(one.body)).toBe(200)
    expect(one.body).toMatchObject({ sku: 'TEE', available: 2, method: 'ses', daily_demand: 3, forecast: [{ date: '2026-03-03', quantity: 3 }] })
    const list = await get('/api/v1/inventory/forecast')
    expect(list.status).toBe(200)
    for (const f of list.body.items as Array<Record<string, unknown>>) expect(JSON.stringify(f)).not.toMatch(/NaN|null,"reorder_point":null/)
  })

  it('a stock or order quantity past 2000000000 units is a 400 naming the field; nothing of it is stored', async () => {
    for (const [event, field] of [
      [order('huge', 3_000_000_000), 'data.line_items[0].quantity'],
      [{ id: 'inv-huge', type: 'inventory.updated', data: { sku: 'MUG', location_id: 'a', available: 3_000_000_000 } }, 'data.available'],
      [
        { ...product('p-huge', 0), data: { id: 'p1', title: 'Mug', variants: [{ id: 'v1', sku: 'MUG', price: '1.00', inventory_quantity: -3_000_000_000 }] } },
        'data.variants[0].inventory_quantity',
      ],
    ] as const) {
      const res = await api.server.inject({ method: 'POST', url: '/api/v1/events', headers: api.headers, payload: event as object })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().error.message).toContain(field)
    }
    expect((await get('/api/v1/events')).body.items).toEqual([])
  })

  it('stock and demand that add up past what a column holds (two big locations, two big orders a day): every event is routed and starts its runs', async () => {
    await installWorkflow(
      api.env.app,
      `
id: on-paid
name: Thanks
trigger: { event: order.paid }
steps:
  - action: log
    with: { message: "paid {{ event.data.id }}" }
`,
    )
    await send([
      product('e1', 0),
      { id: 'inv-a', type: 'inventory.updated', store: 'default', occurred_at: now(), data: { sku: 'MUG', location_id: 'a', available: 2_000_000_000 } },
      { id: 'inv-b', type: 'inventory.updated', store: 'default', occurred_at: now(), data: { sku: 'MUG', location_id: 'b', available: 2_000_000_000 } },
    ])
    await send([order('big1', 2_000_000_000), order('big2', 2_000_000_000), order('big3', 2_000_000_000)])
    // the router would pass an event it cannot apply over after a few passes: give it them
    for (let i = 0; i < 4; i++) await api.env.app.engine.drain()
    expect(await runsOf('on-paid')).toHaveLength(3)
    const f = await get('/api/v1/inventory/forecast?sku=MUG')
    expect(f.status).toBe(200)
    expect(f.body.daily_demand).toBeGreaterThan(0)
  })

  it('adjust_inventory: once per step, the variants carry the new total, and two workers racing give one alert per crossing', async () => {
    await installWorkflow(api.env.app, ON_LOW)
    await installWorkflow(
      api.env.app,
      `
id: take
name: Take three
trigger: { event: customer.updated }
steps:
  - id: take
    action: adjust_inventory
    with: { sku: MUG, delta: -3, reason: breakage }
`,
    )
    await put('/api/v1/inventory/MUG/reorder-point', { reorder_point: 10 })
    await send([product('e1', 30)])
    // ten runs each take 3 (30 → 0), claimed by two workers at once
    const res = await api.server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: api.headers,
      payload: {
        events: Array.from({ length: 10 }, (_, i) => ({
          id: `cu${i}`,
          type: 'customer.updated',
          store: 'default',
          occurred_at: now(),
          data: { id: `k${i}`, email: `k${i}@example.com` },
        })),
      },
    })
    expect(res.statusCode).toBe(202)
    const { engine } = api.env.app
    await engine.settle()
    const other = new Engine({ storage: engine.storage, clock: api.env.clock, log: api.env.app.log, actions: api.env.app.actions })
    for (let i = 0; i < 20; i++) {
      const [a, b] = await Promise.all([engine.tick('worker-a', 3, 3), other.tick('worker-b', 3, 3)])
      if (a + b === 0) break
    }
    await engine.drain()
    const forecast = await get('/api/v1/inventory/forecast?sku=MUG')
    expect(forecast.body.available).toBe(0)
    expect((await stockEvents()).map((e) => [e.id, e.data.available])).toEqual([
      ['inventory.low:MUG:1', 9],
      ['inventory.out_of_stock:MUG:1', 0],
    ])
    expect(await runsOf('on-low')).toHaveLength(1)
    // a router or worker that read the state before the crossing derives it again: the same id, refused by the log
    const db = api.env.app.handle.db
    await db.updateTable('inventory_skus').set({ low: 0, low_count: 0, out_of_stock: 0, out_count: 0, available: 12 }).execute()
    const again = await engine.storage.transaction(async (tx) => {
      const changes = await tx.refreshInventory('default', ['MUG'], api.env.clock.now(), false)
      return Promise.all(changes.map((c) => engine.ingestInTransaction(tx, inventoryEvent(c, 'default', now()), { historical: false, source: 'derived' })))
    })
    expect(again.map((r) => [r.id, r.duplicate])).toEqual([
      ['inventory.low:MUG:1', true],
      ['inventory.out_of_stock:MUG:1', true],
    ])
    await engine.drain()
    expect(await stockEvents()).toHaveLength(2)
    expect(await runsOf('on-low')).toHaveLength(1)
    const steps = await db.selectFrom('run_steps').select(['output']).where('step_id', '=', 'take').execute()
    expect(steps.map((s) => JSON.parse(s.output!).total).sort((a: number, b: number) => a - b)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27])

    // the service retried with the same step key adjusts once
    const adjust = () =>
      engine.storage.transaction((tx) =>
        tx
          .services('default', async () => ({ id: 'x', duplicate: false }))
          .inventory.adjust({ idempotencyKey: 'run-1:step-1', sku: 'MUG', set: 50, locationId: 'back' }),
      )
    expect(await adjust()).toMatchObject({ location_id: 'back', delta: 50, available: 50, total: 50, adjusted: true })
    expect(await adjust()).toMatchObject({ total: 50, adjusted: false })
    expect((await get('/api/v1/inventory/forecast?sku=MUG')).body.available).toBe(50)
  })

  it('GET /inventory/forecast: the shape, as_of using only earlier history, the list by days of cover, 400 naming the field, 404, and store B walled off', async () => {
    await send([product('e1', 100), product('e2', 3, 'CUP')])
    const history = [
      ...Array.from({ length: 14 }, (_, i) => order(`m${i}`, 1, `${addDays('2026-02-01', i)}T12:00:00Z`)),
      ...Array.from({ length: 14 }, (_, i) => order(`c${i}`, 3, `${addDays('2026-02-01', i)}T12:00:00Z`, 'order.paid', 'CUP')),
      // after as_of: must not count
      order('late', 90, '2026-02-20T12:00:00Z'),
    ]
    await send(history, { history: true })
    const f = await get('/api/v1/inventory/forecast?sku=MUG&as_of=2026-02-14&horizon=5')
    expect(f.status).toBe(200)
    expect(Object.keys(f.body).sort()).toEqual([
      'available',
      'daily_demand',
      'days_of_cover',
      'forecast',
      'method',
      'reorder_point',
      'sku',
      'suggested_quantity',
    ])
    expect(f.body).toMatchObject({ sku: 'MUG', available: 100, daily_demand: 1, reorder_point: 7, suggested_quantity: 0, days_of_cover: 100 })
    expect(f.body.forecast.map((d: { date: string }) => d.date)).toEqual(['2026-02-15', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19'])
    // with the later spike, the forecast changes
    expect((await get('/api/v1/inventory/forecast?sku=MUG&as_of=2026-02-21')).body.daily_demand).not.toBe(1)

    const list = await get('/api/v1/inventory/forecast?as_of=2026-02-14&limit=1')
    expect(list.body.items.map((i: { sku: string }) => i.sku)).toEqual(['CUP'])
    const next = await get(`/api/v1/inventory/forecast?as_of=2026-02-14&limit=1&cursor=${list.body.next_cursor}`)
    expect(next.body.items.map((i: { sku: string }) => i.sku)).toEqual(['MUG'])
    expect(next.body.next_cursor).toBeNull()

    for (const [query, field] of [
      ['sku=MUG&as_of=2026-02-30', 'as_of'],
      ['sku=MUG&as_of=2026-13-01', 'as_of'],
      ['sku=MUG&as_of=yesterday', 'as_of'],
      ['sku=MUG&as_of=0000-01-01', 'as_of'],
      ['sku=MUG&lead_time_days=-1', 'lead_time_days'],
      ['sku=MUG&service_level=1', 'service_level'],
      ['sku=MUG&horizon=0', 'horizon'],
      ['sku=MUG&horizon=366', 'horizon'],
      ['sku=MUG&horizon=2.5', 'horizon'],
      ['sku=', 'sku'],
    ] as const) {
      const bad = await get(`/api/v1/inventory/forecast?${query}`)
      expect(bad.status, query).toBe(400)
      expect(bad.body.error.details.field, query).toBe(field)
    }
    const twice = await get('/api/v1/inventory/forecast?sku=MUG&sku=CUP')
    expect([twice.status, twice.body.error.message]).toEqual([400, 'query parameter sku is given more than once'])
    expect((await get('/api/v1/inventory/forecast?sku=NOPE')).status).toBe(404)
    expect((await put('/api/v1/inventory/MUG/reorder-point', { reorder_point: -1 })).body.error.details.field).toBe('reorder_point')

    // store B: A's SKUs are unknown to it, its list is empty, its own SKU stays its own
    const db = api.env.app.handle.db
    await createStore(db, { id: 'shop-b' }, api.env.clock.now())
    const headersB = { authorization: `Bearer ${(await createKey(db, 'shop-b', 'admin', api.env.clock.now())).key}` }
    expect((await get('/api/v1/inventory/forecast?sku=MUG', headersB)).status).toBe(404)
    expect((await get('/api/v1/inventory/forecast', headersB)).body.items).toEqual([])
    await send([product('b1', 7, 'MUG', 'shop-b')], { headers: headersB })
    expect((await get('/api/v1/inventory/forecast?sku=MUG', headersB)).body).toMatchObject({ available: 7, daily_demand: 0, method: 'none' })
    expect((await get('/api/v1/inventory/forecast?sku=MUG')).body.available).toBe(100)
  })
})
