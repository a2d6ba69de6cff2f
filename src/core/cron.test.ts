import { describe, expect, it } from 'vitest'
import { cronProblem, latestTickAtOrBefore, nextTickAfter, timeZoneProblem } from './cron.ts'

const berlin = { cron: '0 9 * * *', timezone: 'Europe/Berlin' }
const iso = (d: Date | null) => d?.toISOString() ?? null

describe('cron maths', () => {
  it('keeps local time across the change to summer time', () => {
    expect(iso(nextTickAfter(berlin, new Date('2026-03-28T08:00:00Z')))).toBe('2026-03-29T07:00:00.000Z')
    expect(iso(nextTickAfter(berlin, new Date('2026-03-27T10:00:00Z')))).toBe('2026-03-28T08:00:00.000Z')
  })

  it('counts a tick exactly at the reference as the latest, and the next strictly after', () => {
    expect(iso(latestTickAtOrBefore(berlin, new Date('2026-03-29T07:00:00Z')))).toBe('2026-03-29T07:00:00.000Z')
    expect(iso(latestTickAtOrBefore(berlin, new Date('2026-03-29T06:59:59Z')))).toBe('2026-03-28T08:00:00.000Z')
    expect(iso(nextTickAfter(berlin, new Date('2026-03-29T07:00:00Z')))).toBe('2026-03-30T07:00:00.000Z')
  })

  it('names what is wrong', () => {
    const now = new Date('2026-03-01T00:00:00Z')
    expect(cronProblem(berlin, now)).toBeNull()
    expect(cronProblem({ cron: '0 9 * *', timezone: 'UTC' }, now)).toMatch(/not a valid cron expression/)
    expect(cronProblem({ cron: '0 0 30 2 *', timezone: 'UTC' }, now)).toBe('this cron expression never fires')
    expect(cronProblem({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }, now)).toMatch(/unknown time zone "Mars\/Olympus"/)
    expect(timeZoneProblem('Europe/Berlin')).toBeNull()
    expect(timeZoneProblem('Europe/Berlln')).toMatch(/IANA/)
  })
})
