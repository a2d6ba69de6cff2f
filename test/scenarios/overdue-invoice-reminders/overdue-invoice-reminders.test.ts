import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

type Invoice = { id: string; number: string; status: string; due_at: string; email: string }

/** the plain-text part with its line wrapping undone */
const flat = (text: string) => text.replace(/\s+/g, ' ')

// the clock starts on 2026-03-02 10:00 UTC; the invoices are the renewal template's, due on March 12
const subscription = (id: string, customer: { id: string; email: string; first_name: string }) => ({
  id,
  customer: { ...customer, accepts_marketing: false },
  plan: 'Coffee Club',
  price: '24.00',
  interval: 'month',
  next_renewal_at: '2026-03-12T10:00:00Z',
  status: 'active',
})

describe.each(DIALECTS)('template overdue-invoice-reminders on %s', (dialect) => {
  let s: Scenario
  let invoices: Invoice[]
  beforeEach(async () => {
    s = await startScenario(dialect)
    process.env.STOREFLOW_TEAM_WEBHOOK_URL = `${s.hook.url}/team`
    await s.install('subscription-renewal-invoice')
    await s.install('overdue-invoice-reminders')
    await s.send('subscription.created', subscription('sub-1', { id: 'c1', email: 'grace@example.com', first_name: 'Grace' }))
    await s.send('subscription.created', subscription('sub-2', { id: 'c2', email: 'alan@example.com', first_name: 'Alan' }))
    // March 5: both renewal invoices are mailed
    await s.advance('3d', { step: '12h' })
    expect(
      s
        .newMail()
        .map((m) => m.to)
        .sort(),
    ).toEqual(['alan@example.com', 'grace@example.com'])
    invoices = (await s.api<{ items: Invoice[] }>('/api/v1/invoices')).items
    expect(invoices.map((i) => i.status)).toEqual(['open', 'open'])
  })
  afterEach(async () => {
    delete process.env.STOREFLOW_TEAM_WEBHOOK_URL
    await s.close()
  })
  const invoiceOf = (email: string) => invoices.find((i) => i.email === email)!
  const team = () => s.hook.requests.filter((r) => r.path === '/team').map((r) => JSON.parse(r.body).text as string)

  it('an unpaid invoice gets a reminder when overdue, a second a week later, a final notice after two, then the team is told', async () => {
    // Alan pays on time; Grace does not
    await s.send('invoice.paid', { number: invoiceOf('alan@example.com').number, amount: '24.00' })
    // March 12 10:00 is the due time: nothing before it
    await s.advance('6d23h', { step: '12h' })
    expect(s.newMail()).toEqual([])
    await s.advance('1h', { step: '15m' })
    const grace = invoiceOf('grace@example.com').number
    const [first, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(first!.to).toBe('grace@example.com')
    expect(first!.subject).toBe(`Invoice ${grace} is overdue`)
    expect(flat(first!.text)).toContain(`Hi Grace, A friendly reminder that invoice ${grace} for $24.00 was due on March 12, 2026 and is still open.`)

    await s.advance('6d', { step: '1d' })
    expect(s.newMail()).toEqual([])
    await s.advance('1d', { step: '1d' })
    const second = s.newMail()
    expect(second.map((m) => [m.to, m.subject])).toEqual([['grace@example.com', `Second reminder: invoice ${grace}`]])
    expect(flat(second[0]!.text)).toContain(`Invoice ${grace} for $24.00 is still open, a week after it was due.`)

    await s.advance('7d', { step: '1d' })
    expect(s.newMail().map((m) => [m.to, m.subject])).toEqual([['grace@example.com', `Final notice: invoice ${grace}`]])
    expect(team()).toEqual([])

    await s.advance('7d', { step: '1d' })
    expect(s.newMail()).toEqual([])
    expect(team()).toEqual([`Invoice ${grace} ($24.00) for grace@example.com is still unpaid after three reminders.`])

    // nothing after that, and Alan's paid invoice never got a reminder
    await s.advance('14d', { step: '2d' })
    expect(s.newMail()).toEqual([])
    expect(team()).toHaveLength(1)
    expect(s.mail().filter((m) => m.to === 'alan@example.com')).toHaveLength(1)
  })

  it('paid mid-sequence (the payment names only the invoice): no more reminders, and the team is not told', async () => {
    const grace = invoiceOf('grace@example.com')
    await s.advance('7d', { step: '12h' })
    expect(
      s
        .newMail()
        .map((m) => m.subject)
        .sort(),
    ).toEqual([`Invoice ${grace.number} is overdue`, `Invoice ${invoiceOf('alan@example.com').number} is overdue`].sort())
    await s.advance('7d', { step: '1d' })
    expect(
      s
        .newMail()
        .map((m) => m.subject)
        .sort(),
    ).toEqual([`Second reminder: invoice ${grace.number}`, `Second reminder: invoice ${invoiceOf('alan@example.com').number}`].sort())

    // Grace pays by invoice id, as a payment system reports it: no customer in the event
    await s.send('invoice.paid', { invoice_id: grace.id })
    expect((await s.api<Invoice>(`/api/v1/invoices/${grace.number}`)).status).toBe('paid')
    await s.advance('21d', { step: '1d' })
    // Alan, who has not paid, goes on to the final notice and the team
    expect(s.newMail().map((m) => [m.to, m.subject])).toEqual([['alan@example.com', `Final notice: invoice ${invoiceOf('alan@example.com').number}`]])
    expect(team()).toEqual([`Invoice ${invoiceOf('alan@example.com').number} ($24.00) for alan@example.com is still unpaid after three reminders.`])
  })
})
