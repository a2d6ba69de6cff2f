/**
 * Money arrives as a JSON number in major units (450.0) or a numeric string ("450.00").
 * It is kept as a decimal string with its cents exact, and exposed to CEL as a double.
 */
export function normaliseMoney(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null
  const text = typeof value === 'number' ? value.toString() : String(value).trim()
  if (!/^-?\d+(\.\d+)?$/.test(text)) return null
  return text
}

/** Adds decimal strings exactly by working in integer minor units (up to 6 decimals). */
export function addMoney(a: string | number, b: string | number): string {
  const scale = 1_000_000n
  const toMicro = (v: string | number): bigint => {
    const s = typeof v === 'number' ? v.toFixed(6) : v
    const neg = s.startsWith('-')
    const [int, frac = ''] = (neg ? s.slice(1) : s).split('.')
    const micro = BigInt(int || '0') * scale + BigInt((frac + '000000').slice(0, 6))
    return neg ? -micro : micro
  }
  const sum = toMicro(a) + toMicro(b)
  const neg = sum < 0n
  const abs = neg ? -sum : sum
  const int = abs / scale
  const frac = (abs % scale).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0')
  return `${neg ? '-' : ''}${int}.${frac}`
}

export function moneyToNumber(value: string | number | null | undefined): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'number' ? value : Number(value)
}
