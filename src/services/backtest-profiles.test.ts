import { describe, expect, it } from 'vitest'
import { createActionRegistry } from '../actions/index.ts'
import type { CanonicalEvent } from '../contracts/events.ts'
import { parseWorkflow } from '../core/workflow/parse.ts'
import { RepeatedProfiles } from './backtest-sandbox.ts'

const ada = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }
const at = (minute: number) => `2026-03-02T10:${String(minute).padStart(2, '0')}:00.000Z`
const profile = (minute: number, data: Record<string, unknown> = ada): CanonicalEvent => ({
  id: `p${minute}`,
  type: 'customer.updated',
  occurred_at: at(minute),
  store: 'default',
  data,
})
const event = (minute: number, type: string, data: Record<string, unknown>): CanonicalEvent => ({
  id: `e${minute}`,
  type,
  occurred_at: at(minute),
  store: 'default',
  data,
})

const workflow = (action: string) =>
  parseWorkflow(
    `id: w
name: W
trigger: { event: checkout.started }
steps:
  - action: ${action}
    with: ${action === 'send_email' ? "{ subject: 'Hi', html: '<p>Hi</p>' }" : '{ tags: [x] }'}
`,
    (t) => createActionRegistry().get(t),
    'w.yaml',
  )

describe('a backtest leaves out a profile the sandbox already holds', () => {
  it('leaves out the same customer object fed again, and feeds a changed one', () => {
    const profiles = RepeatedProfiles.for(workflow('send_email'), new Set(['customer_profile']))
    expect(profiles.repeats('cus_1', profile(1))).toBe(false)
    expect(profiles.repeats('cus_1', profile(2))).toBe(true)
    // another customer's same object is theirs to be fed
    expect(profiles.repeats('cus_2', profile(3))).toBe(false)
    expect(profiles.repeats('cus_1', profile(4, { ...ada, first_name: 'Ada L.' }))).toBe(false)
    expect(profiles.repeats('cus_1', profile(5, { ...ada, first_name: 'Ada L.' }))).toBe(true)
    // no customer key: nothing is known of what it was fed
    expect(profiles.repeats(null, profile(6))).toBe(false)
    expect(profiles.repeats(null, profile(7))).toBe(false)
  })

  it('feeds the profile again after an event that may change the customer otherwise (an explicit unsubscribe)', () => {
    const profiles = RepeatedProfiles.for(workflow('send_email'), new Set(['customer_profile']))
    expect(profiles.repeats('cus_1', profile(1))).toBe(false)
    expect(profiles.repeats('cus_1', event(2, 'newsletter.unsubscribed', { customer: ada }))).toBe(false)
    // the shop's consent flag, said again after the unsubscribe, is newer than it: it must go in
    expect(profiles.repeats('cus_1', profile(3))).toBe(false)
  })

  it('an order carrying the customer counts as feeding their profile', () => {
    const profiles = RepeatedProfiles.for(workflow('send_email'), new Set(['customer_profile']))
    expect(profiles.repeats('cus_1', event(1, 'order.created', { id: 'o1', total_price: '10.00', customer: ada }))).toBe(false)
    expect(profiles.repeats('cus_1', profile(2))).toBe(true)
  })

  it('feeds every profile when the workflow may write profiles itself, or when every event is replayed', () => {
    const writes = RepeatedProfiles.for(workflow('upsert_customer'), new Set(['customer_profile']))
    expect(writes.repeats('cus_1', profile(1))).toBe(false)
    expect(writes.repeats('cus_1', profile(2))).toBe(false)
    const all = RepeatedProfiles.for(workflow('send_email'), 'all')
    expect(all.repeats('cus_1', profile(1))).toBe(false)
    expect(all.repeats('cus_1', profile(2))).toBe(false)
  })
})
