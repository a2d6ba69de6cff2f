import { describe, expect, it } from 'vitest'
import { checkConsent, checkFrequencyCap, evaluateGuardrails, guardrailSettings, quietHoursEnd } from './guardrails.ts'

const H = 3_600_000

describe('quietHoursEnd', () => {
  const q = { start: '21:00', end: '08:00' }

  it('is null outside the quiet period', () => {
    expect(quietHoursEnd(new Date('2026-06-10T12:00:00Z'), 'UTC', q)).toBeNull()
    expect(quietHoursEnd(new Date('2026-06-10T20:59:00Z'), 'UTC', q)).toBeNull()
    expect(quietHoursEnd(new Date('2026-06-10T08:00:00Z'), 'UTC', q)).toBeNull()
  })

  it('wraps midnight: evening ends the next morning, small hours end the same morning', () => {
    expect(quietHoursEnd(new Date('2026-06-10T21:00:00Z'), 'UTC', q)?.toISOString()).toBe('2026-06-11T08:00:00.000Z')
    expect(quietHoursEnd(new Date('2026-06-10T23:30:00Z'), 'UTC', q)?.toISOString()).toBe('2026-06-11T08:00:00.000Z')
    expect(quietHoursEnd(new Date('2026-06-11T03:00:00Z'), 'UTC', q)?.toISOString()).toBe('2026-06-11T08:00:00.000Z')
  })

  it("reads the clock in the customer's zone", () => {
    // 02:00 UTC is 22:00 the evening before in New York (EDT, UTC-4): quiet until 08:00 EDT = 12:00 UTC
    expect(quietHoursEnd(new Date('2026-06-11T02:00:00Z'), 'America/New_York', q)?.toISOString()).toBe('2026-06-11T12:00:00.000Z')
    // 12:00 UTC is 21:00 in Tokyo: quiet until 08:00 JST next day = 23:00 UTC
    expect(quietHoursEnd(new Date('2026-06-11T12:00:00Z'), 'Asia/Tokyo', q)?.toISOString()).toBe('2026-06-11T23:00:00.000Z')
    expect(quietHoursEnd(new Date('2026-06-11T15:00:00Z'), 'America/New_York', q)).toBeNull()
  })

  it('ends at 08:00 local across a DST change during the night', () => {
    // Europe/Berlin springs forward on 2026-03-29 at 02:00 → 03:00: 08:00 CEST is 06:00 UTC
    expect(quietHoursEnd(new Date('2026-03-28T22:00:00Z'), 'Europe/Berlin', q)?.toISOString()).toBe('2026-03-29T06:00:00.000Z')
    // and falls back on 2026-10-25 at 03:00 → 02:00: 08:00 CET is 07:00 UTC
    expect(quietHoursEnd(new Date('2026-10-24T21:00:00Z'), 'Europe/Berlin', q)?.toISOString()).toBe('2026-10-25T07:00:00.000Z')
  })

  it('moves an end inside a DST gap to the end of the gap', () => {
    const gap = { start: '01:00', end: '02:30' }
    // 01:30 CET on 2026-03-29 = 00:30 UTC; 02:30 does not exist that night: clocks jump from
    // 02:00 CET to 03:00 CEST = 01:00 UTC, the first moment after the quiet period
    expect(quietHoursEnd(new Date('2026-03-29T00:30:00Z'), 'Europe/Berlin', gap)?.toISOString()).toBe('2026-03-29T01:00:00.000Z')
    // London jumps from 01:00 GMT to 02:00 BST (01:00 UTC); quiet hours ending 01:30 end then
    expect(quietHoursEnd(new Date('2026-03-29T00:45:00Z'), 'Europe/London', { start: '21:00', end: '01:30' })?.toISOString()).toBe('2026-03-29T01:00:00.000Z')
    // New York jumps from 02:00 EST to 03:00 EDT (07:00 UTC) on 2026-03-08
    expect(quietHoursEnd(new Date('2026-03-08T04:00:00Z'), 'America/New_York', { start: '21:00', end: '02:30' })?.toISOString()).toBe(
      '2026-03-08T07:00:00.000Z',
    )
  })

  it('ends at the first showing after now of an end the clock shows twice', () => {
    const night = { start: '21:00', end: '01:30' }
    // New York falls back on 2026-11-01 at 02:00 EDT → 01:00 EST: 01:30 shows at 05:30 and 06:30 UTC
    expect(quietHoursEnd(new Date('2026-11-01T04:00:00Z'), 'America/New_York', night)?.toISOString()).toBe('2026-11-01T05:30:00.000Z')
    // at 01:10 EST the first 01:30 is past: the quiet period ends at the second, never in the past
    expect(quietHoursEnd(new Date('2026-11-01T06:10:00Z'), 'America/New_York', night)?.toISOString()).toBe('2026-11-01T06:30:00.000Z')
  })

  it('handles a window that does not wrap, and an empty one', () => {
    const day = { start: '12:00', end: '14:00' }
    expect(quietHoursEnd(new Date('2026-06-10T13:00:00Z'), 'UTC', day)?.toISOString()).toBe('2026-06-10T14:00:00.000Z')
    expect(quietHoursEnd(new Date('2026-06-10T15:00:00Z'), 'UTC', day)).toBeNull()
    expect(quietHoursEnd(new Date('2026-06-10T13:00:00Z'), 'UTC', { start: '10:00', end: '10:00' })).toBeNull()
    expect(quietHoursEnd(new Date('2026-06-10T23:00:00Z'), 'UTC', null)).toBeNull()
  })
})

