import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { hasUnsubscribe, startScenario, type Scenario } from '../harness.ts'

type Code = { code: string; kind: string; value: number; usage_limit: number; customer_id: string | null; expires_at: string }

const DAY = 86_400_000
// the clock starts on Monday 2 March 2026, 10:00 UTC
const NEW_YORK = { id: 'ny', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true, birthday: '1990-03-05', timezone: 'America/New_York' }
const TOKYO = { id: 'tk', email: 'kenji@example.com', first_name: 'Kenji', accepts_marketing: true, birthday: '1985-03-05', timezone: 'Asia/Tokyo' }

/** Moves the clock to an instant, an hour at a time (sweeps run every 15 minutes of the clock) */
const advanceTo = async (s: Scenario, iso: string, step = '1h') => {
  const ms = Date.parse(iso) - s.env.clock.now().getTime()
  await s.advance(`${ms}ms`, { step })
}

describe.each(DIALECTS)('template birthday-offer on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('birthday-offer')
  })
  afterEach(async () => {
    await s.close()
  })

  it("at 09:00 on the birthday in the customer's own time zone, one mail with a 15% code for a week", async () => {
    await s.send('customer.created', NEW_YORK)
    await s.send('customer.created', TOKYO)
    // 09:00 on 5 March in Tokyo is 00:00 UTC; in New York 14:00 UTC
    await advanceTo(s, '2026-03-04T23:00:00Z', '3h')
    expect(s.newMail()).toEqual([])
    await advanceTo(s, '2026-03-05T00:00:00Z', '15m')
    expect(s.newMail().map((m) => [m.to, m.subject])).toEqual([[TOKYO.email, 'Happy birthday, Kenji!']])
    await advanceTo(s, '2026-03-05T13:45:00Z', '1h')
    expect(s.newMail()).toEqual([])
    await advanceTo(s, '2026-03-05T14:00:00Z', '15m')
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect([mail!.to, mail!.subject]).toEqual([NEW_YORK.email, 'Happy birthday, Ada!'])
    expect(hasUnsubscribe(mail!)).toBe(true)

    const { items } = await s.api<{ items: Code[] }>('/api/v1/discount-codes')
    const ada = items.find((c) => c.customer_id === NEW_YORK.id)!
    expect([ada.kind, ada.value, ada.expires_at]).toEqual(['percent', 15, new Date(Date.parse('2026-03-05T14:00:00Z') + 7 * DAY).toISOString()])
    expect(mail!.text).toContain(`code ${ada.code} takes 15% off`)
    expect(items).toHaveLength(2)

    // nothing more until next year
    await s.advance('30d', { step: '1d' })
    expect(s.newMail()).toEqual([])
  })

  it('a customer without marketing consent gets no birthday mail and no code', async () => {
    await s.send('customer.created', { ...NEW_YORK, accepts_marketing: false })
    await advanceTo(s, '2026-03-07T00:00:00Z', '2h')
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toEqual([])
  })

  it('a customer who unsubscribed gets no birthday mail, though the shop still says they accept marketing', async () => {
    await s.send('customer.created', NEW_YORK)
    await s.send('newsletter.unsubscribed', { customer: { id: NEW_YORK.id, email: NEW_YORK.email } })
    await s.send('customer.updated', NEW_YORK)
    await advanceTo(s, '2026-03-07T00:00:00Z', '2h')
    expect(s.newMail()).toEqual([])
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toEqual([])
  })

  it('the next birthday, a year later, brings a new offer', async () => {
    await s.send('customer.created', NEW_YORK)
    await advanceTo(s, '2026-03-06T00:00:00Z', '6h')
    expect(s.newMail()).toHaveLength(1)
    await advanceTo(s, '2027-03-05T12:00:00Z', '5d')
    expect(s.newMail()).toEqual([])
    await advanceTo(s, '2027-03-06T00:00:00Z', '1h')
    expect(s.newMail().map((m) => [m.to, m.subject])).toEqual([[NEW_YORK.email, 'Happy birthday, Ada!']])
    expect((await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items).toHaveLength(2)
  })
})
