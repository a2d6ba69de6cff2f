/**
 * Token buckets for rate limits, one per key (an API key, a store), on a clock the caller passes
 * in (the engine's clock, so tests move time by hand). A bucket holds up to `count` tokens and
 * refills continuously at `count` per `periodMs`: a client may burst a whole period's allowance at
 * once, then goes at the steady rate. Each request takes one token.
 */

export interface Rate {
  count: number
  periodMs: number
}

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number }

const PERIODS: Record<string, number> = { s: 1_000, sec: 1_000, second: 1_000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 }

/**
 * `600/min`, `10/s`, `36000/h`, or a bare count (per minute). `0` or empty: no limit (null).
 * Anything else throws, saying what is expected.
 */
export function parseRate(text: string | number): Rate | null {
  const raw = String(text).trim()
  if (raw === '' || raw === '0') return null
  const m = /^(\d{1,9})\s*(?:\/\s*([a-z]+))?$/i.exec(raw)
  const periodMs = m ? PERIODS[(m[2] ?? 'min').toLowerCase()] : undefined
  if (!m || periodMs === undefined) {
    throw new Error(
      `must be a whole number of requests per period, like 600/min, 10/s or 36000/h (a bare number is per minute; 0 turns the limit off); got "${raw}"`,
    )
  }
  const count = Number(m[1])
  return count === 0 ? null : { count, periodMs }
}

/** "600 requests per minute" */
export function describeRate(rate: Rate, what: string): string {
  const unit = rate.periodMs === 1_000 ? 'second' : rate.periodMs === 60_000 ? 'minute' : 'hour'
  return `${rate.count} ${what} per ${unit}`
}

interface Bucket {
  tokens: number
  at: number
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()
  private readonly perMs: number

  /** `maxKeys` bounds memory: past it, buckets that have refilled (they hold no state worth keeping) are dropped first, then the oldest. */
  constructor(
    readonly rate: Rate,
    private readonly maxKeys = 100_000,
  ) {
    this.perMs = rate.count / rate.periodMs
  }

  take(key: string, nowMs: number): TakeResult {
    const bucket = this.buckets.get(key) ?? this.fresh(key, nowMs)
    // a clock set back must not hand out tokens, nor take them away
    const elapsed = Math.max(0, nowMs - bucket.at)
    bucket.tokens = Math.min(this.rate.count, bucket.tokens + elapsed * this.perMs)
    bucket.at = nowMs
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.perMs) }
  }

  /** how many keys hold a bucket (for tests of the bound) */
  get size(): number {
    return this.buckets.size
  }

  private fresh(key: string, nowMs: number): Bucket {
    if (this.buckets.size >= this.maxKeys) this.evict(nowMs)
    const bucket = { tokens: this.rate.count, at: nowMs }
    this.buckets.set(key, bucket)
    return bucket
  }

  private evict(nowMs: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + Math.max(0, nowMs - b.at) * this.perMs >= this.rate.count) this.buckets.delete(key)
    }
    // still full: every bucket is in use; drop the oldest tenth (insertion order), which only
    // ever makes the limit more lenient for those keys, never stricter
    if (this.buckets.size >= this.maxKeys) {
      let drop = Math.ceil(this.maxKeys / 10)
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break
        this.buckets.delete(key)
      }
    }
  }
}
