import { describe, expect, it } from 'vitest'
import { parseRate, TokenBuckets } from './token-bucket.ts'

describe('parseRate (STOREFLOW_INGEST_RATE_LIMIT)', () => {
  it('reads count/period, a bare count per minute, and 0 or empty as no limit', () => {
    expect(parseRate('600/min')).toEqual({ count: 600, periodMs: 60_000 })
    expect(parseRate('10/s')).toEqual({ count: 10, periodMs: 1_000 })
    expect(parseRate(' 36000 / h ')).toEqual({ count: 36_000, periodMs: 3_600_000 })
    expect(parseRate('120')).toEqual({ count: 120, periodMs: 60_000 })
    expect(parseRate(120)).toEqual({ count: 120, periodMs: 60_000 })
    expect(parseRate('0')).toBeNull()
    expect(parseRate('0/s')).toBeNull()
    expect(parseRate('')).toBeNull()
  })
  it.each(['lots', '-5', '1.5/s', '10/fortnight', '10/', '/s', '1e3'])('refuses %j, saying what it expects', (bad) => {
    expect(() => parseRate(bad)).toThrow(/like 600\/min/)
  })
})

describe('TokenBuckets', () => {
  it('a full period may come at once, then one per refill interval; keys are separate', () => {
    const b = new TokenBuckets({ count: 3, periodMs: 60_000 })
    const t = 1_000_000
    expect([0, 1, 2].map(() => b.take('a', t).ok)).toEqual([true, true, true])
    expect(b.take('a', t)).toEqual({ ok: false, retryAfterMs: 20_000 })
    expect(b.take('b', t).ok).toBe(true)
    expect(b.take('a', t + 19_999).ok).toBe(false)
    expect(b.take('a', t + 20_000).ok).toBe(true)
    expect(b.take('a', t + 20_000).ok).toBe(false)
    // a long pause refills to the burst size, not beyond
    expect([0, 1, 2, 3].map(() => b.take('a', t + 3_600_000).ok)).toEqual([true, true, true, false])
  })

  it('a clock set back neither refills nor drains', () => {
    const b = new TokenBuckets({ count: 1, periodMs: 1_000 })
    expect(b.take('k', 10_000).ok).toBe(true)
    expect(b.take('k', 5_000).ok).toBe(false)
    expect(b.take('k', 6_000).ok).toBe(true)
  })

  it('holds at most maxKeys buckets, dropping refilled ones first', () => {
    const b = new TokenBuckets({ count: 1, periodMs: 1_000 }, 100)
    for (let i = 0; i < 1_000; i++) b.take(`k${i}`, i * 10)
    expect(b.size).toBeLessThanOrEqual(100)
    // a key still inside its interval keeps its bucket when refilled ones can go instead
    const c = new TokenBuckets({ count: 1, periodMs: 1_000_000 }, 3)
    c.take('x', 0)
    c.take('y', 0)
    c.take('busy', 900_000)
    // at 1,000,000 x and y have refilled, busy has not: making room for z drops x and y only
    expect(c.take('z', 1_000_000).ok).toBe(true)
    expect(c.size).toBe(2)
    expect(c.take('busy', 1_000_000).ok).toBe(false)
  })
})
