import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { hasUnsubscribe, openMail, startScenario, type Mail, type Scenario } from '../harness.ts'

type Code = { code: string; kind: string; value: number; usage_limit: number; customer_id: string | null; expires_at: string; workflow_id: string }

const HOUR = 3_600_000
const ADA = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }
const OFFER = 'Just for you: 15% off for 48 hours'

/** The store's other marketing: a nudge each time a customer's cart changes (one a day at most, the frequency cap) */
const CART_NUDGE = {
  id: 'cart-nudge',
  name: 'Cart nudge',
  active: true,
  trigger: { event: 'cart.updated' },
  steps: [
    {
      action: 'send_email',
      with: {
        subject: 'Still deciding? Our picks for you',
        html: '<p>Hi {{ customer.first_name | default: "there" }}, the pieces in your cart go well with these new arrivals.</p>',
      },
    },
  ],
}

const order = (id: string) => ({
  id,
  number: `#${id}`,
  customer: ADA,
  currency: 'USD',
  total_price: '40.00',
  financial_status: 'paid',
  line_items: [{ sku: 'CANDLE-FIG', title: 'Fig Candle', quantity: 1, price: '40.00' }],
})

describe.each(DIALECTS)('template offer-after-unanswered-mails on %s', (dialect) => {
  let s: Scenario
  let carts = 0
  /** one marketing mail from the cart nudge, then (unless told) a day passes */
  const nudge = async (options: { thenADay?: boolean } = {}): Promise<Mail> => {
    await s.send('cart.updated', { id: `cart-${++carts}`, customer: ADA, currency: 'USD', total_price: '40.00', line_items: [] })
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(mail!.subject).toBe('Still deciding? Our picks for you')
    if (options.thenADay !== false) await s.advance('1d', { step: '12h' })
    return mail!
  }
  const codes = async () => (await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items

  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.api('/api/v1/workflows', { method: 'POST', payload: CART_NUDGE })
    await s.install('offer-after-unanswered-mails')
    await s.send('customer.created', ADA)
  })
  afterEach(async () => {
    await s.close()
  })

  it('opening a mail after 5 marketing mails without an order brings a 15% code for 48 hours, the next day', async () => {
    const mails: Mail[] = []
    for (let i = 0; i < 4; i++) mails.push(await nudge())
    // four mails: opening them brings nothing
    await openMail(s, mails[3]!)
    await s.advance('2d', { step: '12h' })
    expect(s.newMail()).toEqual([])

    // the fifth, opened within the hour
    const fifth = await nudge({ thenADay: false })
    await s.advance('40m', { step: null })
    await openMail(s, fifth)
    await s.advance('23h', { step: '6h' })
    expect(s.newMail()).toEqual([])
    await s.advance('1h', { step: null })
    const [offer, ...more] = s.newMail()
    expect(more).toEqual([])
    expect([offer!.to, offer!.subject]).toEqual([ADA.email, OFFER])
    expect(hasUnsubscribe(offer!)).toBe(true)
    const items = await codes()
    expect(items.map((c) => [c.kind, c.value, c.usage_limit, c.customer_id, c.workflow_id, c.expires_at])).toEqual([
      ['percent', 15, 1, ADA.id, 'offer-after-unanswered-mails', new Date(s.env.clock.now().getTime() + 48 * HOUR).toISOString()],
    ])
    expect(offer!.text).toContain(`Code ${items[0]!.code} takes 15% off everything`)

    // more mails opened within the window: no second offer
    await s.advance('1d', { step: '12h' })
    await openMail(s, await nudge())
    await s.advance('5d', { step: '1d' })
    expect(s.newMail()).toEqual([])
    expect(await codes()).toHaveLength(1)
  })

  it('a customer who bought gets no offer: the count starts again from the order', async () => {
    for (let i = 0; i < 5; i++) await nudge()
    await s.send('order.created', order('1001'))
    await s.advance('1d', { step: '12h' })
    const after = await nudge()
    await openMail(s, after)
    await s.advance('3d', { step: '12h' })
    expect(s.newMail()).toEqual([])
    expect(await codes()).toEqual([])
  })

  it('an order on the day between the open and the offer: no offer', async () => {
    const mails: Mail[] = []
    for (let i = 0; i < 5; i++) mails.push(await nudge())
    await openMail(s, mails[4]!)
    await s.advance('6h', { step: '3h' })
    await s.send('order.created', order('1001'))
    await s.advance('3d', { step: '12h' })
    expect(s.newMail()).toEqual([])
    expect(await codes()).toEqual([])
  })

  it('a customer who unsubscribed gets no offer, however many mails they had', async () => {
    const mails: Mail[] = []
    for (let i = 0; i < 5; i++) mails.push(await nudge())
    await s.send('newsletter.unsubscribed', { customer: { id: ADA.id, email: ADA.email } })
    await openMail(s, mails[4]!)
    await s.advance('3d', { step: '12h' })
    expect(s.newMail()).toEqual([])
    expect(await codes()).toEqual([])
  })
})
