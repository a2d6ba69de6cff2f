import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { creditedTouch, takenBackMicros, type TouchCandidate } from './attribution.ts'

const DAY = 86_400_000
const order = '2026-03-10T12:00:00.000Z'
const ago = (ms: number) => new Date(Date.parse(order) - ms).toISOString()
const rule = { windowMs: 5 * DAY, opens: false }

describe('creditedTouch', () => {
  it('credits the most recent click inside the window', () => {
    const touches: TouchCandidate[] = [
      { messageId: 'm1', touch: 'click', at: ago(3 * DAY) },
      { messageId: 'm2', touch: 'click', at: ago(1 * DAY) },
      { messageId: 'm3', touch: 'click', at: ago(4 * DAY) },
    ]
    expect(creditedTouch(order, rule, touches)?.messageId).toBe('m2')
  })

  it('ignores clicks after the order and at or beyond the window', () => {
    const touches: TouchCandidate[] = [
      { messageId: 'late', touch: 'click', at: ago(-1000) },
      { messageId: 'edge', touch: 'click', at: ago(5 * DAY) },
      { messageId: 'old', touch: 'click', at: ago(6 * DAY) },
    ]
    expect(creditedTouch(order, rule, touches)).toBeNull()
    expect(creditedTouch(order, rule, [...touches, { messageId: 'now', touch: 'click', at: order }])?.messageId).toBe('now')
  })

  it('counts opens only when the store says so, and a click wins a tie with an open', () => {
    const touches: TouchCandidate[] = [
      { messageId: 'clicked', touch: 'click', at: ago(2 * DAY) },
      { messageId: 'opened', touch: 'open', at: ago(1 * DAY) },
    ]
    expect(creditedTouch(order, rule, touches)?.messageId).toBe('clicked')
    expect(creditedTouch(order, { ...rule, opens: true }, touches)?.messageId).toBe('opened')
    const tie: TouchCandidate[] = [
      { messageId: 'a', touch: 'open', at: ago(DAY) },
      { messageId: 'b', touch: 'click', at: ago(DAY) },
    ]
    expect(creditedTouch(order, { ...rule, opens: true }, tie)).toMatchObject({ messageId: 'b', touch: 'click' })
  })

  const candidate = fc.record({
    messageId: fc.stringMatching(/^m[0-9a-f]{1,4}$/),
    touch: fc.constantFrom<'click' | 'open'>('click', 'open'),
    at: fc.integer({ min: -8 * DAY, max: 2 * DAY }).map((ms) => ago(ms)),
  })

  it('is the latest eligible touch, whatever order the candidates come in', () => {
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 20 }), fc.boolean(), fc.integer({ min: 1, max: 10 }), (touches, opens, days) => {
        const r = { windowMs: days * DAY, opens }
        const got = creditedTouch(order, r, touches)
        const eligible = touches.filter((t) => (opens || t.touch === 'click') && t.at <= order && Date.parse(t.at) > Date.parse(order) - r.windowMs)
        if (eligible.length === 0) return got === null
        if (!got) return false
        // nothing eligible is later; the answer itself is eligible
        if (!eligible.includes(got)) return false
        if (eligible.some((t) => t.at > got.at)) return false
        // the same answer for the candidates reversed
        const reversed = creditedTouch(order, r, [...touches].reverse())
        return reversed?.messageId === got.messageId && reversed.touch === got.touch && reversed.at === got.at
      }),
    )
  })
})

describe('takenBackMicros', () => {
  it('is all of it once cancelled, else the refund capped to the amount', () => {
    expect(takenBackMicros(50_000_000n, 0n, true)).toBe(50_000_000n)
    expect(takenBackMicros(50_000_000n, 20_000_000n, false)).toBe(20_000_000n)
    expect(takenBackMicros(50_000_000n, 80_000_000n, false)).toBe(50_000_000n)
    expect(takenBackMicros(50_000_000n, -1n, false)).toBe(0n)
  })
})
