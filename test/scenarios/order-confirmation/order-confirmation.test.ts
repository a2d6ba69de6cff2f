import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

const order = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  number: `#${id}`,
  currency: 'USD',
  total_price: '58.00',
  line_items: [{ sku: 'TOTE-NAT', title: 'Canvas Tote Bag', quantity: 2, price: '29.00' }],
  customer: { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: false },
  ...over,
})

describe.each(DIALECTS)('template order-confirmation on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('order-confirmation')
  })
  afterEach(async () => {
    await s.close()
  })

  it('a paid order gets one confirmation with its lines and total, even without marketing consent', async () => {
    await s.send('order.paid', order('1001'))
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(mail!.to).toBe('ada@example.com')
    expect(mail!.subject).toContain('#1001')
    expect(mail!.text).toContain('Canvas Tote Bag')
    expect(mail!.text).toContain('$58.00')
  })

  it('the same order.paid delivered twice (a webhook retried) is confirmed once', async () => {
    await s.send('order.paid', order('1001'), { id: 'paid-1001' })
    await s.send('order.paid', order('1001'), { id: 'paid-1001' })
    expect(s.newMail()).toHaveLength(1)
  })

  it('an order created but never paid gets nothing', async () => {
    await s.send('order.created', order('1002'))
    await s.advance('2d')
    expect(s.newMail()).toEqual([])
  })
})
