import { describe, expect, it } from 'vitest'
import { actionContext, actionEnv } from '../../../test/helpers/action-context.ts'
import { useApiEnv, type ApiEnv } from '../../../test/helpers/api-env.ts'
import { DIALECTS } from '../../../test/helpers/dialects.ts'
import { installWorkflow } from '../../../test/helpers/workflows.ts'
import { parseEvent } from '../../contracts/events.ts'
import { createKey, createStore } from '../../store/stores.repo.ts'
import { CODE_ALPHABET, newDiscountCode } from './code.ts'
import { createDiscountCode } from './create-discount-code.action.ts'

/**
 * create_discount_code through the front door: workflows run by the engine on events, codes read
 * back from GET /api/v1/discount-codes and the run's timeline, orders carrying the codes.
 */

const CODE = new RegExp(`^[${CODE_ALPHABET}]{12}$`)

type Item = {
  code: string
  kind: string
  value: number | null
  min_spend: number | null
  expires_at: string | null
  usage_limit: number
  used: number
  customer_id: string | null
  workflow_id: string
}

async function send(api: ApiEnv, type: string, id: string, data: Record<string, unknown>, store = 'default') {
  const parsed = parseEvent({ id, type, store, occurred_at: api.env.clock.now().toISOString(), data }, { store, now: api.env.clock.now() })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  const [result] = await api.env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
  await api.env.app.engine.settle()
  await api.env.app.engine.drain()
  return result!
}

const order = (id: string, customer: string, total: string, extra: Record<string, unknown> = {}) => ({
  id,
  number: id,
  currency: 'USD',
  total_price: total,
  financial_status: 'paid',
  line_items: [],
  customer: { id: customer, email: `${customer}@example.com` },
  ...extra,
})

async function codes(api: ApiEnv, query = '', key = api.admin): Promise<Item[]> {
  const res = await api.server.inject({ method: 'GET', url: `/api/v1/discount-codes${query}`, headers: { authorization: `Bearer ${key}` } })
  expect(res.statusCode, res.body).toBe(200)
  const body = res.json() as { items: Item[]; next_cursor: string | null }
  return body.items
}

async function runsOf(api: ApiEnv, workflow: string) {
  const list = (await api.server.inject({ method: 'GET', url: `/api/v1/runs?workflow=${workflow}`, headers: api.headers })).json() as {
    items: Array<{ id: string }>
  }
  const runs = []
  for (const r of list.items) runs.push((await api.server.inject({ method: 'GET', url: `/api/v1/runs/${r.id}`, headers: api.headers })).json())
  return runs as Array<{
    status: string
    customer_id: string
    steps: Array<{ id: string; type: string; status: string; output?: Record<string, unknown> }>
  }>
}

