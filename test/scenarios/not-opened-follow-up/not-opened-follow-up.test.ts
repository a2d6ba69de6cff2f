import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { hasUnsubscribe, openMail, startScenario, type Scenario } from '../harness.ts'

const ADA = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: true }

const delivered = (orderId: string, customer: typeof ADA) => ({ order_id: orderId, customer, carrier: 'UPS', tracking_number: '1Z999AA10123456784' })

describe.each(DIALECTS)('template not-opened-follow-up on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.install('not-opened-follow-up')
    await s.send('customer.created', ADA)
  })
  afterEach(async () => {
    await s.close()
  })

  it('two days after delivery the care tips; not opened within 3 days, once more with another subject', async () => {
    await s.send('order.delivered', delivered('1001', ADA))
    await s.advance('47h', { step: '12h' })
    expect(s.newMail()).toEqual([])
    await s.advance('1h', { step: null })
    const [tips, ...more] = s.newMail()
    expect(more).toEqual([])
    expect([tips!.to, tips!.subject]).toEqual([ADA.email, 'Getting the most out of your order'])
    expect(tips!.text).toContain('Hi Ada, here are a few tips')
    expect(tips!.text).toContain('Store it dry and out of direct sunlight')
    expect(hasUnsubscribe(tips!)).toBe(true)

    await s.advance('71h', { step: '12h' })
    expect(s.newMail()).toEqual([])
    await s.advance('1h', { step: null })
    const [again, ...more2] = s.newMail()
    expect(more2).toEqual([])
    expect([again!.to, again!.subject]).toEqual([ADA.email, 'In case you missed it: care tips for your order'])
    expect(again!.text.replace(/\s+/g, ' ')).toContain('Hi Ada, in case our last mail slipped past you')
    expect(hasUnsubscribe(again!)).toBe(true)

    await s.advance('20d', { step: '2d' })
    expect(s.newMail()).toEqual([])
  })

  it('a customer who opened the first mail gets no follow-up', async () => {
    await s.send('order.delivered', delivered('1001', ADA))
    await s.advance('2d', { step: '12h' })
    const [tips] = s.newMail()
    await s.advance('1d', { step: '6h' })
    await openMail(s, tips!)
    // the mail client fetching the pixel again changes nothing
    await openMail(s, tips!)
    await s.advance('10d', { step: '1d' })
    expect(s.newMail()).toEqual([])
  })

  it('opening another mail does not count as opening this one', async () => {
    await s.send('order.delivered', delivered('1001', ADA))
    await s.advance('2d', { step: '12h' })
    expect(s.newMail()).toHaveLength(1)
    // a message.opened about some other message of the customer
    await s.send('message.opened', { message_id: 'msg_other', customer_id: ADA.id, workflow_id: 'order-confirmation', customer: { id: ADA.id } })
    await s.advance('3d', { step: '12h' })
    expect(s.newMail().map((m) => m.subject)).toEqual(['In case you missed it: care tips for your order'])
  })

  it('a customer without marketing consent gets neither mail', async () => {
    const bob = { id: 'c9', email: 'bob@example.com', first_name: 'Bob', accepts_marketing: false }
    await s.send('customer.created', bob)
    await s.send('order.delivered', delivered('1002', bob))
    await s.advance('10d', { step: '1d' })
    expect(s.newMail()).toEqual([])
  })
})
