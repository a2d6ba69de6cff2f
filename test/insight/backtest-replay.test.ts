import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEvent, type CanonicalEvent } from '../../src/contracts/events.ts'
import { generateDemo } from '../../src/services/demo-data.ts'
import type { BacktestReport } from '../../src/services/backtest.ts'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/dialects.ts'

/**
 * `storeflow backtest` feeds its sandbox only the events that write what the workflow can read
 * (services/backtest.ts). Leaving the others out must change no answer: each workflow here,
 * backtested over a generated store, gives the same report as with every event replayed. And
 * the replay split by customer into sandboxes side by side (each in a thread of its own) must
 * give the same report as one sandbox.
 */

const DAY = 86_400_000
const template = (name: string) => readFileSync(fileURLToPath(new URL(`../../templates/workflows/${name}.yaml`, import.meta.url)), 'utf8')

const WORKFLOWS: Record<string, string> = {
  // reads the profile (consent, name) and the cart's total; ends on an order
  'abandoned-checkout': template('abandoned-checkout'),
  // reads the customer's order aggregates
  'loyal-checkout': `
id: loyal-checkout
name: Loyal customers' checkouts
trigger: { event: checkout.started }
when: 'customer.orders_count >= 2 && customer.total_spent > 150.0'
steps:
  - wait: 2h
  - if: 'customer.last_order_at != null'
    then:
      - id: thanks
        action: send_email
        with: { subject: 'Thanks, {{ customer.first_name }}', html: '<p>{{ customer.orders_count }} orders, {{ customer.total_spent }}</p>', category: marketing }
`,
  // reads the cart: whether its order converted it, and its lines
  'unconverted-cart': `
id: unconverted-cart
name: Carts not converted after a day
trigger: { event: cart.updated }
reentry: { per_customer: once_per, window: 7d }
steps:
  - wait: 1d
  - if: '!cart.converted && cart.total_price > 40.0'
    then:
      - id: nudge
        action: send_email
        with: { subject: 'Your cart', html: '<p>{% for li in cart.line_items %}{{ li.title }} {% endfor %}</p>', category: marketing }
`,
  // reads the order's fulfilment after a wait
  'delivered-check': `
id: delivered-check
name: Delivered orders
trigger: { event: order.paid }
steps:
  - wait: 4d
  - if: 'order.fulfillment_status == "delivered"'
    then:
      - id: review
        action: send_email
        with: { subject: 'How was it?', html: '<p>Order {{ order.number }}</p>', category: transactional }
    else:
      - id: late
        action: send_email
        with: { subject: 'On its way', html: '<p>Order {{ order.number }}</p>', category: transactional }
`,
}

/** the report without what is measured, and how it was computed */
const answers = (r: BacktestReport) => ({ ...r, duration_ms: 0, sandboxes: 0 })

describe.each(DIALECTS)('backtest replays only what the workflow reads, on %s', (dialect) => {
  let env: TestEnv
  let since: Date
  let until: Date
  beforeAll(async () => {
    env = await createTestEnv(dialect)
    until = env.clock.now()
    since = new Date(until.getTime() - 60 * DAY)
    const demo = generateDemo({ customers: 120, days: 120, end: until, store: 'default', seed: 99 })
    const events: CanonicalEvent[] = []
    for (const raw of demo.events) {
      const parsed = parseEvent(raw, { store: 'default', now: until })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      events.push(parsed.event)
    }
    await env.app.services.events.ingestAll(events, { historical: true, source: 'test' })
  }, 120_000)
  afterAll(async () => {
    await env?.cleanup()
  })

  for (const [name, source] of Object.entries(WORKFLOWS)) {
    it(`${name}: the same report as with every event replayed, and split by customer into three sandboxes`, async () => {
      const run = (replay: 'read' | 'all', partitions: number) =>
        env.app.services.backtest.run('default', { source, fileName: `${name}.yaml` }, { since, until, replay, partitions })
      const all = await run('all', 1)
      const read = await run('read', 1)
      const split = await run('read', 3)
      // the period did something worth comparing
      expect(all.runs).toBeGreaterThan(3)
      expect(all.messages_total).toBeGreaterThan(0)
      expect(answers(read)).toEqual(answers(all))
      // every event replayed cannot be split; what the workflow reads can, and was, but for carts
      // of no customer starting runs (a run of no customer is reached by every customer's goals)
      expect([all.sandboxes, read.sandboxes, split.sandboxes]).toEqual([1, 1, name === 'unconverted-cart' ? 1 : 3])
      expect(answers(split)).toEqual(answers(all))
    }, 120_000)
  }
})
