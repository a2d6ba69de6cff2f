/**
 * Exponential backoff with full jitter: attempt 1 waits around `baseMs`, each next attempt
 * doubles, capped at `maxMs`. Jitter spreads retries of many runs that failed together.
 */
export interface BackoffPolicy {
  /** first delay, milliseconds; default 1000 */
  baseMs?: number
  /** longest delay, milliseconds; default 1 hour */
  maxMs?: number
}

export function backoffDelay(attempt: number, policy: BackoffPolicy = {}, random: () => number = Math.random): number {
  const base = policy.baseMs ?? 1000
  const max = policy.maxMs ?? 3_600_000
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1))
  // half fixed, half jitter: never retry sooner than half the nominal delay
  return Math.round(exp / 2 + random() * (exp / 2))
}
