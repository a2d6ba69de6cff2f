import { CompiledQuery } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEvent, type CanonicalEvent } from '../../src/contracts/events.ts'
import { orderPaid } from '../../bench/lib/events.ts'
import { createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * The statements that route events and run steps each read what they are about, not a store's
 * whole range of a table that grows with its history. Three of them did (a customer's workflow
 * entries, the re-entry check, a customer's email-only twins): SQLite, which keeps no statistics,
 * planned them over an index or key whose only match was `store_id`, so their cost grew with every
 * order and run the store had. This routes a store's traffic (customers, carts, checkouts, orders
 * with new emails, payments, fulfilments, refunds, a workflow with a holdout, re-entry and an exit
 * goal), records every statement, and asks SQLite how it plans each one.
 *
 * SQLite only: PostgreSQL plans from the statistics it keeps (and a young table's plan says little).
 */

/** Tables that grow with a store's history: a plan must not read one by store (or workflow) alone. */
const GROWING = ['events', 'orders', 'runs', 'run_steps', 'workflow_entries', 'customers', 'carts', 'messages', 'correlations', 'attributions']

/**
 * Statements that read a store's whole range, each for a reason of its own and not per event:
 * - the RFM recompute over every customer (a store's first order, and the daily sweep).
 * (A customer merge's moves of carts, attributions and correlations were here until migration
 * 0031 gave those tables an index by customer.)
 */
const BY_DESIGN = [/^select "key", "last_order_at", "orders_count", "total_spent", "rfm" from "customers" where "store_id" = \?$/]

const WORKFLOW = `
id: buyers
name: Buyers
trigger: { event: order.paid }
reentry: { per_customer: once_per, window: 1d }
holdout: 20%
exit_when:
  - event: order.refunded
steps:
  - action: tag_customer
    with: { tags: [buyer] }
  - wait: 2d
  - action: tag_customer
    with: { tags: [loyal] }
`

function readsByStoreAlone(plan: string): string | null {
  for (const table of GROWING) {
    if (new RegExp(`^SCAN ${table}\\b`).test(plan)) return `reads all of ${table}`
    if (new RegExp(`^SEARCH ${table} USING (COVERING )?(INDEX \\S+|PRIMARY KEY) \\(store_id=\\?\\)$`).test(plan))
      return `reads the store's whole range of ${table}`
    if (new RegExp(`^SEARCH ${table} USING (COVERING )?(INDEX \\S+|PRIMARY KEY) \\(store_id=\\? AND workflow_id=\\?\\)$`).test(plan))
      return `reads every row of a workflow in ${table}`
  }
  return null
}

describe('query plans of routing and running, on sqlite', () => {
  let env: TestEnv
  beforeAll(async () => {
    env = await createTestEnv('sqlite')
    await installWorkflow(env.app, WORKFLOW)
  }, 60_000)
  afterAll(async () => {
    await env?.cleanup()
  })

  const event = (raw: Record<string, unknown>): CanonicalEvent => {
    const parsed = parseEvent({ occurred_at: env.clock.now().toISOString(), ...raw }, { store: 'default', now: env.clock.now() })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    return parsed.event
  }

  it('reads no growing table by store alone', async () => {
    const statements = new Map<string, readonly unknown[]>()
    const stop = env.app.handle.watchStatements((text, parameters) => {
      if (/^\s*(select|update|delete|with)\b/i.test(text) && !statements.has(text)) statements.set(text, parameters)
    })
    const ingest = (events: CanonicalEvent[]) => env.app.engine.ingest(events, { historical: false, source: 'test' })
    for (let i = 0; i < 40; i++) {
      const customer = { id: `c${i % 15}`, email: `c${i % 15}-${i % 2}@example.com`, first_name: 'Ada' }
      await ingest([
        // an email-only customer first (a newsletter form), then the shop's id with that email
        event({ id: `news-${i}`, type: 'newsletter.subscribed', data: { customer: { email: `c${i % 15}-${i % 2}@example.com` } } }),
        event({
          id: `cart-${i}`,
          type: 'cart.updated',
          data: { id: `k${i}`, customer, currency: 'USD', total_price: '20.00', line_items: [{ sku: 'A', quantity: 1, price: '20.00' }] },
        }),
        event({ id: `checkout-${i}`, type: 'checkout.started', data: { id: `k${i}`, customer, currency: 'USD', total_price: '20.00' } }),
        event({ ...orderPaid({ eventId: `paid-${i}`, orderId: `o${i}`, customerId: `c${i % 15}`, variant: i }), occurred_at: env.clock.now().toISOString() }),
        event({ id: `created-${i}`, type: 'order.created', data: { id: `o${i}`, customer, currency: 'USD', total_price: '99.00', checkout_id: `k${i}` } }),
        event({ id: `fulfilled-${i}`, type: 'order.fulfilled', data: { order_id: `o${i}` } }),
        ...(i % 5 === 0
          ? [
              event({
                id: `refund-${i}`,
                type: 'order.refunded',
                data: { id: `o${i}`, customer, currency: 'USD', total_price: '99.00', refund_amount: '10.00' },
              }),
            ]
          : []),
      ])
      await env.app.engine.settle('test')
      env.clock.advance(6 * 3_600_000)
      while ((await env.app.engine.tick('test', 100)) > 0) {}
    }
    stop()

    const runs = await env.app.handle.db.selectFrom('runs').select('status').execute()
    // the traffic did what it is for: runs started, some waited out, some ended by the goal
    expect(runs.length).toBeGreaterThan(10)
    expect(runs.some((r) => r.status === 'completed')).toBe(true)
    expect(runs.some((r) => r.status === 'exited')).toBe(true)

    const findings: string[] = []
    for (const [text, parameters] of statements) {
      const oneLine = text.replace(/\s+/g, ' ').trim()
      if (BY_DESIGN.some((re) => re.test(oneLine))) continue
      const { rows } = await env.app.handle.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${text}`, [...parameters]))
      for (const { detail } of rows) {
        const finding = readsByStoreAlone(detail)
        if (finding) findings.push(`${finding}: ${oneLine.slice(0, 200)} (${detail})`)
      }
    }
    expect(statements.size).toBeGreaterThan(40)
    expect(findings).toEqual([])
  }, 120_000)
})
