import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

const customer = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: false }
const order = (id: string) => ({
  id,
  number: `#${id}`,
  currency: 'USD',
  total_price: '58.00',
  line_items: [{ sku: 'TOTE-NAT', title: 'Canvas Tote Bag', quantity: 2, price: '29.00' }],
  customer,
})
/** the plain-text part with its line breaks and runs of spaces made single spaces */
const flat = (text: string) => text.replace(/\s+/g, ' ')
const TRACKING_URL = 'https://www.ups.com/track?tracknum=1Z999AA10123456784'
// the shop's fulfilment: the clock starts on Monday 2 March 2026, the parcel is due on Thursday
const fulfilled = (orderId: string, over: Record<string, unknown> = {}) => ({
  order_id: orderId,
  customer,
  carrier: 'UPS',
  tracking_number: '1Z999AA10123456784',
  tracking_url: TRACKING_URL,
  estimated_delivery_at: '2026-03-05',
  ...over,
})
// a carrier's tracking update names only the order
const tracking = (orderId: string, status: string, eta: string | null) => ({
  order_id: orderId,
  status,
  carrier: 'UPS',
  tracking_number: '1Z999AA10123456784',
  estimated_delivery_at: eta,
})

describe.each(DIALECTS)('template shipping-notification on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('shipping-notification')
    await s.send('order.paid', order('1001'))
  })
  afterEach(async () => {
    await s.close()
  })

  it('a shipped order gets one notice with the carrier, tracking number and link and the expected day, without marketing consent', async () => {
    await s.send('order.fulfilled', fulfilled('1001'))
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(mail!.to).toBe('ada@example.com')
    expect(mail!.subject).toBe('Your order #1001 is on its way')
    expect(flat(mail!.text)).toContain('GOOD NEWS, ADA!')
    expect(flat(mail!.text)).toContain('has shipped with UPS')
    expect(flat(mail!.text)).toContain('Tracking number: 1Z999AA10123456784')
    expect(flat(mail!.text)).toContain('Expected delivery: Thursday, March 5')
    expect(flat(mail!.text)).toContain(`Track your parcel [${TRACKING_URL}]`)
    expect(mail!.html).toMatch(/<a [^>]*href="[^"]+"[^>]*>Track your parcel<\/a>/)
    // transactional: no unsubscribe
    expect(mail!.headers.get('list')).toBeUndefined()

    // nothing more while the parcel travels as promised
    await s.advance('2d', { step: '12h' })
    await s.send('shipment.updated', tracking('1001', 'out_for_delivery', '2026-03-05T16:00:00Z'))
    await s.send('order.delivered', { order_id: '1001', delivered_at: '2026-03-05T15:00:00Z' })
    expect(s.newMail()).toEqual([])
  })

  it('an estimate moved to a later day brings a delay notice with the new and the promised day; updates that do not move the day later bring nothing', async () => {
    await s.send('order.fulfilled', fulfilled('1001'))
    expect(s.newMail()).toHaveLength(1)

    // later the same day, then earlier: not later than the Thursday the customer was told
    await s.send('shipment.updated', tracking('1001', 'in_transit', '2026-03-05T20:00:00Z'))
    await s.send('shipment.updated', tracking('1001', 'in_transit', '2026-03-04'))
    await s.send('shipment.updated', tracking('1001', 'in_transit', null))
    await s.advance('12h', { step: '12h' })
    expect(s.newMail()).toEqual([])

    // the carrier now says Friday
    await s.send('shipment.updated', tracking('1001', 'exception', '2026-03-06T17:00:00Z'))
    const [delay, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(delay!.to).toBe('ada@example.com')
    expect(delay!.subject).toBe('Your order #1001 is running late')
    expect(flat(delay!.text)).toContain('UPS now expects to deliver it on Friday, March 6 instead of Thursday, March 5')
    expect(delay!.html).toContain('Track your parcel')

    // Friday again, or Thursday: the customer was told Friday, nothing to say
    await s.send('shipment.updated', tracking('1001', 'in_transit', '2026-03-06'))
    await s.send('shipment.updated', tracking('1001', 'in_transit', '2026-03-05'))
    expect(s.newMail()).toEqual([])

    // it slips to Monday: a second notice, compared with Friday
    await s.send('shipment.updated', tracking('1001', 'in_transit', '2026-03-09'))
    const [again, ...evenMore] = s.newMail()
    expect(evenMore).toEqual([])
    expect(again!.subject).toBe('Your order #1001 is running late')
    expect(flat(again!.text)).toContain('has been delayed again')
    expect(flat(again!.text)).toContain('deliver it on Monday, March 9 instead of Friday, March 6')
  })

  it("another order's tracking update does not delay this one", async () => {
    await s.send('order.paid', order('1002'))
    await s.send('order.fulfilled', fulfilled('1001'))
    await s.send('order.fulfilled', fulfilled('1002', { estimated_delivery_at: '2026-03-10' }))
    expect(s.newMail().map((m) => m.subject)).toEqual(['Your order #1001 is on its way', 'Your order #1002 is on its way'])
    // 1002's estimate (the 10th) is no slip for 1002, and 1002's update is nothing to 1001
    await s.send('shipment.updated', tracking('1002', 'in_transit', '2026-03-09'))
    expect(s.newMail()).toEqual([])
    await s.send('shipment.updated', tracking('1002', 'in_transit', '2026-03-11'))
    const mails = s.newMail()
    expect(mails.map((m) => m.subject)).toEqual(['Your order #1002 is running late'])
    expect(flat(mails[0]!.text)).toContain('Wednesday, March 11 instead of Tuesday, March 10')
  })

  it('a delivered order gets no delay notice, whether the shop or the carrier says it arrived', async () => {
    await s.send('order.paid', order('1002'))
    await s.send('order.fulfilled', fulfilled('1001'))
    await s.send('order.fulfilled', fulfilled('1002'))
    expect(s.newMail()).toHaveLength(2)

    // 1001: the shop says delivered; 1002: the carrier's update says delivered (with a late ETA)
    await s.send('order.delivered', { order_id: '1001', delivered_at: '2026-03-04T15:00:00Z' })
    await s.send('shipment.updated', tracking('1002', 'delivered', '2026-03-06'))
    // a late, stale update after delivery
    await s.send('shipment.updated', tracking('1001', 'in_transit', '2026-03-07'))
    await s.send('shipment.updated', tracking('1002', 'in_transit', '2026-03-07'))
    await s.advance('31d', { step: '5d' })
    expect(s.newMail()).toEqual([])
    const runs = await s.api<{ items: Array<{ status: string }> }>('/api/v1/runs?workflow=shipping-notification')
    expect(runs.items.map((r) => r.status)).toEqual(['exited', 'exited'])
  })
})
