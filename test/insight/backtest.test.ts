import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { parseEvent, type CanonicalEvent } from '../../src/contracts/events.ts'
import { generateDemo } from '../../src/services/demo-data.ts'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/dialects.ts'
import { cliEnvFor, runCli } from '../helpers/cli-run.ts'
import { rowCounts } from '../helpers/row-counts.ts'
import { startScenario, type Scenario } from '../scenarios/harness.ts'

/**
 * `storeflow backtest`: a workflow replayed over a store's stored events as if it had been active.
 * Counted outside the product: live mail at a real SMTP server, the database's rows.
 */

const DAY = 86_400_000
const template = (name: string) => readFileSync(fileURLToPath(new URL(`../../templates/workflows/${name}.yaml`, import.meta.url)), 'utf8')

/** abandoned-checkout's mails, by subject, to the step that sends them */
const ABANDONED_STEPS: Record<string, string> = {
  'You left something behind': 'reminder_1',
  'Here is 10% off to finish your order': 'reminder_2',
  'Still thinking it over?': 'reminder_2_plain',
  'Last chance: your cart expires soon': 'reminder_3',
}

const countBy = <T>(items: T[], key: (t: T) => string) => {
  const out: Record<string, number> = {}
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1
  return out
}

let scenario: Scenario | null = null
let env: TestEnv | null = null
afterEach(async () => {
  await scenario?.close()
  scenario = null
  await env?.cleanup()
  env = null
})

