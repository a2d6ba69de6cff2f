import { afterEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

type Invoice = { number: string; status: string; total: number; currency: string; due_at: string; lines: Array<Record<string, unknown>> }

/** the plain-text part with its line wrapping undone */
const flat = (text: string) => text.replace(/\s+/g, ' ')

// the clock starts on 2026-03-02 10:00 UTC
const subscription = (over: Record<string, unknown> = {}) => ({
  id: 'sub-77',
  customer: { id: 'c7', email: 'grace@example.com', first_name: 'Grace', accepts_marketing: false },
  plan: 'Coffee Club',
  price: '24.00',
  interval: 'month',
  next_renewal_at: '2026-03-12T10:00:00Z',
  status: 'active',
  ...over,
})

describe.each(DIALECTS)('template subscription-renewal-invoice on %s', (dialect) => {
  let s: Scenario
  afterEach(async () => {
    await s.close()
  })

  it('renewal_notice (7 days) before the renewal, the customer gets one invoice for the plan, even without marketing consent', async () => {
    s = await startScenario(dialect)
    await s.install('subscription-renewal-invoice')
    await s.send('subscription.created', subscription())
    // day 2.75: still more than 7 days ahead
    await s.advance('2d18h', { step: '6h' })
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Invoice[] }>('/api/v1/invoices')).items).toEqual([])

    // day 3 (March 5): 7 days before March 12
    await s.advance('6h', { step: '15m' })
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(mail!.to).toBe('grace@example.com')
    expect(mail!.subject).toBe('Invoice INV-000001: your Coffee Club subscription renews on March 12')
    const text = flat(mail!.text)
    expect(text).toContain('Hi Grace,')
    expect(text).toContain('Your Coffee Club subscription renews on March 12, 2026. Here is invoice INV-000001 for $24.00, due by March 12, 2026.')
    expect(mail!.html).toContain('Coffee Club (month)')
    expect(mail!.html).toContain('24.00 USD')
    // the plan's line: quantity, unit price and amount as a customer reads them
    expect(text).toContain('Coffee Club (month) 1 24.00 24.00 Total 24.00 USD')

    const invoices = (await s.api<{ items: Invoice[] }>('/api/v1/invoices')).items
    expect(invoices).toHaveLength(1)
    expect(invoices[0]).toMatchObject({
      number: 'INV-000001',
      status: 'open',
      total: 24,
      currency: 'USD',
      due_at: '2026-03-12T10:00:00.000Z',
      lines: [expect.objectContaining({ description: 'Coffee Club (month)', quantity: 1, unit_price: 24, amount: 24 })],
    })

    // the rest of the period: nothing more for this renewal
    await s.advance('5d', { step: '12h' })
    expect(s.newMail()).toEqual([])

    // the shop renews it: the next renewal date gets its own invoice, 7 days before April 12
    await s.send('subscription.created', subscription({ next_renewal_at: '2026-04-12T10:00:00Z' }), { id: 'sub-77-renewed' })
    await s.advance('26d', { step: '1d' })
    const next = s.newMail()
    expect(next.map((m) => m.subject)).toEqual(['Invoice INV-000002: your Coffee Club subscription renews on April 12'])
  })

  it('the store’s renewal_notice setting moves the invoice: 3 days before', async () => {
    s = await startScenario(dialect, { settings: { renewal_notice: '3d' } })
    await s.install('subscription-renewal-invoice')
    await s.send('subscription.created', subscription())
    await s.advance('6d18h', { step: '6h' })
    expect(s.newMail()).toEqual([])
    await s.advance('6h', { step: '15m' })
    expect(s.newMail().map((m) => m.subject)).toEqual(['Invoice INV-000001: your Coffee Club subscription renews on March 12'])
  })

  it('a subscription cancelled before its notice gets no invoice', async () => {
    s = await startScenario(dialect)
    await s.install('subscription-renewal-invoice')
    await s.send('subscription.created', subscription())
    await s.advance('1d', { step: '12h' })
    await s.send('subscription.cancelled', subscription({ status: 'cancelled' }))
    await s.advance('12d', { step: '12h' })
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Invoice[] }>('/api/v1/invoices')).items).toEqual([])
  })
})