describe('frequency cap', () => {
  const now = new Date('2026-06-10T12:00:00Z')
  it('allows the first marketing message and transactional ones always', () => {
    expect(checkFrequencyCap('marketing', null, 16 * H, now)).toEqual({ allowed: true })
    expect(checkFrequencyCap('transactional', new Date(now.getTime() - H), 16 * H, now)).toEqual({ allowed: true })
  })
  it('refuses within the cap, with when it lifts', () => {
    const last = new Date(now.getTime() - 10 * H)
    expect(checkFrequencyCap('marketing', last, 16 * H, now)).toEqual({ allowed: false, reason: 'frequency_cap', until: new Date(last.getTime() + 16 * H) })
    expect(checkFrequencyCap('marketing', new Date(now.getTime() - 16 * H), 16 * H, now)).toEqual({ allowed: true })
  })
})

describe('consent', () => {
  const yes = { accepts_marketing: true, unsubscribed_at: null }
  it('sends marketing only to subscribed customers', () => {
    expect(checkConsent('marketing', yes).allowed).toBe(true)
    expect(checkConsent('marketing', { accepts_marketing: false, unsubscribed_at: null })).toEqual({ allowed: false, reason: 'no_consent' })
    expect(checkConsent('marketing', { accepts_marketing: true, unsubscribed_at: '2026-01-01T00:00:00Z' }).allowed).toBe(false)
    expect(checkConsent('marketing', null).allowed).toBe(false)
  })
  it('always allows transactional', () => {
    expect(checkConsent('transactional', { accepts_marketing: false, unsubscribed_at: '2026-01-01T00:00:00Z' }).allowed).toBe(true)
  })
})

describe('settings', () => {
  it('defaults to a 16h cap and 21:00–08:00', () => {
    expect(guardrailSettings({})).toEqual({ frequencyCapMs: 16 * H, quietHours: { start: '21:00', end: '08:00' } })
  })
  it('reads the settings shapes (docs/http-api.md) and turns guardrails off with null', () => {
    expect(guardrailSettings({ frequency_cap: '1d', quiet_hours: { start: '22:30', end: '07:00' } })).toEqual({
      frequencyCapMs: 24 * H,
      quietHours: { start: '22:30', end: '07:00' },
    })
    expect(guardrailSettings({ frequency_cap: null, quiet_hours: null })).toEqual({ frequencyCapMs: null, quietHours: null })
  })
  it('names the bad setting', () => {
    expect(() => guardrailSettings({ frequency_cap: 'often' })).toThrow(/settings\.frequency_cap/)
    expect(() => guardrailSettings({ quiet_hours: { start: '25:00', end: '08:00' } })).toThrow(/quiet_hours\.start/)
  })
})

describe('evaluateGuardrails', () => {
  const base = {
    customer: { accepts_marketing: true, unsubscribed_at: null },
    settings: guardrailSettings({}),
    timeZone: 'UTC',
    lastMarketingSentAt: null,
  }
  it('checks consent, then the cap, then quiet hours', () => {
    const night = new Date('2026-06-10T23:00:00Z')
    expect(evaluateGuardrails({ ...base, category: 'marketing', customer: null, now: night })).toEqual({ kind: 'skip', reason: 'no_consent' })
    expect(evaluateGuardrails({ ...base, category: 'marketing', now: night, lastMarketingSentAt: new Date('2026-06-10T20:00:00Z') })).toMatchObject({
      kind: 'skip',
      reason: 'frequency_cap',
    })
    expect(evaluateGuardrails({ ...base, category: 'marketing', now: night })).toEqual({
      kind: 'defer',
      reason: 'quiet_hours',
      until: new Date('2026-06-11T08:00:00Z'),
    })
    expect(evaluateGuardrails({ ...base, category: 'transactional', now: night, lastMarketingSentAt: night })).toEqual({ kind: 'send' })
  })
})
