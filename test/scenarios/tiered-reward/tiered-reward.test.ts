import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

interface Code {
  code: string
  kind: string
  value: number | null
  free_shipping: boolean
  expires_at: string | null
  usage_limit: number
  customer_id: string | null
  workflow_id: string | null
}

const flat = (text: string) => text.replace(/\s+/g, ' ')
const order = (id: string, total: string, customer: Record<string, unknown>) => ({
  id,
  number: `#${id}`,
  currency: 'USD',
  total_price: total,
  line_items: [{ sku: 'COAT-WOOL', title: 'Wool Coat', quantity: 1, price: total }],
  customer,
})
const ada = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }
const bo = { id: 'c2', email: 'bo@example.com', first_name: 'Bo', accepts_marketing: true }

describe.each(DIALECTS)('template tiered-reward on %s', (dialect) => {
  let s: Scenario
  const codes = async (customer?: string) =>
    (await s.api<{ items: Code[] }>(`/api/v1/discount-codes?workflow=tiered-reward${customer ? `&customer=${customer}` : ''}`)).items
  beforeEach(async () => {
    // the rewards of two customers' orders on one day: no frequency cap between them
    s = await startScenario(dialect)
    await s.install('tiered-reward')
  })
  afterEach(async () => {
    await s.close()
  })

  it('an order over $400 earns a 10% code with free shipping for 60 days, mailed to the buyer', async () => {
    await s.send('order.paid', order('1001', '450.00', ada))
    const [code, ...moreCodes] = await codes()
    expect(moreCodes).toEqual([])
    expect(code).toMatchObject({ kind: 'percent', value: 10, free_shipping: true, usage_limit: 1, customer_id: 'c1', workflow_id: 'tiered-reward' })
    expect(code!.code).toMatch(/^[A-Z0-9]{12}$/)
    // 60 days from Monday 2 March 2026, 10:00 UTC
    expect(code!.expires_at).toBe('2026-05-01T10:00:00.000Z')

    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(mail!.to).toBe('ada@example.com')
    expect(mail!.subject).toBe('A thank-you: 10% off and free shipping on your next order')
    expect(flat(mail!.text)).toContain('Hi Ada,')
    expect(flat(mail!.text)).toContain('Thank you for your order #1001')
    expect(flat(mail!.text)).toContain('10% off and free shipping')
    expect(flat(mail!.text)).toContain(code!.code)
    expect(flat(mail!.text)).toContain('Enter it at checkout before May 1, 2026')
    // a promotion: it carries an unsubscribe link
    expect(mail!.headers.get('list')).toHaveProperty('unsubscribe')
  })

  it('an order over $200 (and one of exactly $400) earns a 5% code without free shipping; a $150 order and one of exactly $200 earn nothing', async () => {
    await s.send('order.paid', order('1001', '150.00', ada))
    await s.send('order.paid', order('1002', '200.00', bo))
    await s.advance('1d', { step: '1d' })
    expect(await codes()).toEqual([])
    expect(s.newMail()).toEqual([])

    await s.send('order.paid', order('1003', '250.00', ada))
    await s.send('order.paid', order('1004', '400.00', bo))
    const adaCodes = await codes('c1')
    const boCodes = await codes('c2')
    expect(adaCodes).toHaveLength(1)
    expect(boCodes).toHaveLength(1)
    for (const c of [...adaCodes, ...boCodes]) expect(c).toMatchObject({ kind: 'percent', value: 5, free_shipping: false, usage_limit: 1 })

    const mails = s.newMail()
    expect(mails.map((m) => [m.to, m.subject])).toEqual([
      ['ada@example.com', 'A thank-you: 5% off your next order'],
      ['bo@example.com', 'A thank-you: 5% off your next order'],
    ])
    expect(flat(mails[0]!.text)).toContain(adaCodes[0]!.code)
    expect(flat(mails[0]!.text)).toContain('Thank you for your order #1003')
    expect(flat(mails[1]!.text)).toContain(boCodes[0]!.code)
    expect(flat(mails[0]!.text)).not.toContain('free shipping')
  })

  it('a customer who does not accept marketing gets no code and no mail, however big the order', async () => {
    await s.send('order.paid', order('1001', '900.00', { ...ada, accepts_marketing: false }))
    await s.advance('1d', { step: '1d' })
    expect(await codes()).toEqual([])
    expect(s.newMail()).toEqual([])
  })
})
