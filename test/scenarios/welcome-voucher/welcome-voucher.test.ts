import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { hasUnsubscribe, startScenario, type Scenario } from '../harness.ts'

type Code = { code: string; kind: string; value: number; usage_limit: number; customer_id: string | null; expires_at: string; workflow_id: string }

const DAY = 86_400_000
const ZOE = { id: 'c7', email: 'zoe@example.com', first_name: 'Zoë <b>&' }

describe.each(DIALECTS)('template welcome-voucher on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('welcome-voucher')
  })
  afterEach(async () => {
    await s.close()
  })

  it('a new subscriber gets one welcome mail with a single-use 10% code valid for 14 days', async () => {
    await s.send('newsletter.subscribed', { customer: ZOE })
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect(mail!.to).toBe(ZOE.email)
    expect(mail!.subject).toBe('Welcome! Here is 10% off your first order')

    const { items } = await s.api<{ items: Code[] }>('/api/v1/discount-codes')
    expect(items.map((c) => [c.kind, c.value, c.usage_limit, c.customer_id, c.workflow_id, c.expires_at])).toEqual([
      ['percent', 10, 1, ZOE.id, 'welcome-voucher', new Date(s.env.clock.now().getTime() + 14 * DAY).toISOString()],
    ])
    expect(mail!.text).toContain(`Your code ${items[0]!.code} takes 10% off your first order`)
    expect(mail!.html).toContain(`<strong>${items[0]!.code}</strong>`)
    // the name the customer typed is shown as text, never as markup
    expect(mail!.html).toContain('Zoë &lt;b&gt;&amp;')
    expect(mail!.html).not.toContain('Zoë <b>')
    expect(hasUnsubscribe(mail!)).toBe(true)
  })

  it('signing up again (after unsubscribing, or the form posted twice) brings no second voucher', async () => {
    await s.send('newsletter.subscribed', { customer: ZOE })
    expect(s.newMail()).toHaveLength(1)
    await s.send('newsletter.subscribed', { customer: ZOE })
    await s.advance('10d', { step: '1d' })
    await s.send('newsletter.unsubscribed', { customer: ZOE })
    await s.advance('5d', { step: '1d' })
    await s.send('newsletter.subscribed', { customer: ZOE })
    await s.advance('1d', { step: '6h' })
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toHaveLength(1)
  })

  it('each new subscriber gets their own code', async () => {
    await s.send('newsletter.subscribed', { customer: ZOE })
    await s.send('newsletter.subscribed', { customer: { id: 'c8', email: 'max@example.com', first_name: 'Max' } })
    const mail = s.newMail()
    expect(mail.map((m) => m.to)).toEqual([ZOE.email, 'max@example.com'])
    const { items } = await s.api<{ items: Code[] }>('/api/v1/discount-codes')
    expect(items).toHaveLength(2)
    expect(new Set(items.map((c) => c.code)).size).toBe(2)
    for (const m of mail) {
      const mine = items.find((c) => c.customer_id === (m.to === ZOE.email ? ZOE.id : 'c8'))!
      expect(m.text).toContain(mine.code)
    }
  })
})
