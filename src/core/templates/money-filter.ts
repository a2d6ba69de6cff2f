import { normaliseMoney } from '../../lib/money.ts'

const formatters = new Map<string, Intl.NumberFormat>()

/**
 * `450` with `USD` → `$450.00`. Money arrives as a number or a decimal string (see lib/money.ts);
 * anything else renders as empty rather than `NaN` in a customer's inbox.
 */
export function formatMoney(value: unknown, currency = 'USD', locale = 'en-US'): string {
  const text = normaliseMoney(value)
  if (text === null) return ''
  const key = `${locale}:${currency}`
  let format = formatters.get(key)
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale, { style: 'currency', currency })
    } catch {
      // an unknown currency code still shows the amount, with the code after it
      return `${Number(text).toFixed(2)} ${currency}`
    }
    formatters.set(key, format)
  }
  return format.format(Number(text))
}
