import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

const flat = (text: string) => text.replace(/\s+/g, ' ')
const PRODUCTS: Array<[sku: string, title: string, stock: number]> = [
  ['TOTE', 'Canvas Tote Bag', 12],
  ['MUG', 'Mug "Big <Blue>"', 8],
  ['SCARF', 'Linen Scarf', 5],
  ['CANDLE', 'Fig Candle', 0],
  ['LAMP', 'Brass Desk Lamp', 3],
]
const title = (sku: string) => PRODUCTS.find((p) => p[0] === sku)![1]
const person = (id: string, name: string, accepts_marketing = true) => ({ id, email: `${name.toLowerCase()}@example.com`, first_name: name, accepts_marketing })
const order = (id: string, customer: Record<string, unknown>, skus: string[], createdAt: string) => ({
  id,
  number: `#${id}`,
  currency: 'USD',
  total_price: `${skus.length * 20}.00`,
  created_at: createdAt,
  line_items: skus.map((sku) => ({ sku, title: title(sku), quantity: 1, price: '20.00' })),
  customer,
})

describe.each(DIALECTS)('template post-purchase-cross-sell on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    // the catalogue and three weeks of other customers' orders, imported as history
    const at = new Date(s.env.clock.now().getTime() - 21 * 86_400_000).toISOString()
    for (const [sku, name, stock] of PRODUCTS) {
      await s.send(
        'product.updated',
        { id: `p-${sku}`, title: name, variants: [{ id: `v-${sku}`, sku, price: '20.00', inventory_quantity: stock }] },
        { occurredAt: at, history: true },
      )
    }
    const history: Array<[string, string, string[]]> = [
      ['c2', 'Dee', ['TOTE', 'MUG']],
      ['c3', 'Eli', ['TOTE', 'MUG', 'SCARF']],
      ['c4', 'Fay', ['TOTE', 'CANDLE']],
      ['c5', 'Gus', ['LAMP']],
      ['c6', 'Hal', ['LAMP']],
    ]
    for (const [i, [id, name, skus]] of history.entries())
      await s.send('order.paid', order(`90${i}`, person(id, name), skus, at), { occurredAt: at, history: true })
    await s.install('post-purchase-cross-sell')
  })
  afterEach(async () => {
    await s.close()
  })

  it('a week after the order: what others bought with it, best first, then what sells; not what they have or what is out of stock', async () => {
    await s.send('order.paid', order('1001', person('c1', 'Ada'), ['TOTE'], s.env.clock.now().toISOString()))
    await s.advance('6d', { step: '3d' })
    expect(s.newMail()).toEqual([])

    await s.advance('1d', { step: null })
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(mail!.to).toBe('ada@example.com')
    expect(mail!.subject).toBe('Picked for you, Ada')
    // bought with the tote by 2 of 3, then 1 of 3 (the candle is sold out); then the best seller
    const expected = ['MUG', 'SCARF', 'LAMP']
    const listed = (await s.api<{ items: Array<{ sku: string; title: string }> }>('/api/v1/customers/c1/recommendations')).items
    expect(listed.map((r) => r.sku)).toEqual(expected)
    expect(flat(mail!.text)).toContain(`Customers who bought what you did also liked: ${expected.map((sku) => `* ${title(sku)}`).join(' ')}`)
    expect(mail!.html).toContain('<li>Mug &#34;Big &lt;Blue&gt;&#34;</li>')
    expect(mail!.html).not.toContain('Canvas Tote Bag')
    expect(mail!.html).not.toContain('Fig Candle')
    expect(mail!.headers.get('list')).toHaveProperty('unsubscribe')

    await s.advance('30d', { step: '10d' })
    expect(s.newMail()).toEqual([])
  })

  it('nothing for a customer without marketing consent, or for an order refunded within the week', async () => {
    await s.send('order.paid', order('1002', person('c7', 'Bo', false), ['TOTE'], s.env.clock.now().toISOString()))
    const cy = person('c8', 'Cy')
    await s.send('order.paid', order('1003', cy, ['LAMP'], s.env.clock.now().toISOString()))
    await s.advance('2d', { step: '1d' })
    await s.send('order.refunded', { ...order('1003', cy, ['LAMP'], s.env.clock.now().toISOString()), refund_amount: '20.00' })
    await s.advance('14d', { step: '7d' })
    expect(s.newMail()).toEqual([])
  })
})
