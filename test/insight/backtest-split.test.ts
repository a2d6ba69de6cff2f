import { afterEach, describe, expect, it } from 'vitest'
import { parseEvent, type CanonicalEvent } from '../../src/contracts/events.ts'
import { backtest, type BacktestReport } from '../../src/services/backtest.ts'
import { createApp } from '../../src/main.ts'
import { openReplay, type ReplayPort } from '../../src/services/backtest-replay.ts'
import type { OpenApp } from '../../src/services/simulate.ts'
import { partitionOf } from '../../src/services/backtest-sandbox.ts'
import { createTestEnv, type TestEnv } from '../helpers/dialects.ts'

/**
 * A backtest split by customer (services/backtest.ts partitionCount) must give the report one
 * sandbox gives. Where a sandbox finds an event's customer otherwise than the store did, the
 * split could differ: it is found after the replay, and the replay is made again in one sandbox.
 */

const HOUR = 3_600_000

/** Started by any order, ended by any customer's payment: a run of no customer is reached by every customer's payment. */
const ENDED_BY_ANY_PAYMENT = `
id: wf
name: Order follow-up
trigger: { event: order.created }
exit_when:
  - event: order.paid
steps:
  - wait: 1d
  - id: hello
    action: send_email
    with: { subject: 'hi', html: '<p>hi</p>' }
`

/** the report without what is measured, and how it was computed */
const answers = (r: BacktestReport) => ({ ...r, duration_ms: 0, sandboxes: 0 })

describe('backtest split by customer', () => {
  let env: TestEnv | undefined
  afterEach(async () => {
    await env?.cleanup()
    env = undefined
  })

  it("an erased guest's order (a run of no customer in its sandbox) ended by another sandbox's customer: replayed again in one, the same report", async () => {
    env = await createTestEnv('sqlite')
    const { app, clock } = env
    const start = clock.now()
    const at = (h: number) => new Date(start.getTime() + h * HOUR).toISOString()
    const ev = (id: string, type: string, h: number, data: Record<string, unknown>): CanonicalEvent => {
      const parsed = parseEvent({ id, type, store: 'default', occurred_at: at(h), data }, { store: 'default', now: new Date(at(500)) })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      return parsed.event
    }
    const customers = Array.from({ length: 12 }, (_, n) => ({ id: `c${n}`, email: `c${n}@example.com`, accepts_marketing: true }))
    await app.services.events.ingestAll(
      customers.map((c, n) => ev(`cc${n}`, 'customer.created', 1, c)),
      { historical: true, source: 'test' },
    )
    const guestOrder = { id: 'og', email: 'guest@example.com', total_price: '10.00', currency: 'USD', line_items: [] }
    await app.services.events.ingestAll([ev('g1', 'order.created', 2, guestOrder)], { historical: true, source: 'test' })
    await app.engine.catchUp('default')
    const rows = await app.handle.db.selectFrom('customers').select(['key', 'email', 'external_id']).execute()
    const guest = rows.find((r) => r.email === 'guest@example.com')!
    // the guest's order keeps its customer key in the log; erased, nothing in it names them any more
    await app.services.privacy.eraseCustomer('default', guest.key)
    const other = rows.find((r) => r.external_id !== null && partitionOf(r.key, 2) !== partitionOf(guest.key, 2))!
    const paid = { id: 'op', customer: { id: other.external_id, email: other.email }, total_price: '5.00', currency: 'USD', line_items: [] }
    await app.services.events.ingestAll([ev('p1', 'order.paid', 3, paid)], { historical: true, source: 'test' })
    await app.engine.catchUp('default')

    const run = (partitions: number) =>
      app.services.backtest.run(
        'default',
        { source: ENDED_BY_ANY_PAYMENT, fileName: 'wf.yaml' },
        { since: new Date(at(1.5)), until: new Date(at(100)), partitions },
      )
    const one = await run(1)
    const split = await run(2)
    // the guest's run (of no customer in the sandbox) ended on the other customer's payment
    expect(one.runs_by_status).toEqual({ exited: 1 })
    expect(answers(split)).toEqual(answers(one))
    expect(split.sandboxes).toBe(1)
  })

  it('a workflow reading the catalogue (which every customer’s orders write) is not split', async () => {
    env = await createTestEnv('sqlite')
    const source = `
id: cross
name: Bought together
trigger: { event: order.paid }
steps:
  - id: mail
    action: send_email
    with: { subject: 'More', html: '{% for p in recommendations.bought_together %}{{ p.title }}{% endfor %}' }
`
    const report = await env.app.services.backtest.run(
      'default',
      { source, fileName: 'cross.yaml' },
      { since: new Date(env.clock.now().getTime() - 30 * 24 * HOUR), partitions: 2 },
    )
    expect(report.sandboxes).toBe(1)
  })

  it('names a partitions value that is not a whole number of 1 or more', async () => {
    env = await createTestEnv('sqlite')
    const since = new Date(env.clock.now().getTime() - HOUR)
    for (const partitions of [0, 2.5, Number.NaN])
      await expect(env.app.services.backtest.run('default', { source: ENDED_BY_ANY_PAYMENT, fileName: 'wf.yaml' }, { since, partitions })).rejects.toThrow(
        /partitions/,
      )
  })

  it('a sandbox failing half-way fails the backtest with its error, and every sandbox is ended, not waited for', async () => {
    env = await createTestEnv('sqlite')
    const { app, clock } = env
    const start = clock.now()
    const at = (h: number) => new Date(start.getTime() + h * HOUR).toISOString()
    const events = Array.from({ length: 12 }, (_, n) => {
      const parsed = parseEvent(
        {
          id: `o${n}`,
          type: 'order.created',
          store: 'default',
          occurred_at: at(2 + n),
          data: { id: `o${n}`, customer: { id: `c${n}`, email: `c${n}@example.com` }, total_price: '10.00', currency: 'USD', line_items: [] },
        },
        { store: 'default', now: new Date(at(500)) },
      )
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      return parsed.event
    })
    await app.services.events.ingestAll(events, { historical: true, source: 'test' })
    await app.engine.catchUp('default')
    const ended: string[] = []
    const openApp: OpenApp = (config, options) => createApp(config, options)
    // each sandbox opened for real, in this thread; the second fails on the period's events
    const openPartition = async (setup: Parameters<typeof openReplay>[0]): Promise<ReplayPort> => {
      const port = await openReplay(setup, openApp)
      return {
        history: (items) => port.history(items),
        period: (items) => (setup.share.index === 1 ? Promise.reject(new Error('sandbox 1 broke')) : port.period(items)),
        finish: () => port.finish(),
        close: async () => {
          ended.push(`close ${setup.share.index}`)
          await port.close()
        },
        abort: async () => {
          ended.push(`abort ${setup.share.index}`)
          await port.abort()
        },
      }
    }
    const run = backtest(
      app.handle.db,
      'default',
      { source: ENDED_BY_ANY_PAYMENT, fileName: 'wf.yaml', store: null },
      { since: new Date(at(1)), until: new Date(at(100)), partitions: 2 },
      openApp,
      openPartition,
    )
    await expect(run).rejects.toThrow('sandbox 1 broke')
    expect(ended.sort()).toEqual(['abort 0', 'abort 1'])
  })
})
