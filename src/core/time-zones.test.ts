import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { firstValidZone, isValidTimeZone, localParts, nextWallClock, wallClockToInstant, zoneFor, zoneOffsetMs } from './time-zones.ts'

const iso = (date: Date) => date.toISOString()

describe('zoneFor', () => {
  it("takes the customer's zone, else the store's, else UTC; a name that is no IANA zone counts as none", () => {
    expect(zoneFor({ timezone: 'Europe/Paris' }, { timezone: 'America/Chicago' })).toBe('Europe/Paris')
    expect(zoneFor({ timezone: null }, { timezone: 'America/Chicago' })).toBe('America/Chicago')
    expect(zoneFor(null, { timezone: 'America/Chicago' })).toBe('America/Chicago')
    expect(zoneFor({ timezone: 'Mars/Olympus' }, { timezone: 'America/Chicago' })).toBe('America/Chicago')
    expect(zoneFor({ timezone: 'Mars/Olympus' }, { timezone: 'Not/AZone' })).toBe('UTC')
    expect(zoneFor(undefined, undefined)).toBe('UTC')
    expect(zoneFor({ timezone: 42 }, { timezone: '' })).toBe('UTC')
  })

  it('firstValidZone and isValidTimeZone agree, asked twice (the memo)', () => {
    expect(firstValidZone(null, 'Nowhere/Else', 'Asia/Tokyo')).toBe('Asia/Tokyo')
    for (let i = 0; i < 2; i++) {
      expect(isValidTimeZone('Asia/Tokyo')).toBe(true)
      expect(isValidTimeZone('Nowhere/Else')).toBe(false)
    }
  })
})