describe.each(DIALECTS)('backtest on %s', (dialect) => {
  it('agrees with live: a month run live, then backtested from the stored events (in one sandbox, and split in two), counts the same runs and the same mails per step; and stores and sends nothing', async () => {
    const s = await startScenario(dialect)
    scenario = s
    const start = s.env.clock.now()
    const end = new Date(start.getTime() + 30 * DAY)
    // two months of a small demo store: the first as history, the second live
    const demo = generateDemo({ customers: 100, days: 60, end, store: 'default', seed: 4242 })
    const history: CanonicalEvent[] = []
    const live: CanonicalEvent[] = []
    for (const raw of demo.events) {
      const parsed = parseEvent(raw, { store: 'default', now: end })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      ;(parsed.event.occurred_at < start.toISOString() ? history : live).push(parsed.event)
    }
    await s.env.app.services.events.ingestAll(history, { historical: true, source: 'test' })
    await s.install('abandoned-checkout')

    for (const event of live) {
      const wait = Date.parse(event.occurred_at) - s.env.clock.now().getTime()
      if (wait > 0) await s.advance(`${wait}ms`, { step: null })
      await s.send(event.type, event.data, { id: event.id, occurredAt: event.occurred_at })
    }
    const left = end.getTime() - s.env.clock.now().getTime()
    if (left > 0) await s.advance(`${left}ms`, { step: null })

    const liveMail = countBy(s.mail(), (m) => ABANDONED_STEPS[m.subject] ?? `other: ${m.subject}`)
    const liveRuns = await s.env.app.handle.db.selectFrom('runs').select('status').where('workflow_id', '=', 'abandoned-checkout').execute()
    // the month did something worth comparing: runs, reminders, exits by an order
    expect(liveRuns.length).toBeGreaterThan(5)
    expect(liveMail.reminder_1 ?? 0).toBeGreaterThan(0)
    expect(liveRuns.some((r) => r.status === 'exited')).toBe(true)

    const before = await rowCounts(s.env.app.handle)
    const inbox = s.smtp.received.length
    const report = await s.env.app.services.backtest.run('default', { id: 'abandoned-checkout' }, { since: start, until: end })

    expect(report.runs).toBe(liveRuns.length)
    expect(report.runs_by_status).toEqual(countBy(liveRuns, (r) => r.status))
    expect(report.messages_by_step).toEqual(liveMail)
    expect(report.messages_total).toBe(s.mail().length)
    expect(report.discount_codes).toBe(liveMail.reminder_2 ?? 0)
    expect(report.from).toBe(start.toISOString())
    expect(report.to).toBe(end.toISOString())

    // split by customer into two sandboxes, each in a thread of its own: the same counts
    const split = await s.env.app.services.backtest.run('default', { id: 'abandoned-checkout' }, { since: start, until: end, partitions: 2 })
    expect(split.sandboxes).toBe(2)
    expect(split.runs_by_status).toEqual(report.runs_by_status)
    expect(split.messages_by_step).toEqual(liveMail)

    // nothing of the backtest was stored in the store, nothing sent
    expect(await rowCounts(s.env.app.handle)).toEqual(before)
    expect(s.smtp.received.length).toBe(inbox)
  }, 240_000)

  it("counts the store's real marketing mail of its other workflows against the frequency cap, and values the codes", async () => {
    const s = await startScenario(dialect)
    scenario = s
    const start = s.env.clock.now()
    await s.install('welcome-voucher')
    const ann = { id: 'ann', email: 'ann@example.com', first_name: 'Ann', accepts_marketing: true }
    const bob = { id: 'bob', email: 'bob@example.com', first_name: 'Bob', accepts_marketing: true }
    await s.send('customer.created', ann)
    await s.send('customer.created', bob)
    // Ann gets a real marketing mail from welcome-voucher; Bob does not
    await s.send('newsletter.subscribed', { customer: ann })
    expect(s.newMail().map((m) => m.to)).toEqual([ann.email])
    await s.advance('30m', { step: null })
    const cart = (id: string, c: typeof ann) => ({ id, customer: c, email: c.email, currency: 'USD', total_price: '80.00', line_items: [] })
    await s.send('checkout.started', cart('k-ann', ann))
    await s.send('checkout.started', cart('k-bob', bob))
    await s.advance('1h', { step: null })

    const nudge = `
id: nudge
name: Nudge
trigger: { event: checkout.started }
steps:
  - id: code
    action: create_discount_code
    with: { amount: '5.00' }
  - id: mail
    action: send_email
    with: { subject: 'Your cart', html: '<p>Still there?</p>', category: marketing }
`
    const report = await s.env.app.services.backtest.run('default', { source: nudge, fileName: 'nudge.yaml' }, { since: start, until: s.env.clock.now() })
    expect(report.runs).toBe(2)
    expect(report.messages_by_step).toEqual({ mail: 1 })
    expect(report.customers_over_cap).toBe(1)
    expect(report.customers_over_cap_by_other_workflows).toBe(1)
    expect(report.messages_skipped).toEqual({ frequency_cap: 1 })
    expect(report.discount_codes).toBe(2)
    expect(report.discount_value).toBe(10)

    // with the cap switched off, both would get it
    await s.api('/api/v1/settings', { method: 'PUT', payload: { frequency_cap: null } })
    const uncapped = await s.env.app.services.backtest.run('default', { source: nudge, fileName: 'nudge.yaml' }, { since: start, until: s.env.clock.now() })
    expect(uncapped.messages_by_step).toEqual({ mail: 2 })
    expect(uncapped.customers_over_cap).toBe(0)
  })

  it("reads only its own store's events: another store's customers and orders never enter its backtest", async () => {
    const e = await createTestEnv(dialect)
    env = e
    const { app, clock } = e
    await app.services.stores.create({ id: 'other', name: 'Other' })
    const start = clock.now()
    const at = (h: number) => new Date(start.getTime() + h * 3_600_000).toISOString()
    const customer = (n: number) => ({ id: `c${n}`, email: `c${n}@example.com`, accepts_marketing: true })
    const events: CanonicalEvent[] = []
    const add = (store: string, id: string, type: string, h: number, data: Record<string, unknown>) => {
      const parsed = parseEvent({ id, type, store, occurred_at: at(h), data }, { store, now: new Date(at(200)) })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      events.push(parsed.event)
    }
    // default: one checkout; other: three checkouts and an order of the same customer id as default's
    add('default', 'd1', 'checkout.started', 1, {
      id: 'k1',
      customer: customer(1),
      email: 'c1@example.com',
      currency: 'USD',
      total_price: '80.00',
      line_items: [],
    })
    for (const n of [1, 2, 3])
      add('other', `o${n}`, 'checkout.started', n, {
        id: `k${n}`,
        customer: customer(n),
        email: `c${n}@example.com`,
        currency: 'USD',
        total_price: '80.00',
        line_items: [],
      })
    add('other', 'o-order', 'order.created', 2, {
      id: 'x1',
      customer: customer(1),
      email: 'c1@example.com',
      currency: 'USD',
      total_price: '300.00',
      line_items: [],
    })
    await app.services.events.ingestAll(events, { historical: true, source: 'test' })
    const report = await app.services.backtest.run(
      'default',
      { source: template('abandoned-checkout'), fileName: 'abandoned-checkout.yaml' },
      {
        since: start,
        until: new Date(at(200)),
      },
    )
    const other = await app.services.backtest.run(
      'other',
      { source: template('abandoned-checkout'), fileName: 'abandoned-checkout.yaml' },
      {
        since: start,
        until: new Date(at(200)),
      },
    )
    expect(report.runs).toBe(1)
    expect(report.events.period).toBe(1)
    // default's customer c1 did not order in default: the other store's order neither ends the run nor is revenue
    expect(report.runs_by_status.exited ?? 0).toBe(0)
    expect(report.revenue_attributed_estimate).toBe(0)
    expect(other.runs).toBe(3)
    // its four, and what its router derived from them
    expect(other.events.period).toBeGreaterThanOrEqual(4)
  })
})

