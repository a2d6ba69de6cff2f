/**
 * Money arrives as a JSON number in major units (450.0) or a numeric string ("450.00").
 * It is kept as a decimal string with its cents exact, and exposed to CEL as a double.
 *
 * An amount has at most 13 digits before the point (up to ten trillion: in cents that is still
 * below 2^53, so the double CEL sees is exact to the cent) and at most 6 after (the precision
 * `addMoney` keeps). A number JavaScript can only spell with an exponent (1e21, 1e-7) is outside
 * that range by construction, so it is refused here rather than reaching the arithmetic, which
 * would throw on it.
 */
export const MONEY_LIMITS = { integerDigits: 13, decimals: 6 } as const

const MONEY_TEXT = new RegExp(`^-?\\d{1,${MONEY_LIMITS.integerDigits}}(\\.\\d{1,${MONEY_LIMITS.decimals}})?$`)

/** The amount as a decimal string, or null when it is not an amount within MONEY_LIMITS. */
export function moneyText(value: unknown): string | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null
    const text = String(value)
    return MONEY_TEXT.test(text) ? text : null
  }
  if (typeof value !== 'string') return null
  const text = value.trim()
  return MONEY_TEXT.test(text) ? text : null
}

/** A shop's money field: null when absent or empty, or when it is not an amount (see moneyText). */
export function normaliseMoney(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null
  return moneyText(typeof value === 'number' ? value : String(value))
}

/** Adds decimal strings exactly by working in integer minor units (up to 6 decimals). */
export function addMoney(a: string | number, b: string | number): string {
  const scale = 1_000_000n
  const toMicro = (v: string | number): bigint => {
    const s = typeof v === 'number' ? v.toFixed(6) : v
    const neg = s.startsWith('-')
    const [int, frac = ''] = (neg ? s.slice(1) : s).split('.')
    const micro = BigInt(int || '0') * scale + BigInt(`${frac}000000`.slice(0, 6))
    return neg ? -micro : micro
  }
  const sum = toMicro(a) + toMicro(b)
  const neg = sum < 0n
  const abs = neg ? -sum : sum
  const int = abs / scale
  const frac = (abs % scale).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0')
  return `${neg ? '-' : ''}${int}.${frac}`
}

/** An amount times a whole number of units, exactly. */
export function timesMoney(amount: string | number, units: number): string {
  if (!Number.isInteger(units)) throw new Error(`units must be a whole number, got ${units}`)
  let total = '0.00'
  const negative = units < 0
  // repeated addition keeps addMoney's exactness; quantities on an invoice line are small
  let left = Math.abs(units)
  let step = typeof amount === 'number' ? amount.toFixed(6) : amount
  while (left > 0) {
    if (left % 2 === 1) total = addMoney(total, step)
    step = addMoney(step, step)
    left = Math.floor(left / 2)
  }
  return negative ? addMoney('0', `-${total}`) : total
}

export function moneyToNumber(value: string | number | null | undefined): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'number' ? value : Number(value)
}