describe('localParts', () => {
  it('reads the wall clock in a zone, on both sides of a change', () => {
    expect(localParts(new Date('2026-03-08T06:59:59Z'), 'America/New_York')).toEqual({ year: 2026, month: 3, day: 8, hour: 1, minute: 59, second: 59 })
    expect(localParts(new Date('2026-03-08T07:00:00Z'), 'America/New_York')).toEqual({ year: 2026, month: 3, day: 8, hour: 3, minute: 0, second: 0 })
    expect(localParts(new Date('2026-06-10T23:00:00Z'), 'Asia/Tokyo')).toEqual({ year: 2026, month: 6, day: 11, hour: 8, minute: 0, second: 0 })
    expect(zoneOffsetMs(Date.parse('2026-07-01T00:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * 3_600_000)
  })
})

describe('wallClockToInstant', () => {
  it('an ordinary time is one instant', () => {
    expect(iso(wallClockToInstant({ year: 2026, month: 6, day: 11, hour: 8, minute: 0 }, 'Asia/Tokyo'))).toBe('2026-06-10T23:00:00.000Z')
    expect(iso(wallClockToInstant({ year: 2026, month: 1, day: 15, hour: 9, minute: 30 }, 'America/New_York'))).toBe('2026-01-15T14:30:00.000Z')
    expect(iso(wallClockToInstant({ year: 2026, month: 1, day: 15, hour: 9, minute: 30 }, 'UTC'))).toBe('2026-01-15T09:30:00.000Z')
  })

  it('a time the clock skips (spring forward) is the end of the gap', () => {
    // New York jumps from 02:00 EST to 03:00 EDT
    expect(iso(wallClockToInstant({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z')
    // Berlin jumps from 02:00 CET to 03:00 CEST
    expect(iso(wallClockToInstant({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin'))).toBe('2026-03-29T01:00:00.000Z')
    // London's gap is 01:00–02:00
    expect(iso(wallClockToInstant({ year: 2026, month: 3, day: 29, hour: 1, minute: 30 }, 'Europe/London'))).toBe('2026-03-29T01:00:00.000Z')
    // Lord Howe moves by half an hour: 02:00 → 02:30 (+10:30 → +11)
    expect(iso(wallClockToInstant({ year: 2026, month: 10, day: 4, hour: 2, minute: 15 }, 'Australia/Lord_Howe'))).toBe('2026-10-03T15:30:00.000Z')
  })

  it('a time the clock shows twice (fall back) is the first, or the first after `after`', () => {
    // Berlin: 02:30 CEST (00:30Z), then again 02:30 CET (01:30Z)
    const berlin = { year: 2026, month: 10, day: 25, hour: 2, minute: 30 }
    expect(iso(wallClockToInstant(berlin, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z')
    expect(iso(wallClockToInstant(berlin, 'Europe/Berlin', new Date('2026-10-25T00:15:00Z')))).toBe('2026-10-25T00:30:00.000Z')
    expect(iso(wallClockToInstant(berlin, 'Europe/Berlin', new Date('2026-10-25T00:45:00Z')))).toBe('2026-10-25T01:30:00.000Z')
    // New York: 01:30 EDT (05:30Z), then again 01:30 EST (06:30Z)
    const newYork = { year: 2026, month: 11, day: 1, hour: 1, minute: 30 }
    expect(iso(wallClockToInstant(newYork, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z')
    expect(iso(wallClockToInstant(newYork, 'America/New_York', new Date('2026-11-01T05:40:00Z')))).toBe('2026-11-01T06:30:00.000Z')
  })
})

describe('nextWallClock', () => {
  it('is the next time the clock reads hh:mm, today or tomorrow', () => {
    expect(iso(nextWallClock(new Date('2026-06-10T06:00:00Z'), 9, 0, 'Europe/Berlin'))).toBe('2026-06-10T07:00:00.000Z')
    expect(iso(nextWallClock(new Date('2026-06-10T07:00:00Z'), 9, 0, 'Europe/Berlin'))).toBe('2026-06-11T07:00:00.000Z')
    expect(iso(nextWallClock(new Date('2026-06-10T23:30:00Z'), 9, 0, 'Asia/Tokyo'))).toBe('2026-06-11T00:00:00.000Z')
  })

  it('across a change: a skipped time is the end of the gap; a repeated one the next showing', () => {
    // 23:00 EST the evening before: 02:30 does not exist that night, 03:00 EDT does
    expect(iso(nextWallClock(new Date('2026-03-08T04:00:00Z'), 2, 30, 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z')
    // the day after the change, 09:00 is EDT
    expect(iso(nextWallClock(new Date('2026-03-08T04:00:00Z'), 9, 0, 'America/New_York'))).toBe('2026-03-08T13:00:00.000Z')
    // Berlin, 00:00 CEST: the first 02:30 is CEST
    expect(iso(nextWallClock(new Date('2026-10-24T22:00:00Z'), 2, 30, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z')
    // Berlin, 02:15 CET (the clock has fallen back): 02:30 comes again in a quarter of an hour
    expect(iso(nextWallClock(new Date('2026-10-25T01:15:00Z'), 2, 30, 'Europe/Berlin'))).toBe('2026-10-25T01:30:00.000Z')
  })
})

const ZONES = [
  'UTC',
  'America/New_York',
  'America/Santiago',
  'Europe/Berlin',
  'Europe/London',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/St_Johns',
]
const zone = fc.constantFrom(...ZONES)
// whole minutes between 2000 and 2040
const minuteInstant = fc.integer({ min: Date.UTC(2000, 0, 1) / 60_000, max: Date.UTC(2040, 0, 1) / 60_000 }).map((m) => m * 60_000)
const localTime = fc.record({
  year: fc.integer({ min: 2000, max: 2039 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
})
const wall = (l: { year: number; month: number; day: number; hour: number; minute: number; second?: number }) =>
  Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second ?? 0)

describe('time-zone properties', () => {
  it('an instant read as a wall clock and converted back is itself, or the earlier showing of that time', () => {
    fc.assert(
      fc.property(minuteInstant, zone, (ms, z) => {
        const local = localParts(new Date(ms), z)
        const back = wallClockToInstant(local, z).getTime()
        expect(back).toBeLessThanOrEqual(ms)
        expect(wall(localParts(new Date(back), z))).toBe(wall(local))
        expect(wallClockToInstant(local, z, new Date(ms - 1)).getTime()).toBe(ms)
      }),
    )
  })

  it('a wall-clock time converts to an instant showing it, or, in a gap, to the first instant past it', () => {
    fc.assert(
      fc.property(localTime, zone, (local, z) => {
        const at = wallClockToInstant(local, z).getTime()
        const shown = wall(localParts(new Date(at), z))
        if (shown !== wall(local)) {
          expect(shown).toBeGreaterThan(wall(local))
          expect(wall(localParts(new Date(at - 1000), z))).toBeLessThan(wall(local))
        }
      }),
    )
  })

  it('nextWallClock is after now, within a day and an hour, and shows the time unless the clock skips it', () => {
    fc.assert(
      fc.property(minuteInstant, zone, fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), (ms, z, hh, mm) => {
        const next = nextWallClock(new Date(ms), hh, mm, z).getTime()
        expect(next).toBeGreaterThan(ms)
        expect(next - ms).toBeLessThanOrEqual(25 * 3_600_000)
        const shown = localParts(new Date(next), z)
        if (shown.hour !== hh || shown.minute !== mm) expect(zoneOffsetMs(next - 1000, z)).not.toBe(zoneOffsetMs(next, z))
      }),
    )
  })
})
