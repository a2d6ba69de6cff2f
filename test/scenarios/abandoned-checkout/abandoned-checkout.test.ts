import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { hasUnsubscribe, startScenario, treatedCustomer, type Scenario } from '../harness.ts'

interface Customer {
  id: string
  email: string
  first_name: string
  accepts_marketing: boolean
}

const ADA: Customer = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }

const checkout = (s: Scenario, id: string, customer: Customer, total: string) => ({
  id,
  customer,
  email: customer.email,
  currency: 'USD',
  total_price: total,
  line_items: [{ sku: 'BOOT-42', title: 'Leather Ankle Boots', quantity: 1, price: total }],
  recovery_url: `https://shop.example/checkouts/${id}/recover`,
  updated_at: s.env.clock.now().toISOString(),
})

const order = (id: string, customer: Customer, checkoutId?: string) => ({
  id,
  number: `#${id}`,
  customer,
  currency: 'USD',
  total_price: '120.00',
  financial_status: 'pending',
  line_items: [{ sku: 'BOOT-42', title: 'Leather Ankle Boots', quantity: 1, price: '120.00' }],
  ...(checkoutId ? { checkout_id: checkoutId } : {}),
})

type Code = { code: string; kind: string; value: number; usage_limit: number; customer_id: string; expires_at: string }

const DAY = 86_400_000

describe.each(DIALECTS)('template abandoned-checkout on %s', (dialect) => {
  let s: Scenario
  let ada: Customer
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('abandoned-checkout')
    ada = await treatedCustomer(s, 'abandoned-checkout', ADA)
  })
  afterEach(async () => {
    await s.close()
  })

  it('three reminders: after 1 hour, a day later with a 10% code (cart over 50), three days after that', async () => {
    await s.send('checkout.started', checkout(s, 'k1', ada, '120.00'))
    await s.advance('59m', { step: '10m' })
    expect(s.newMail()).toEqual([])

    await s.advance('1m', { step: null })
    const first = s.newMail()
    expect(first.map((m) => [m.to, m.subject])).toEqual([[ada.email, 'You left something behind']])
    expect(first[0]!.text).toContain('Hi Ada, your cart is still waiting for you.')
    expect(first[0]!.text).toContain('https://shop.example/checkouts/k1/recover')

    await s.advance('1d', { step: '6h' })
    const second = s.newMail()
    expect(second.map((m) => [m.to, m.subject])).toEqual([[ada.email, 'Here is 10% off to finish your order']])
    const { items } = await s.api<{ items: Code[] }>('/api/v1/discount-codes')
    expect(items).toHaveLength(1)
    expect(items.map((c) => [c.kind, c.value, c.usage_limit, c.customer_id, c.expires_at])).toEqual([
      ['percent', 10, 1, ada.id, new Date(s.env.clock.now().getTime() + 7 * DAY).toISOString()],
    ])
    expect(second[0]!.text).toContain(items[0]!.code)
    expect(second[0]!.text).toContain('https://shop.example/checkouts/k1/recover')

    await s.advance('3d', { step: '12h' })
    const third = s.newMail()
    expect(third.map((m) => [m.to, m.subject])).toEqual([[ada.email, 'Last chance: your cart expires soon']])
    expect(third[0]!.text).toContain('https://shop.example/checkouts/k1/recover')
    // marketing mail: one-click unsubscribe
    expect([...first, ...second, ...third].every(hasUnsubscribe)).toBe(true)
    await s.advance('30d', { step: '5d' })
    expect(s.newMail()).toEqual([])
  })

  it('an order after the first reminder ends the sequence: no second or third mail, no code', async () => {
    await s.send('checkout.started', checkout(s, 'k1', ada, '120.00'))
    await s.advance('1h', { step: null })
    expect(s.newMail().map((m) => m.subject)).toEqual(['You left something behind'])
    await s.advance('3h', { step: '1h' })
    // the shop does not say which checkout the order came from: the customer ordered, that is enough
    await s.send('order.created', order('1001', ada))
    await s.advance('10d', { step: '12h' })
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toEqual([])
  })

  it('the buyer who orders within the hour gets no reminder at all', async () => {
    await s.send('checkout.started', checkout(s, 'k1', ada, '120.00'))
    await s.advance('40m', { step: '10m' })
    await s.send('order.created', order('1001', ada, 'k1'))
    await s.advance('10d', { step: '12h' })
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toEqual([])
  })

  it('a cart of 50 or less: the second reminder comes without a code', async () => {
    await s.send('checkout.started', checkout(s, 'k2', ada, '35.00'))
    await s.advance('5d', { step: '12h' })
    const mail = s.newMail()
    expect(mail.map((m) => [m.to, m.subject])).toEqual([
      [ada.email, 'You left something behind'],
      [ada.email, 'Still thinking it over?'],
      [ada.email, 'Last chance: your cart expires soon'],
    ])
    expect(mail[1]!.text).toContain('https://shop.example/checkouts/k2/recover')
    expect(mail[1]!.text).not.toMatch(/% off|code/i)
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toEqual([])
  })

  it('a customer in the control group (the 10% holdout) gets nothing, so the reminders can be measured', async () => {
    let control: Customer | undefined
    for (let n = 1; !control; n++) {
      const candidate = { id: `h${n}`, email: `h${n}@example.com`, first_name: 'Hana', accepts_marketing: true }
      await s.send('customer.created', candidate)
      if (await s.inHoldout('abandoned-checkout', candidate.id)) control = candidate
    }
    await s.send('checkout.started', checkout(s, 'k4', control, '120.00'))
    await s.advance('6d', { step: '12h' })
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toEqual([])
  })

  it('a customer who does not accept marketing gets nothing', async () => {
    const bob = { id: 'c9', email: 'bob@example.com', first_name: 'Bob', accepts_marketing: false }
    await s.send('customer.created', bob)
    await s.send('checkout.started', checkout(s, 'k3', bob, '120.00'))
    await s.advance('10d', { step: '12h' })
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toEqual([])
  })
})
