/** Exact products of decimal strings (money × a rate), in millionths like lib/money.ts's addMoney. */

const SCALE = 1_000_000n

/** A decimal string in millionths, exact (further decimals cut): money as a summable integer (insight's `*_micros` columns). */
export function toMicro(value: string): bigint {
  const neg = value.startsWith('-')
  const [int, frac = ''] = (neg ? value.slice(1) : value).split('.')
  const micro = BigInt(int || '0') * SCALE + BigInt(`${frac}000000`.slice(0, 6))
  return neg ? -micro : micro
}

function fromMicro(micro: bigint): string {
  const neg = micro < 0n
  const abs = neg ? -micro : micro
  const frac = (abs % SCALE).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0')
  return `${neg ? '-' : ''}${abs / SCALE}.${frac}`
}

/** `amount × factor`, both decimal strings of up to 6 decimals; the product is cut (toward zero) to 6 decimals. */
export function multiplyMoney(amount: string, factor: string): string {
  return fromMicro((toMicro(amount) * toMicro(factor)) / SCALE)
}

/** `percent`% of `amount`, cut to 6 decimals. */
export function percentOfMoney(amount: string, percent: string): string {
  return fromMicro((toMicro(amount) * toMicro(percent)) / (SCALE * 100n))
}

/** The whole units of a non-negative decimal string, rounded down. */
export function wholeUnits(value: string): number {
  return value.startsWith('-') ? 0 : Number(value.split('.')[0])
}
