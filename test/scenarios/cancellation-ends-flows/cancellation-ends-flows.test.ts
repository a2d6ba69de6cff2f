import { parse } from 'yaml'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Mail, type Scenario } from '../harness.ts'

interface Run {
  workflow_id: string
  status: string
  customer_id: string | null
}

const flat = (text: string) => text.replace(/\s+/g, ' ')
const ada = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }
const bo = { id: 'c2', email: 'bo@example.com', first_name: 'Bo', accepts_marketing: true }
// the clock starts on Monday 2 March 2026, 10:00 UTC; a renewal notice is due 7 days before
const subscription = (id: string, customer: Record<string, unknown>, status = 'active') => ({
  id,
  customer,
  plan: 'Coffee Club',
  price: '24.00',
  interval: 'month',
  next_renewal_at: '2026-03-10T10:00:00Z',
  status,
})
const to = (mails: Mail[], email: string) => mails.filter((m) => m.to === email)

describe.each(DIALECTS)('template cancellation-ends-flows on %s', (dialect) => {
  let s: Scenario
  const runs = async (customer: string) =>
    (await s.api<{ items: Run[] }>(`/api/v1/runs?customer=${customer}&limit=100`)).items.map((r) => `${r.workflow_id}:${r.status}`).sort()
  beforeEach(async () => {
    s = await startScenario(dialect)
    // the flows a cancellation ends, as the library has them
    for (const t of ['cancellation-ends-flows', 'win-back', 'subscription-renewal-invoice', 'overdue-invoice-reminders']) await s.install(t)
    // win-back keeps a control group, chosen by a hash of storeflow's (random) customer key: this
    // store runs it without one, so both customers are always in it
    const { source } = await s.api<{ source: string }>('/api/v1/workflows/win-back')
    const { holdout: _holdout, ...winBack } = parse(source) as Record<string, unknown>
    await s.api('/api/v1/workflows/win-back', { method: 'PUT', payload: winBack })
    expect((await s.api<{ version: number; source: string }>('/api/v1/workflows/win-back')).source).not.toContain('holdout')
  })
  afterEach(async () => {
    await s.close()
  })

  it("a cancelled subscription ends the customer's win-back and invoice reminders and is confirmed; another customer's flows go on", async () => {
    await s.send('subscription.created', subscription('sub-1', ada))
    await s.send('subscription.created', subscription('sub-2', bo))
    // both have not ordered for months: their win-back starts
    await s.send('customer.inactive', { customer: ada })
    await s.send('customer.inactive', { customer: bo })
    // the renewal invoice (due in 7 days) is not paid: its reminders start when it falls due
    await s.advance('9d', { step: '1d' })
    const before = s.newMail()
    expect(to(before, 'ada@example.com').length).toBeGreaterThanOrEqual(3)
    expect(to(before, 'bo@example.com').length).toBe(to(before, 'ada@example.com').length)
    expect(await runs('c1')).toEqual(['overdue-invoice-reminders:waiting', 'subscription-renewal-invoice:completed', 'win-back:waiting'])

    await s.send('subscription.cancelled', subscription('sub-1', ada, 'cancelled'))
    const [confirmation, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(confirmation!.to).toBe('ada@example.com')
    expect(confirmation!.subject).toBe('Your Coffee Club subscription is cancelled')
    expect(flat(confirmation!.text)).toContain('Hi Ada,')
    expect(flat(confirmation!.text)).toContain('Your Coffee Club subscription is cancelled and you will not be charged again.')
    expect(confirmation!.headers.get('list')).toBeUndefined()
    expect(await runs('c1')).toEqual([
      'cancellation-ends-flows:completed',
      'overdue-invoice-reminders:cancelled',
      'subscription-renewal-invoice:completed',
      'win-back:cancelled',
    ])

    // two months on: Ada hears nothing more, Bo's reminders and win-back go on
    await s.advance('60d', { step: '5d' })
    const after = s.newMail()
    expect(to(after, 'ada@example.com')).toEqual([])
    expect(to(after, 'bo@example.com').length).toBeGreaterThanOrEqual(3)
    expect(await runs('c1')).toEqual([
      'cancellation-ends-flows:completed',
      'overdue-invoice-reminders:cancelled',
      'subscription-renewal-invoice:completed',
      'win-back:cancelled',
    ])
  })
})
