/**
 * Counts failures per key in a sliding window, on a clock the caller passes in (the engine's, so
 * tests move time by hand): at `limit` failures within `windowMs` the key is blocked until the
 * oldest of them leaves the window. Only failures count, so a user who signs in right is never
 * slowed down. Memory is bounded by `maxKeys`: past it, keys whose failures have all expired go
 * first, then the oldest keys (which only ever makes the limit more lenient for them).
 */
export class FailureWindow {
  private readonly failures = new Map<string, number[]>()

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Milliseconds until the key may try again, or null when it may now. */
  blockedFor(key: string, nowMs: number): number | null {
    const times = this.live(key, nowMs)
    if (times.length < this.limit) return null
    return Math.max(1, times[times.length - this.limit]! + this.windowMs - nowMs)
  }

  fail(key: string, nowMs: number): void {
    const times = this.live(key, nowMs)
    if (times.length === 0) {
      if (this.failures.size >= this.maxKeys) this.evict(nowMs)
      this.failures.set(key, times)
    }
    times.push(nowMs)
    // more than `limit` failures never block for longer: keep the last ones only
    if (times.length > this.limit) times.splice(0, times.length - this.limit)
  }

  clear(key: string): void {
    this.failures.delete(key)
  }

  /** the failures of a key still in the window (a clock set back keeps them, never drops them early) */
  private live(key: string, nowMs: number): number[] {
    const times = this.failures.get(key)
    if (!times) return []
    while (times.length > 0 && times[0]! + this.windowMs <= nowMs) times.shift()
    if (times.length === 0) this.failures.delete(key)
    return times
  }

  private evict(nowMs: number): void {
    for (const [key, times] of this.failures) if ((times[times.length - 1] ?? 0) + this.windowMs <= nowMs) this.failures.delete(key)
    if (this.failures.size < this.maxKeys) return
    let drop = Math.ceil(this.maxKeys / 10)
    for (const key of this.failures.keys()) {
      if (drop-- <= 0) break
      this.failures.delete(key)
    }
  }
}