describe.each(DIALECTS)('create_discount_code on %s', (dialect) => {
  const api = useApiEnv(dialect)

  it('issues a unique, unguessable code per run that templates use and the API lists', async () => {
    await installWorkflow(
      api.env.app,
      `
id: thanks
name: Thank-you code
trigger: { event: order.paid }
steps:
  - id: code
    action: create_discount_code
    with: { percent: 10, free_shipping: true, expires_in: 7d, min_spend: 50, prefix: thanks- }
  - id: note
    action: log
    with: { message: 'your code is {{ steps.code.code }}' }
`,
    )
    for (const c of ['c1', 'c2', 'c3']) await send(api, 'order.paid', `paid-${c}`, order(`o-${c}`, c, '80.00'))

    const items = await codes(api)
    expect(items).toHaveLength(3)
    expect(new Set(items.map((i) => i.code)).size).toBe(3)
    for (const item of items) {
      expect(item.code.startsWith('THANKS-')).toBe(true)
      expect(item.code.slice('THANKS-'.length)).toMatch(CODE)
      expect(item).toMatchObject({
        kind: 'percent',
        value: 10,
        free_shipping: true,
        min_spend: 50,
        expires_at: '2026-03-09T10:00:00.000Z',
        usage_limit: 1,
        used: 0,
        workflow_id: 'thanks',
      })
    }
    expect(items.map((i) => i.customer_id).sort()).toEqual(['c1', 'c2', 'c3'])

    // the code reached the template, and is the one listed for that customer
    const runs = await runsOf(api, 'thanks')
    const c2 = runs.find((r) => r.customer_id === 'c2')!
    const [mine] = await codes(api, '?customer=c2')
    expect(c2.steps.find((s) => s.id === 'code')!.output).toMatchObject({ code: mine!.code, kind: 'percent', value: 10, usage_limit: 1 })
    expect(c2.steps.find((s) => s.id === 'note')!.output).toMatchObject({ message: `your code is ${mine!.code}` })
    expect(await codes(api, '?customer=c2@example.com')).toEqual([mine])
    expect(await codes(api, '?workflow=thanks&customer=nobody')).toEqual([])
    expect(await codes(api, '?workflow=other')).toEqual([])

    // pages: newest first, keyset cursor
    const page1 = (await api.server.inject({ method: 'GET', url: '/api/v1/discount-codes?limit=2', headers: api.headers })).json()
    expect(page1.items).toHaveLength(2)
    const page2 = (await api.server.inject({ method: 'GET', url: `/api/v1/discount-codes?limit=2&cursor=${page1.next_cursor}`, headers: api.headers })).json()
    expect(page2).toMatchObject({ next_cursor: null })
    expect([...page1.items, ...page2.items].map((i: Item) => i.code).sort()).toEqual(items.map((i) => i.code).sort())
    const bad = await api.server.inject({ method: 'GET', url: '/api/v1/discount-codes?limit=0', headers: api.headers })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.message).toMatch(/limit/)
    const twice = await api.server.inject({ method: 'GET', url: '/api/v1/discount-codes?workflow=a&workflow=b', headers: api.headers })
    expect(twice.statusCode).toBe(400)
    expect(twice.json().error.message).toContain('workflow')
    const forged = await api.server.inject({ method: 'GET', url: '/api/v1/discount-codes?cursor=not-a-cursor', headers: api.headers })
    expect(forged.statusCode).toBe(400)
  })

  it('a budget stops issuing at the cap, and the skipped step names the budget', async () => {
    await installWorkflow(
      api.env.app,
      `
id: capped-amount
name: Capped amount codes
trigger: { event: order.paid }
steps:
  - id: code
    action: create_discount_code
    with: { amount: 20, budget: 50 }
  - action: tag_customer
    with: { tags: [after-code] }
`,
    )
    await installWorkflow(
      api.env.app,
      `
id: capped-percent
name: Capped percent codes
trigger: { event: order.paid }
steps:
  - id: code
    action: create_discount_code
    with: { percent: 10, budget: '30.00' }
`,
    )
    // amount: 20 + 20 fit in 50, a third would make 60; percent: 10% of 200 (20) fits in 30, then 10% of 150 (15) would make 35
    await send(api, 'order.paid', 'p1', order('o1', 'c1', '200.00'))
    api.env.clock.advance(1000)
    await send(api, 'order.paid', 'p2', order('o2', 'c2', '150.00'))
    api.env.clock.advance(1000)
    await send(api, 'order.paid', 'p3', order('o3', 'c3', '5.00'))

    const amountCodes = await codes(api, '?workflow=capped-amount')
    expect(amountCodes.map((c) => c.customer_id).sort()).toEqual(['c1', 'c2'])
    const skipped = (await runsOf(api, 'capped-amount')).find((r) => r.customer_id === 'c3')!
    // the run goes on past the skipped step
    expect(skipped.status).toBe('completed')
    const step = skipped.steps.find((s) => s.id === 'code')!
    expect(step.status).toBe('skipped')
    expect(String(step.output!.reason)).toMatch(/^budget_exhausted: .*budget of 50\.00/)
    expect(step.output).toMatchObject({ skipped: true, budget: 50, issued: 40 })
    expect(skipped.steps.map((s) => s.status)).toEqual(['skipped', 'completed'])

    const percentCodes = await codes(api, '?workflow=capped-percent')
    // c3's 10% of 5.00 (0.50) still fits: 20.50 of 30
    expect(percentCodes.map((c) => c.customer_id).sort()).toEqual(['c1', 'c3'])
    const c2 = (await runsOf(api, 'capped-percent')).find((r) => r.customer_id === 'c2')!
    expect(c2.steps[0]).toMatchObject({ status: 'skipped' })
    expect(String(c2.steps[0]!.output!.reason)).toMatch(/budget of 30\.00/)
  })

  it('runs advanced in one batch share the budget too', async () => {
    await installWorkflow(
      api.env.app,
      `
id: batch
name: Batch
trigger: { event: order.paid }
steps:
  - id: code
    action: create_discount_code
    with: { amount: 20, budget: 50 }
`,
    )
    const events = ['c1', 'c2', 'c3', 'c4'].map((c) => {
      const parsed = parseEvent(
        { id: `paid-${c}`, type: 'order.paid', store: 'default', occurred_at: api.env.clock.now().toISOString(), data: order(`o-${c}`, c, '10.00') },
        { store: 'default', now: api.env.clock.now() },
      )
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      return parsed.event
    })
    await api.env.app.engine.ingest(events, { historical: false, source: 'test' })
    await api.env.app.engine.settle()
    await api.env.app.engine.drain()
    expect(await codes(api, '?workflow=batch')).toHaveLength(2)
    const steps = (await runsOf(api, 'batch')).map((r) => r.steps[0]!.status).sort()
    expect(steps).toEqual(['completed', 'completed', 'skipped', 'skipped'])
  })

  it('an order carrying a code counts it used once, however often its events arrive', async () => {
    await installWorkflow(
      api.env.app,
      `
id: welcome
name: Welcome code
trigger: { event: customer.created }
steps:
  - id: code
    action: create_discount_code
    with: { amount: '5.00', usage_limit: 3 }
`,
    )
    await send(api, 'customer.created', 'cc1', { id: 'c1', email: 'c1@example.com', accepts_marketing: true })
    const [issued] = await codes(api)
    const code = issued!.code
    // typed by the customer in lower case; the same event twice, then more events of the same order
    const o1 = order('o1', 'c1', '40.00', { discount_codes: [code.toLowerCase()] })
    await send(api, 'order.created', 'oc1', o1)
    expect((await send(api, 'order.created', 'oc1', o1)).duplicate).toBe(true)
    await send(api, 'order.paid', 'op1', o1)
    await send(api, 'order.paid', 'op1-again', { ...o1, discount_codes: [code, code] })
    expect((await codes(api))[0]).toMatchObject({ code, used: 1, usage_limit: 3 })
    // another order is another use; a code storeflow did not issue changes nothing
    await send(api, 'order.created', 'oc2', order('o2', 'c1', '12.00', { discount_codes: [code, 'SOMEONE-ELSES'] }))
    expect((await codes(api))[0]).toMatchObject({ code, used: 2 })
  })

  it("a second store sees none of the first store's codes, and its orders do not use them", async () => {
    await installWorkflow(
      api.env.app,
      `
id: thanks
name: Thank-you code
trigger: { event: order.paid }
steps:
  - id: code
    action: create_discount_code
    with: { percent: 15 }
`,
    )
    const db = api.env.app.handle.db
    await createStore(db, { id: 'second' }, api.env.clock.now())
    const secondKey = (await createKey(db, 'second', 'admin', api.env.clock.now())).key
    await send(api, 'order.paid', 'p1', order('o1', 'c1', '80.00'))
    const [first] = await codes(api)
    expect(first).toBeDefined()

    expect(await codes(api, '', secondKey)).toEqual([])
    expect(await codes(api, '?customer=c1', secondKey)).toEqual([])
    expect(await codes(api, '?workflow=thanks', secondKey)).toEqual([])
    // the same customer id and the first store's code in the second store's order
    await send(api, 'order.paid', 'p1', order('o1', 'c1', '80.00', { discount_codes: [first!.code] }), 'second')
    expect((await codes(api))[0]).toMatchObject({ code: first!.code, used: 0 })
    expect(await codes(api, '', secondKey)).toEqual([])
  })

  it('refuses bad input at save time, naming the field', async () => {
    const save = (withBlock: string) =>
      api.server.inject({
        method: 'POST',
        url: '/api/v1/workflows',
        headers: { ...api.headers, 'content-type': 'application/yaml' },
        payload: `id: bad\nname: Bad\ntrigger: { event: order.paid }\nsteps:\n  - action: create_discount_code\n    with: ${withBlock}\n`,
      })
    for (const [withBlock, field] of [
      ['{ percent: 10, amount: 5 }', 'amount'],
      ['{ expires_in: 7d }', 'percent'],
      ['{ percent: 150 }', 'percent'],
      ['{ amount: "-5" }', 'amount'],
      ["{ percent: 10, prefix: 'no spaces' }", 'prefix'],
      ['{ percent: 10, expires_in: soon }', 'expires_in'],
    ] as const) {
      const res = await save(withBlock)
      expect(res.statusCode, withBlock).toBe(400)
      expect(res.body, withBlock).toContain(field)
    }
    expect((await save('{ free_shipping: true }')).statusCode).toBeLessThan(300)
  })
})

