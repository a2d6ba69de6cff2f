import { addMoney } from '../lib/money.ts'

/** Whether the exact decimal `a` is more than `b`. */
export function moneyExceeds(a: string, b: string): boolean {
  const diff = addMoney(a, b.startsWith('-') ? b.slice(1) : `-${b}`)
  return !diff.startsWith('-') && /[1-9]/.test(diff)
}