describe('storeflow backtest (the command)', () => {
  it('prints the PRODUCT §7 shape with --json, split in two with --partitions 2, and names a bad --since or --partitions', async () => {
    const e = await createTestEnv('sqlite', { clock: undefined })
    env = e
    const { app } = e
    // the command's period ends now (the real clock): events of the last days
    const now = Date.now()
    const customer = { id: 'c1', email: 'c1@example.com', accepts_marketing: true }
    const raw = [
      { id: 'e1', type: 'customer.created', occurred_at: new Date(now - 5 * DAY).toISOString(), store: 'default', data: customer },
      {
        id: 'e2',
        type: 'checkout.started',
        occurred_at: new Date(now - 4 * DAY).toISOString(),
        store: 'default',
        data: { id: 'k1', customer, email: customer.email, currency: 'USD', total_price: '80.00', line_items: [] },
      },
    ]
    const events = raw.map((r) => {
      const parsed = parseEvent(r, { store: 'default', now: new Date(now) })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      return parsed.event
    })
    await app.services.events.ingestAll(events, { historical: true, source: 'test' })
    await app.services.workflows.installTemplate('default', 'abandoned-checkout')
    const cli = await cliEnvFor(e, 'sqlite')

    const ok = await runCli(['backtest', 'abandoned-checkout', '--since', '30d', '--json'], cli)
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    const report = JSON.parse(ok.stdout) as Record<string, unknown>
    for (const key of ['from', 'to', 'runs', 'messages_by_step', 'discount_codes', 'discount_value', 'revenue_attributed_estimate', 'customers_over_cap'])
      expect(report).toHaveProperty(key)
    expect(typeof report.from).toBe('string')
    expect(report.runs).toBe(1)
    expect(typeof report.messages_by_step).toBe('object')
    expect(typeof report.discount_value).toBe('number')

    // split by customer, from the built command: its sandboxes run in threads of the built JavaScript
    const split = await runCli(['backtest', 'abandoned-checkout', '--since', '30d', '--partitions', '2', '--json'], cli)
    expect(split.stderr).toBe('')
    expect(split.code).toBe(0)
    expect(JSON.parse(split.stdout)).toMatchObject({ runs: 1, sandboxes: 2 })
    const badSplit = await runCli(['backtest', 'abandoned-checkout', '--partitions', '0'], cli)
    expect(badSplit.code).not.toBe(0)
    expect(badSplit.stderr).toContain('--partitions')

    const bad = await runCli(['backtest', 'abandoned-checkout', '--since', 'ninety days'], cli)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toContain('--since')

    const missing = await runCli(['backtest', 'no-such-workflow'], cli)
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain('no-such-workflow')
  })
})