describe.each(DIALECTS)('create_discount_code against the store on %s', (dialect) => {
  it('the same step tried again answers the same code; another step gets another', async () => {
    const env = await actionEnv(dialect)
    try {
      const input = createDiscountCode.input.parse({ amount: 10, budget: 15 })
      const ctx = (stepKey: string) => actionContext(input, { services: env.services, clock: env.clock, stepKey, runId: 'run_1', workflowId: 'wf' })
      const first = await createDiscountCode.run(ctx('code'))
      const again = await createDiscountCode.run(ctx('code'))
      expect(again).toEqual(first)
      // a retry is not a second issue: the budget (15) still has room for nothing more than the one code
      await expect(createDiscountCode.run(ctx('other'))).rejects.toMatchObject({ name: 'SkipStep', reason: expect.stringMatching(/budget of 15\.00/) })
      const rows = await env.env.app.handle.db.selectFrom('discount_codes').selectAll().execute()
      expect(rows.map((r) => r.code)).toEqual([first.code])
    } finally {
      await env.cleanup()
    }
  })

  it('two runs issuing at once cannot both pass the budget', async () => {
    const env = await actionEnv(dialect)
    try {
      const input = createDiscountCode.input.parse({ amount: 10, budget: 25 })
      const attempts = Array.from({ length: 6 }, (_, i) =>
        createDiscountCode.run(actionContext(input, { services: env.services, clock: env.clock, runId: `run_${i}`, stepKey: 'code', workflowId: 'wf' })).then(
          () => 'issued',
          (err: Error) => err.name,
        ),
      )
      const outcomes = await Promise.all(attempts)
      expect(outcomes.filter((o) => o === 'issued')).toHaveLength(2)
      expect(outcomes.filter((o) => o === 'SkipStep')).toHaveLength(4)
    } finally {
      await env.cleanup()
    }
  })

  it('codes are drawn at random from the unambiguous alphabet', () => {
    const many = Array.from({ length: 2000 }, () => newDiscountCode())
    expect(new Set(many).size).toBe(many.length)
    for (const c of many) expect(c).toMatch(CODE)
    expect(CODE_ALPHABET).not.toMatch(/[01IOL]/)
  })
})
