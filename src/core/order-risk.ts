import { addMoney } from '../lib/money.ts'

/**
 * A rule-based fraud risk score for an order, as conditions see it in `order.risk`. Pure: the
 * store's projection (store/projection.ts) gathers the facts and stores the result whenever the
 * order is projected, so `order.risk` in a condition is the same the router saw.
 *
 * Each rule that fires adds its points and one reason (the wording below is part of the product:
 * conditions may test `order.risk.reasons.exists(r, r.startsWith("disposable email"))`, so each
 * reason starts with the fixed words given beside its rule). The score is the sum, at most 100;
 * the level is `high` from 60, `medium` from 30, else `low`.
 */
export interface OrderRisk {
  score: number
  level: 'low' | 'medium' | 'high'
  reasons: string[]
}

export interface OrderRiskFacts {
  /** the order as stored (`data` of an order.* event) */
  order: Record<string, unknown>
  /** true when storeflow's view holds no other order of this customer created before this one */
  firstOrder: boolean
}

/** Points per rule; the sum is capped at 100. */
export const RISK_POINTS = {
  /** "billing country XX differs from shipping country YY" */
  countryMismatch: 30,
  /** "first order of this customer above 500 (650.00 EUR)" */
  firstOrderAbove: 25,
  /** "N payment attempts" */
  paymentAttempts: 30,
  /** "disposable email domain mailinator.com" */
  disposableEmail: 35,
} as const

/** A first order above this (in the order's own currency, major units) counts as a risk. */
export const FIRST_ORDER_THRESHOLD = '500'

/** This many payment attempts or more count as a risk. */
export const PAYMENT_ATTEMPTS_THRESHOLD = 3

/** Throwaway-mailbox domains (a small built-in list; subdomains count too). */
export const DISPOSABLE_EMAIL_DOMAINS: ReadonlySet<string> = new Set([
  'mailinator.com',
  '10minutemail.com',
  'guerrillamail.com',
  'guerrillamail.net',
  'sharklasers.com',
  'yopmail.com',
  'tempmail.com',
  'temp-mail.org',
  'tempmailo.com',
  'trashmail.com',
  'getnada.com',
  'dispostable.com',
  'maildrop.cc',
  'throwawaymail.com',
  'fakeinbox.com',
  'mintemail.com',
  'mailnesia.com',
  'emailondeck.com',
])

export function assessOrderRisk({ order, firstOrder }: OrderRiskFacts): OrderRisk {
  const reasons: string[] = []
  let score = 0

  const billing = countryOf(order.billing_address)
  const shipping = countryOf(order.shipping_address)
  if (billing && shipping && billing !== shipping) {
    score += RISK_POINTS.countryMismatch
    reasons.push(`billing country ${billing} differs from shipping country ${shipping}`)
  }

  const total = typeof order.total_price === 'string' || typeof order.total_price === 'number' ? String(order.total_price) : null
  if (firstOrder && total && above(total, FIRST_ORDER_THRESHOLD)) {
    score += RISK_POINTS.firstOrderAbove
    const currency = typeof order.currency === 'string' ? ` ${order.currency}` : ''
    reasons.push(`first order of this customer above ${FIRST_ORDER_THRESHOLD} (${total}${currency})`)
  }

  const attempts = paymentAttempts(order)
  if (attempts !== null && attempts >= PAYMENT_ATTEMPTS_THRESHOLD) {
    score += RISK_POINTS.paymentAttempts
    reasons.push(`${attempts} payment attempts`)
  }

  const domain = disposableDomain(emailOf(order))
  if (domain) {
    score += RISK_POINTS.disposableEmail
    reasons.push(`disposable email domain ${domain}`)
  }

  score = Math.min(100, score)
  return { score, level: score >= 60 ? 'high' : score >= 30 ? 'medium' : 'low', reasons }
}

function countryOf(address: unknown): string | null {
  if (!address || typeof address !== 'object') return null
  const a = address as Record<string, unknown>
  const code = a.country_code ?? a.country
  return typeof code === 'string' && code.trim() ? code.trim().toUpperCase() : null
}

function emailOf(order: Record<string, unknown>): string | null {
  if (typeof order.email === 'string' && order.email) return order.email
  const customer = order.customer as Record<string, unknown> | null | undefined
  return customer && typeof customer.email === 'string' ? customer.email : null
}

/** The matched domain of the built-in list, or null. */
export function disposableDomain(email: string | null): string | null {
  const at = email?.lastIndexOf('@') ?? -1
  if (!email || at < 0) return null
  const host = email
    .slice(at + 1)
    .trim()
    .toLowerCase()
  const parts = host.split('.')
  for (let i = 0; i < parts.length - 1; i++) {
    const candidate = parts.slice(i).join('.')
    if (DISPOSABLE_EMAIL_DOMAINS.has(candidate)) return candidate
  }
  return null
}

/**
 * How many times the customer tried to pay: the order's `payment_attempts` field (a number or a
 * numeric string), else a Shopify note attribute named `payment_attempts` (`note_attributes:
 * [{ name, value }]`). null when the shop says nothing.
 */
export function paymentAttempts(order: Record<string, unknown>): number | null {
  const direct = count(order.payment_attempts)
  if (direct !== null) return direct
  if (Array.isArray(order.note_attributes)) {
    for (const attr of order.note_attributes as Array<Record<string, unknown>>) {
      if (attr && attr.name === 'payment_attempts') return count(attr.value)
    }
  }
  return null
}

function count(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,6}$/.test(value.trim()) ? Number(value) : Number.NaN
  return Number.isInteger(n) && n >= 0 ? n : null
}

/** a > b for decimal strings, exactly */
function above(a: string, b: string): boolean {
  if (!/^-?\d+(\.\d+)?$/.test(a.trim())) return false
  const diff = addMoney(a.trim(), `-${b}`)
  return !diff.startsWith('-') && /[1-9]/.test(diff)
}
