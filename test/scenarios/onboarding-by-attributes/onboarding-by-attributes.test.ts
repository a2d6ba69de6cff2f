import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { hasUnsubscribe, startScenario, type Scenario } from '../harness.ts'

const WHOLESALE = { id: 'w1', email: 'buyer@boutique.example', first_name: 'Grace', accepts_marketing: true, tags: ['wholesale'] }
const SUBSCRIBER = { id: 's1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }
/** the plain-text part with its line wrapping undone */
const flat = (text: string) => text.replace(/\s+/g, ' ')

const OTHER = { id: 'o1', email: 'linus@example.com', first_name: 'Linus', accepts_marketing: false }

describe.each(DIALECTS)('template onboarding-by-attributes on %s', (dialect) => {
  let s: Scenario
  const tags = async (id: string) => (await s.api<{ tags: string[] }>(`/api/v1/customers/${id}`)).tags
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('onboarding-by-attributes')
  })
  afterEach(async () => {
    await s.close()
  })

  it('a wholesale account gets the wholesale welcome (as account mail) and the onboarded-wholesale tag', async () => {
    await s.send('customer.created', WHOLESALE)
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect([mail!.to, mail!.subject]).toEqual([WHOLESALE.email, 'Your wholesale account is ready'])
    expect(flat(mail!.text)).toContain('Welcome, Grace! Your wholesale prices are active')
    expect(hasUnsubscribe(mail!)).toBe(false)
    expect((await tags(WHOLESALE.id)).sort()).toEqual(['onboarded-wholesale', 'wholesale'])
  })

  it('a customer who accepts marketing gets the subscriber welcome (marketing, with unsubscribe) and the onboarded tag', async () => {
    await s.send('customer.created', SUBSCRIBER)
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect([mail!.to, mail!.subject]).toEqual([SUBSCRIBER.email, 'Welcome to My store'])
    expect(flat(mail!.text)).toContain('Hi Ada, welcome to My store! As a subscriber you will be the first to hear about new arrivals')
    expect(hasUnsubscribe(mail!)).toBe(true)
    expect(await tags(SUBSCRIBER.id)).toEqual(['onboarded'])
  })

  it('everyone else gets the account mail only, no promotion, and the onboarded tag', async () => {
    await s.send('customer.created', OTHER)
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    expect([mail!.to, mail!.subject]).toEqual([OTHER.email, 'Your account at My store'])
    expect(flat(mail!.text)).toContain('Hi Linus, your account is ready. You can track your orders from it at any')
    expect(mail!.text).not.toContain('offers')
    expect(hasUnsubscribe(mail!)).toBe(false)
    expect(await tags(OTHER.id)).toEqual(['onboarded'])
  })

  it('three new customers at once: each gets exactly the mail of their branch', async () => {
    await s.send('customer.created', WHOLESALE)
    await s.send('customer.created', SUBSCRIBER)
    await s.send('customer.created', OTHER)
    expect(
      s
        .newMail()
        .map((m) => [m.to, m.subject])
        .sort(),
    ).toEqual([
      [SUBSCRIBER.email, 'Welcome to My store'],
      [WHOLESALE.email, 'Your wholesale account is ready'],
      [OTHER.email, 'Your account at My store'],
    ])
  })

  it('a customer is onboarded once: the shop sending the customer again, or an update, brings nothing', async () => {
    await s.send('customer.created', SUBSCRIBER)
    expect(s.newMail()).toHaveLength(1)
    await s.advance('2d', { step: '12h' })
    await s.send('customer.created', SUBSCRIBER)
    await s.send('customer.updated', { ...SUBSCRIBER, tags: ['wholesale'] })
    await s.advance('1d', { step: '12h' })
    expect(s.newMail()).toEqual([])
  })
})
