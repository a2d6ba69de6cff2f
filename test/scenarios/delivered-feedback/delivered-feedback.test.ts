import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

const flat = (text: string) => text.replace(/\s+/g, ' ')
const customer = (id: string, name: string, accepts_marketing = true) => ({
  id,
  email: `${name.toLowerCase()}@example.com`,
  first_name: name,
  accepts_marketing,
})
const order = (id: string, buyer: Record<string, unknown>) => ({
  id,
  number: `#${id}`,
  currency: 'USD',
  total_price: '74.00',
  line_items: [
    { sku: 'TOTE-NAT', title: 'Canvas Tote Bag', quantity: 1, price: '29.00' },
    { sku: 'MUG-<B>', title: 'Mug "Big <Blue>"', quantity: 1, price: '45.00' },
  ],
  customer: buyer,
})

describe.each(DIALECTS)('template delivered-feedback on %s', (dialect) => {
  let s: Scenario
  const deliver = async (orderId: string, buyer: Record<string, unknown>) => {
    await s.send('order.paid', order(orderId, buyer))
    await s.send('order.delivered', { order_id: orderId, customer: buyer, delivered_at: s.env.clock.now().toISOString() })
  }
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('delivered-feedback')
  })
  afterEach(async () => {
    await s.close()
  })

  it('asks for feedback 30 days after delivery, naming what was bought, once', async () => {
    await deliver('1001', customer('c1', 'Ada'))
    await s.advance('29d', { step: '7d' })
    expect(s.newMail()).toEqual([])

    await s.advance('1d', { step: null })
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(mail!.to).toBe('ada@example.com')
    expect(mail!.subject).toBe('How are you getting on with your order?')
    expect(flat(mail!.text)).toContain('Hi Ada,')
    expect(flat(mail!.text)).toContain('since your order #1001 arrived')
    expect(flat(mail!.text)).toContain('what you think of Canvas Tote Bag and Mug "Big <Blue>"')
    // the product title is the shop's text: escaped in the HTML
    expect(mail!.html).toContain('<strong>Mug &#34;Big &lt;Blue&gt;&#34;</strong>')
    expect(mail!.html).not.toContain('<Blue>')
    expect(flat(mail!.text)).toContain('Just reply to this email')
    // marketing: an unsubscribe link
    expect(mail!.headers.get('list')).toHaveProperty('unsubscribe')

    await s.advance('30d', { step: '10d' })
    expect(s.newMail()).toEqual([])
  })

  it('nothing for a customer without marketing consent, or one who unsubscribed while waiting', async () => {
    await deliver('1001', customer('c1', 'Ada', false))
    await deliver('1002', customer('c2', 'Bo'))
    await s.advance('10d', { step: '5d' })
    await s.send('newsletter.unsubscribed', { customer: { id: 'c2', email: 'bo@example.com' } })
    await s.advance('25d', { step: '5d' })
    expect(s.newMail()).toEqual([])
  })

  it('nothing for an order cancelled or refunded before the 30 days are up; another order of the customer does not stop it', async () => {
    const ada = customer('c1', 'Ada')
    const bo = customer('c2', 'Bo')
    const cy = customer('c3', 'Cy')
    await deliver('1001', ada)
    await deliver('1002', bo)
    await deliver('1003', cy)
    await s.advance('12d', { step: '6d' })
    await s.send('order.refunded', { ...order('1001', ada), refund_amount: '74.00' })
    await s.send('order.cancelled', order('1002', bo))
    // Cy returns something from another order
    await s.send('order.paid', order('1009', cy))
    await s.send('order.refunded', { ...order('1009', cy), refund_amount: '29.00' })
    await s.advance('20d', { step: '10d' })
    expect(s.newMail().map((m) => [m.to, m.subject])).toEqual([['cy@example.com', 'How are you getting on with your order?']])
  })
})
