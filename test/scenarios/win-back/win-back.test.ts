import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { hasUnsubscribe, startScenario, treatedCustomer, type Scenario } from '../harness.ts'

const DAY = 86_400_000
const ADA = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }

const order = (id: string, customer: { id: string; email: string }, at: string) => ({
  id,
  number: `#${id}`,
  customer,
  currency: 'USD',
  total_price: '64.00',
  financial_status: 'paid',
  line_items: [{ sku: 'MUG-BLUE', title: 'Stoneware Mug', quantity: 2, price: '32.00' }],
  created_at: at,
})

describe.each(DIALECTS)('template win-back on %s', (dialect) => {
  let s: Scenario
  let ada: typeof ADA
  const tags = async (id: string) => (await s.api<{ tags: string[] }>(`/api/v1/customers/${id}`)).tags
  /** the customer's last order, `days` ago, as a store importing its history sends it */
  const orderedDaysAgo = async (customer: typeof ADA, days: number) => {
    const at = new Date(s.env.clock.now().getTime() - days * DAY).toISOString()
    await s.send('order.created', order('1001', customer, at), { occurredAt: at, history: true })
  }

  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('win-back')
    ada = await treatedCustomer(s, 'win-back', ADA)
  })
  afterEach(async () => {
    await s.close()
  })

  it('90 days without an order: "we miss you", a reminder 14 days later, and 30 days after that the closure notice', async () => {
    await orderedDaysAgo(ada, 89)
    await s.advance('23h', { step: '6h' })
    expect(s.newMail()).toEqual([])
    await s.advance('1h', { step: '15m' })
    const [missYou, ...more] = s.newMail()
    expect(more).toEqual([])
    expect([missYou!.to, missYou!.subject]).toEqual([ada.email, 'We miss you, Ada'])
    expect(missYou!.text.replace(/\s+/g, ' ')).toContain('Hi Ada, it has been a while since your last order.')
    expect(hasUnsubscribe(missYou!)).toBe(true)

    await s.advance('13d', { step: '1d' })
    expect(s.newMail()).toEqual([])
    await s.advance('1d', { step: '6h' })
    const [reminder, ...more2] = s.newMail()
    expect(more2).toEqual([])
    expect([reminder!.to, reminder!.subject]).toEqual([ada.email, 'Still interested?'])
    expect(hasUnsubscribe(reminder!)).toBe(true)
    expect(await tags(ada.id)).toEqual([])

    await s.advance('30d', { step: '2d' })
    const [notice, ...more3] = s.newMail()
    expect(more3).toEqual([])
    expect([notice!.to, notice!.subject]).toEqual([ada.email, 'Your account will be closed in 30 days'])
    expect(notice!.text.replace(/\s+/g, ' ')).toContain('we will close your account and delete your data in 30 days. Sign in or place an order to keep it.')
    // an account notice, not a promotion
    expect(hasUnsubscribe(notice!)).toBe(false)
    expect(await tags(ada.id)).toEqual(['closure-notice'])

    await s.advance('60d', { step: '5d' })
    expect(s.newMail()).toEqual([])
  })

  it("inactive_after is the store's: at 30 days the sequence starts after 30 days", async () => {
    await s.api('/api/v1/settings', { method: 'PUT', payload: { inactive_after: '30d' } })
    await orderedDaysAgo(ada, 29)
    await s.advance('1d', { step: '6h' })
    expect(s.newMail().map((m) => m.subject)).toEqual(['We miss you, Ada'])
  })

  it('an order during the sequence ends it: no reminder, no closure notice, no tag', async () => {
    await orderedDaysAgo(ada, 89)
    await s.advance('1d', { step: '6h' })
    expect(s.newMail().map((m) => m.subject)).toEqual(['We miss you, Ada'])
    await s.advance('5d', { step: '1d' })
    await s.send('order.created', order('1002', ada, s.env.clock.now().toISOString()))
    await s.advance('60d', { step: '5d' })
    expect(s.newMail()).toEqual([])
    expect(await tags(ada.id)).toEqual([])
  })

  it('a customer who orders regularly never hears from it', async () => {
    await orderedDaysAgo(ada, 60)
    await s.advance('20d', { step: '2d' })
    await s.send('order.created', order('1002', ada, s.env.clock.now().toISOString()))
    await s.advance('60d', { step: '2d' })
    expect(s.newMail()).toEqual([])
  })

  it('a customer without marketing consent gets none of it', async () => {
    const bob = { id: 'c9', email: 'bob@example.com', first_name: 'Bob', accepts_marketing: false }
    await s.send('customer.created', bob)
    await orderedDaysAgo(bob, 89)
    await s.advance('50d', { step: '2d' })
    expect(s.newMail()).toEqual([])
  })
})
