import { describe, expect, it } from 'vitest'
import { useApiEnv } from '../../test/helpers/api-env.ts'
import { DIALECTS } from '../../test/helpers/dialects.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import { Scheduler } from '../engine/scheduler.ts'
import { sweepSegments } from '../engine/segments.ts'
import { silentLogger } from '../lib/logger.ts'
import { createKey, createStore } from '../store/stores.repo.ts'

/**
 * Segments through the front door: the API, the events in the log, the runs of a workflow that
 * starts on segment.entered, and the profile's `segments` and `rfm`.
 */
describe.each(DIALECTS)('segments on %s', (dialect) => {
  const api = useApiEnv(dialect)

  const send = async (events: unknown[], headers = api.headers) => {
    const res = await api.server.inject({ method: 'POST', url: '/api/v1/events', headers, payload: { events } })
    expect(res.statusCode, res.body).toBeLessThan(300)
    await api.env.app.engine.drain()
    return res.json() as { results?: Array<{ duplicate: boolean }> }
  }
  const get = async (url: string, headers = api.headers) => {
    const res = await api.server.inject({ method: 'GET', url, headers })
    return { status: res.statusCode, body: res.json() as Record<string, any> }
  }
  const post = async (url: string, payload: unknown, headers = api.headers) => {
    const res = await api.server.inject({ method: 'POST', url, headers, payload: payload as object })
    return { status: res.statusCode, body: res.json() as Record<string, any> }
  }
  const order = (eventId: string, orderId: string, customerId: string, total: number, at: string, type = 'order.created') => ({
    id: eventId,
    type,
    store: 'default',
    occurred_at: at,
    data: { id: orderId, customer: { id: customerId, email: `${customerId}@example.com` }, currency: 'USD', total_price: total, created_at: at },
  })
  const segmentEvents = async (type: string) =>
    (await api.env.app.handle.db.selectFrom('events').select(['id', 'data', 'store_id']).where('type', '=', type).orderBy('seq').execute()).map((e) => ({
      id: e.id,
      store: e.store_id,
      data: JSON.parse(e.data) as Record<string, any>,
    }))

  it('every store has the built-in segments; they cannot be deleted', async () => {
    const { status, body } = await get('/api/v1/segments')
    expect(status).toBe(200)
    expect(body.items.map((s: { id: string }) => s.id)).toEqual(['new', 'repeat', 'high-value', 'at-risk', 'lapsed', 'vip'])
    expect(body.items[1]).toEqual({ id: 'repeat', name: 'Repeat customers', condition: 'customer.orders_count >= 2', size: 0, built_in: true })
    expect(body.items.find((s: { id: string }) => s.id === 'lapsed').condition).toContain('>= 90')
    const del = await api.server.inject({ method: 'DELETE', url: '/api/v1/segments/vip', headers: api.headers })
    expect(del.statusCode).toBe(400)
  })

  it('a segment made after its customers ordered is populated at once, each member entering once', async () => {
    await send([order('o1', 'o1', 'c1', 150, '2026-03-02T09:00:00Z'), order('o2', 'o2', 'c2', 20, '2026-03-02T09:10:00Z')])
    const created = await post('/api/v1/segments', { id: 'big', name: 'Big spenders', condition: 'customer.total_spent >= 100.0' })
    expect(created.status).toBe(201)
    expect(created.body.size).toBe(1)
    const members = await get('/api/v1/segments/big/customers')
    expect(members.body.items.map((c: { id: string }) => c.id)).toEqual(['c1'])
    expect((await segmentEvents('segment.entered')).filter((e) => e.id.startsWith('segment.entered:big:'))).toHaveLength(1)
  })

  it('POST /segments refuses a bad id or condition naming the field; a good one is listed, and deleted', async () => {
    const bad = [
      [{ id: 'Big Spenders', name: 'x', condition: 'customer.total_spent > 100.0' }, 'id'],
      [{ name: 'x', condition: 'true' }, 'id'],
      [{ id: 'repeat', name: 'x', condition: 'true' }, 'id'],
      [{ id: 'big', name: 'x', condition: 'customer.total_spent >' }, 'condition'],
      [{ id: 'big', name: 'x' }, 'condition'],
      [{ id: 'big', name: '', condition: 'true' }, 'name'],
      // a condition that gives no true or false would match no one, silently
      [{ id: 'big', name: 'x', condition: 'customer.email' }, 'condition'],
      [{ id: 'big', name: 'x', condition: 'customer.total_spent' }, 'condition'],
      [{ id: 'big', name: 'x', condition: 'customer.tags' }, 'condition'],
    ] as const
    for (const [payload, field] of bad) {
      const res = await post('/api/v1/segments', payload)
      expect(res.status, JSON.stringify(payload)).toBe(400)
      expect(res.body.error.details.field).toBe(field)
      expect(res.body.error.message).toContain(field)
    }
    expect((await post('/api/v1/segments', { id: 'big', name: 'x', condition: 'customer.email' })).body.error.message).toBe(
      'condition: must give true or false; over a customer it gives a string (e.g. customer.email != "" rather than customer.email)',
    )
    expect((await post('/api/v1/segments', { id: 'big', name: 'x', condition: 'customer.tags' })).body.error.message).toContain('it gives a list')
    // a field the store adds of its own (absent from the sample: null) and a comparison the data decides are taken
    for (const [id, condition] of [
      ['own', 'customer.vip_level == "gold"'],
      ['has-field', 'has(customer.vip_level) && customer.vip_level'],
    ] as const) {
      const res = await post('/api/v1/segments', { id, name: id, condition })
      expect(res.status, `${condition}: ${JSON.stringify(res.body)}`).toBe(201)
      expect((await api.server.inject({ method: 'DELETE', url: `/api/v1/segments/${id}`, headers: api.headers })).statusCode).toBe(204)
    }
    const created = await post('/api/v1/segments', { id: 'big', name: 'Big spenders', condition: 'customer.total_spent >= 100.0' })
    expect(created.status).toBe(201)
    expect((await post('/api/v1/segments', { id: 'big', name: 'again', condition: 'true' })).status).toBe(409)
    const list = await get('/api/v1/segments')
    expect(list.body.items.at(-1)).toEqual({ id: 'big', name: 'Big spenders', condition: 'customer.total_spent >= 100.0', size: 0, built_in: false })
    expect((await api.server.inject({ method: 'DELETE', url: '/api/v1/segments/big', headers: api.headers })).statusCode).toBe(204)
    expect((await get('/api/v1/segments/big/customers')).status).toBe(404)
    expect((await api.server.inject({ method: 'DELETE', url: '/api/v1/segments/big', headers: api.headers })).statusCode).toBe(404)
  })

  it('a segment deleted and made again under its id records its entries anew', async () => {
    await post('/api/v1/segments', { id: 'any', name: 'Anyone who ordered', condition: 'customer.orders_count >= 1' })
    await send([order('o1', 'o1', 'c1', 10, '2026-03-02T09:00:00Z')])
    expect((await get('/api/v1/customers/c1')).body.segments).toContain('any')
    expect((await api.server.inject({ method: 'DELETE', url: '/api/v1/segments/any', headers: api.headers })).statusCode).toBe(204)
    expect((await get('/api/v1/customers/c1')).body.segments).not.toContain('any')
    // made again, it finds its members at once; a refresh after that has nothing left to change
    expect((await post('/api/v1/segments', { id: 'any', name: 'Anyone again', condition: 'customer.orders_count >= 1' })).body.size).toBe(1)
    expect((await post('/api/v1/segments/refresh', {})).body).toEqual({ changes: 0 })
    const entered = (await segmentEvents('segment.entered')).filter((e) => e.data.segment.id === 'any')
    expect(entered.map((e) => [e.id.split(':').at(-1), e.data.segment.name])).toEqual([
      ['1', 'Anyone who ordered'],
      ['2', 'Anyone again'],
    ])
    expect(await segmentEvents('segment.exited')).toEqual([])
  })

  it('crossing a threshold gives one segment.entered (and one run) even when the order arrives twice; leaving gives one segment.exited', async () => {
    await post('/api/v1/segments', { id: 'big', name: 'Big spenders', condition: 'customer.total_spent >= 100.0' })
    await installWorkflow(
      api.env.app,
      `
id: welcome-big
name: Welcome big spenders
trigger: { event: segment.entered, filter: 'event.data.segment.id == "big"' }
steps:
  - action: log
    with: { message: 'big: {{ trigger.data.customer.email }}' }
`,
    )
    await send([order('o1-created', 'o1', 'c1', 60, '2026-03-02T09:00:00Z')])
    expect(await segmentEvents('segment.entered')).toEqual([
      // the first order puts c1 in the built-in `new`
      expect.objectContaining({ id: expect.stringMatching(/^segment\.entered:new:cus_\w+:1$/) }),
    ])
    const second = order('o2-created', 'o2', 'c1', 60, '2026-03-02T09:30:00Z')
    await send([second])
    await send([second]) // the same event again: a duplicate
    await send([order('o2-paid', 'o2', 'c1', 60, '2026-03-02T09:31:00Z', 'order.paid')]) // the same order again, as another event

    const entered = (await segmentEvents('segment.entered')).filter((e) => e.data.segment.id === 'big')
    expect(entered).toHaveLength(1)
    expect(entered[0]!.id).toMatch(/^segment\.entered:big:cus_\w+:1$/)
    expect(entered[0]!.data).toEqual({ segment: { id: 'big', name: 'Big spenders' }, customer: { id: 'c1', key: expect.stringMatching(/^cus_/) } })
    const runs = await get('/api/v1/runs?workflow=welcome-big')
    expect(runs.body.items).toHaveLength(1)
    expect(runs.body.items[0]).toMatchObject({ customer_id: 'c1', status: 'completed' })

    const profile = await get('/api/v1/customers/c1')
    expect(profile.body.segments).toEqual(['big', 'repeat'])
    expect((await get('/api/v1/segments')).body.items.find((s: { id: string }) => s.id === 'big').size).toBe(1)
    const members = await get('/api/v1/segments/big/customers')
    expect(members.body.items.map((c: { id: string }) => c.id)).toEqual(['c1'])
    // the second order moved c1 from `new` to `repeat`
    expect((await segmentEvents('segment.exited')).map((e) => e.id)).toEqual([expect.stringMatching(/^segment\.exited:new:cus_\w+:1$/)])

    const cancelled = order('o2-cancelled', 'o2', 'c1', 60, '2026-03-02T09:40:00Z', 'order.cancelled')
    await send([cancelled])
    await send([{ ...cancelled, id: 'o2-cancelled-again' }])
    const exited = (await segmentEvents('segment.exited')).filter((e) => e.data.segment.id === 'big')
    expect(exited.map((e) => e.id)).toEqual([expect.stringMatching(/^segment\.exited:big:cus_\w+:1$/)])
    expect((await get('/api/v1/customers/c1')).body.segments).not.toContain('big')
    expect((await get('/api/v1/segments/big/customers')).body.items).toEqual([])

    // entering again is the second entry: its own event
    await send([order('o3-created', 'o3', 'c1', 80, '2026-03-02T09:50:00Z')])
    expect((await segmentEvents('segment.entered')).filter((e) => e.data.segment.id === 'big').map((e) => e.id.split(':').at(-1))).toEqual(['1', '2'])
    expect((await get('/api/v1/runs?workflow=welcome-big')).body.items).toHaveLength(2)
  })

  it('a change derived twice (a second worker with a stale read) is recorded once; history moves membership and starts no runs', async () => {
    await post('/api/v1/segments', { id: 'big', name: 'Big spenders', condition: 'customer.total_spent >= 100.0' })
    await installWorkflow(
      api.env.app,
      `
id: welcome-big
name: Welcome big spenders
trigger: { event: segment.entered, filter: 'event.data.segment.id == "big"' }
steps:
  - action: log
    with: { message: big }
`,
    )
    await send([order('o1', 'o1', 'c1', 150, '2026-03-02T09:00:00Z')])
    // another worker that read the membership before this change derives it again
    const db = api.env.app.handle.db
    await db.updateTable('segment_members').set({ entries: 0, exited_at: '2026-03-02T09:00:00.000Z' }).where('segment_id', '=', 'big').execute()
    const { engine } = api.env.app
    await engine.storage.transaction((tx) =>
      sweepSegments(tx, 'default', api.env.clock.now(), (e) => engine.ingestInTransaction(tx, e, { historical: false, source: 'derived' })),
    )
    await engine.drain()
    expect((await segmentEvents('segment.entered')).filter((e) => e.data.segment.id === 'big')).toHaveLength(1)
    expect((await get('/api/v1/runs?workflow=welcome-big')).body.items).toHaveLength(1)

    // history: c2's past orders put them in `big`, recorded as history, starting nothing
    const res = await api.server.inject({
      method: 'POST',
      url: '/api/v1/events?history=true',
      headers: api.headers,
      payload: { events: [order('h1', 'h1', 'c2', 70, '2025-12-01T09:00:00Z'), order('h2', 'h2', 'c2', 70, '2025-12-05T09:00:00Z')] },
    })
    expect(res.statusCode, res.body).toBe(202)
    await engine.drain()
    expect((await get('/api/v1/customers/c2')).body.segments).toEqual(['big', 'repeat'])
    const historical = await db
      .selectFrom('events')
      .select(['id', 'historical', 'occurred_at'])
      .where('type', '=', 'segment.entered')
      .where('id', 'like', '%:big:%')
      .orderBy('seq')
      .execute()
    expect(historical.map((e) => e.historical)).toEqual([0, 1])
    expect(historical[1]!.occurred_at).toBe('2025-12-05T09:00:00.000Z')
    expect((await get('/api/v1/runs?workflow=welcome-big')).body.items).toHaveLength(1)
  })

  it('a tag a workflow adds moves the customer into a segment reading tags, once', async () => {
    await post('/api/v1/segments', { id: 'tagged', name: 'Tagged', condition: '"gold" in customer.tags' })
    await installWorkflow(
      api.env.app,
      `
id: tag-big
name: Tag big orders
trigger: { event: order.created }
when: 'event.data.total_price >= 100.0'
steps:
  - action: tag_customer
    with: { tags: [gold] }
`,
    )
    await installWorkflow(
      api.env.app,
      `
id: welcome-gold
name: Welcome gold
trigger: { event: segment.entered, filter: 'event.data.segment.id == "tagged"' }
steps:
  - action: log
    with: { message: gold }
`,
    )
    await send([order('o1', 'o1', 'c1', 150, '2026-03-02T09:00:00Z'), order('o2', 'o2', 'c1', 150, '2026-03-02T09:05:00Z')])
    expect((await get('/api/v1/customers/c1')).body.segments).toContain('tagged')
    expect((await segmentEvents('segment.entered')).filter((e) => e.data.segment.id === 'tagged')).toHaveLength(1)
    expect((await get('/api/v1/runs?workflow=welcome-gold')).body.items).toHaveLength(1)
  })

  it('time alone moves a customer: lapsed after inactive_after without an order, found by the sweep (POST /segments/refresh)', async () => {
    await send([order('o1', 'o1', 'c1', 40, '2026-03-02T09:00:00Z')])
    expect((await get('/api/v1/customers/c1')).body.segments).toEqual(['new'])
    api.env.clock.set('2026-06-01T10:00:00Z') // 91 days on
    const refreshed = await post('/api/v1/segments/refresh', {})
    expect(refreshed).toEqual({ status: 200, body: { changes: 2 } })
    expect((await get('/api/v1/customers/c1')).body.segments).toEqual(['lapsed'])
    expect((await segmentEvents('segment.entered')).map((e) => e.id.replace(/cus_\w+/, 'KEY'))).toEqual([
      'segment.entered:new:KEY:1',
      'segment.entered:lapsed:KEY:1',
    ])
    expect((await segmentEvents('segment.exited')).map((e) => e.id.replace(/cus_\w+/, 'KEY'))).toEqual(['segment.exited:new:KEY:1'])
    expect((await post('/api/v1/segments/refresh', {})).body).toEqual({ changes: 0 })
    // the read key may not run it
    const read = (await createKey(api.env.app.handle.db, 'default', 'read', api.env.clock.now())).key
    expect((await post('/api/v1/segments/refresh', {}, { authorization: `Bearer ${read}` })).status).toBe(403)
  })

  it("store B sees none of store A's segments or members", async () => {
    const db = api.env.app.handle.db
    await createStore(db, { id: 'shop-b' }, api.env.clock.now())
    const keyB = (await createKey(db, 'shop-b', 'admin', api.env.clock.now())).key
    const headersB = { authorization: `Bearer ${keyB}` }
    await post('/api/v1/segments', { id: 'a-only', name: 'A only', condition: 'customer.orders_count >= 1' })
    await send([order('a1', 'oa1', 'ca', 50, '2026-03-02T09:00:00Z'), order('a2', 'oa2', 'ca', 50, '2026-03-02T09:10:00Z')])
    await api.env.app.engine.storage.transaction((tx) => tx.sweepSegments('default', api.env.clock.now()))
    expect((await get('/api/v1/segments/a-only/customers')).body.items).toHaveLength(1)
    expect((await get('/api/v1/segments/repeat/customers')).body.items).toHaveLength(1)

    const listB = await get('/api/v1/segments', headersB)
    expect(listB.body.items.map((s: { id: string }) => s.id)).not.toContain('a-only')
    expect(listB.body.items.every((s: { size: number }) => s.size === 0)).toBe(true)
    expect((await get('/api/v1/segments/a-only/customers', headersB)).status).toBe(404)
    expect((await get('/api/v1/segments/repeat/customers', headersB)).body.items).toEqual([])
    expect((await api.server.inject({ method: 'DELETE', url: '/api/v1/segments/a-only', headers: headersB })).statusCode).toBe(404)
    // B may use the same id for its own segment
    expect((await post('/api/v1/segments', { id: 'a-only', name: 'B', condition: 'false' }, headersB)).status).toBe(201)
    expect((await get('/api/v1/segments/a-only/customers')).body.items).toHaveLength(1)
  })

  it('RFM by quintile on a hand-computed example, from the daily sweep', async () => {
    const day = (n: number) => new Date(Date.parse('2026-03-02T10:00:00Z') - n * 86_400_000).toISOString()
    // customer: [amount of each order], days ago of the orders (the last one is the latest)
    const plan: Array<[string, number[], number[]]> = [
      ['c1', [10], [100]],
      ['c2', [20], [90]],
      ['c3', [30], [80]],
      ['c4', [10, 10, 20], [75, 72, 70]],
      ['c5', [25, 25], [65, 60]],
      ['c6', [30, 30], [62, 60]],
      ['c7', [20, 20, 30], [50, 45, 40]],
      ['c8', [20, 30, 30], [40, 35, 30]],
      ['c9', [200, 200, 250, 250], [40, 30, 25, 20]],
      ['c10', [200, 200, 200, 200, 200], [50, 40, 30, 20, 10]],
    ]
    const events: unknown[] = [
      { id: 'c11-created', type: 'customer.created', store: 'default', occurred_at: day(5), data: { id: 'c11', email: 'c11@example.com' } },
    ]
    for (const [customer, amounts, days] of plan)
      for (const [i, amount] of amounts.entries()) events.push(order(`${customer}-${i}`, `${customer}-o${i}`, customer, amount, day(days[i]!)))
    await send(events)

    // the sweep: 03:30 the next day in the store's zone (UTC)
    // the time-based sweeps (cart.abandoned, …) tick beside it: only the segment sweep is counted
    const scheduler = new Scheduler(api.env.app.engine, silentLogger, { everyMs: 0, counts: (key) => key === 'trigger:segment.exited' })
    await scheduler.pass()
    api.env.clock.set('2026-03-03T03:30:00Z')
    expect(await scheduler.pass()).toBe(1)
    await api.env.app.engine.drain()

    // n = 10 customers with an order; score = 1 + floor(5 × (customers with a lower value) / 10)
    // recency: c5 and c6 tie (60 days): 4 lower each → 3; frequency [1,1,1,3,2,2,3,3,4,5]; monetary all distinct
    const expected: Record<string, { rfm: string; segments: string[] }> = {
      c1: { rfm: '111', segments: ['lapsed'] },
      c2: { rfm: '111', segments: ['lapsed'] },
      c3: { rfm: '212', segments: [] },
      c4: { rfm: '232', segments: ['at-risk', 'repeat'] },
      c5: { rfm: '323', segments: ['repeat'] },
      c6: { rfm: '323', segments: ['repeat'] },
      c7: { rfm: '434', segments: ['repeat'] },
      c8: { rfm: '434', segments: ['repeat'] },
      c9: { rfm: '555', segments: ['high-value', 'repeat', 'vip'] },
      c10: { rfm: '555', segments: ['high-value', 'repeat', 'vip'] },
    }
    for (const [customer, want] of Object.entries(expected)) {
      const { body } = await get(`/api/v1/customers/${customer}`)
      const [r, f, m] = want.rfm.split('').map(Number)
      expect({ customer, rfm: body.rfm, segments: body.segments }).toEqual({ customer, rfm: { r, f, m, score: want.rfm }, segments: want.segments })
    }
    expect((await get('/api/v1/customers/c11')).body).toMatchObject({ rfm: null, segments: [] })
    const vip = await get('/api/v1/segments/vip/customers')
    expect(vip.body.items.map((c: { id: string }) => c.id).sort()).toEqual(['c10', 'c9'])
    // keyset pages: one member a page, each once
    const first = await get('/api/v1/segments/repeat/customers?limit=4')
    const second = await get(`/api/v1/segments/repeat/customers?limit=4&cursor=${first.body.next_cursor}`)
    expect(second.body.next_cursor).toBeNull()
    expect([...first.body.items, ...second.body.items].map((c: { id: string }) => c.id).sort()).toEqual(['c10', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9'])
    // the sweep's entries are events, once: a second pass at the same time changes nothing
    const enteredVip = (await segmentEvents('segment.entered')).filter((e) => e.data.segment.id === 'vip')
    expect(enteredVip).toHaveLength(2)
    await api.env.app.engine.storage.transaction((tx) => tx.sweepSegments('default', api.env.clock.now()))
    expect((await segmentEvents('segment.entered')).filter((e) => e.data.segment.id === 'vip')).toHaveLength(2)
  })
})
