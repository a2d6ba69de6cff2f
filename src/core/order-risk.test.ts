import { describe, expect, it } from 'vitest'
import { assessOrderRisk, disposableDomain, paymentAttempts } from './order-risk.ts'

const base = {
  currency: 'EUR',
  total_price: '80.00',
  email: 'ada@example.com',
  billing_address: { country_code: 'de' },
  shipping_address: { country_code: 'DE' },
}

describe('order risk', () => {
  it('a plain order is low, with no reasons', () => {
    expect(assessOrderRisk({ order: base, firstOrder: true })).toEqual({ score: 0, level: 'low', reasons: [] })
  })

  it('a first order above 500 counts, exactly at 500 does not, a later order does not', () => {
    expect(assessOrderRisk({ order: { ...base, total_price: '500.01' }, firstOrder: true })).toEqual({
      score: 25,
      level: 'low',
      reasons: ['first order of this customer above 500 (500.01 EUR)'],
    })
    expect(assessOrderRisk({ order: { ...base, total_price: '500.00' }, firstOrder: true }).reasons).toEqual([])
    expect(assessOrderRisk({ order: { ...base, total_price: '9000' }, firstOrder: false }).reasons).toEqual([])
  })

  it('payment attempts from the field or a note attribute; 3 or more count', () => {
    expect(paymentAttempts({ payment_attempts: '4' })).toBe(4)
    expect(
      paymentAttempts({
        note_attributes: [
          { name: 'gift', value: 'no' },
          { name: 'payment_attempts', value: '3' },
        ],
      }),
    ).toBe(3)
    expect(paymentAttempts({ payment_attempts: 'many' })).toBeNull()
    expect(assessOrderRisk({ order: { ...base, payment_attempts: 2 }, firstOrder: false }).reasons).toEqual([])
    expect(assessOrderRisk({ order: { ...base, payment_attempts: 5 }, firstOrder: false })).toEqual({
      score: 30,
      level: 'medium',
      reasons: ['5 payment attempts'],
    })
  })

  it('disposable domains, subdomains included, not look-alikes', () => {
    expect(disposableDomain('x@Mailinator.com')).toBe('mailinator.com')
    expect(disposableDomain('x@eu.yopmail.com')).toBe('yopmail.com')
    expect(disposableDomain('x@notmailinator.com')).toBeNull()
    expect(disposableDomain(null)).toBeNull()
  })

  it('everything at once is capped at 100, high', () => {
    const risk = assessOrderRisk({
      order: { ...base, total_price: '900', email: 'x@guerrillamail.com', payment_attempts: 7, shipping_address: { country_code: 'US' } },
      firstOrder: true,
    })
    expect(risk.score).toBe(100)
    expect(risk.level).toBe('high')
    expect(risk.reasons).toHaveLength(4)
  })
})
