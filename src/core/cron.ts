import { Cron } from 'croner'

/**
 * Cron maths for schedules (`trigger: { cron, timezone }`), in a time zone: a tick at 09:00
 * Europe/Berlin is 08:00 UTC in winter and 07:00 UTC in summer. Pure: times in, times out.
 * Expressions have 5 fields (minute hour day month weekday) or 6 (seconds first).
 */
export interface CronSchedule {
  cron: string
  /** an IANA time zone, like Europe/Berlin */
  timezone: string
}

/** What is wrong with a time zone name, or null when Intl knows it. */
export function timeZoneProblem(timezone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
    return null
  } catch {
    return `unknown time zone "${timezone}"; use an IANA name like "Europe/Berlin" or "UTC"`
  }
}

/** What is wrong with a cron expression (in its time zone), or null when it is valid and ever fires. */
export function cronProblem(schedule: CronSchedule, now: Date): string | null {
  let cron: Cron
  try {
    cron = compile(schedule)
  } catch (err) {
    return `not a valid cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}`
  }
  try {
    return cron.nextRun(now) ? null : 'this cron expression never fires'
  } catch {
    // croner reads the zone only when it computes a time
    return timeZoneProblem(schedule.timezone) ?? 'this cron expression cannot be computed'
  }
}

/** The first tick strictly after `after`, or null when the expression never fires again. */
export function nextTickAfter(schedule: CronSchedule, after: Date): Date | null {
  return compile(schedule).nextRun(after)
}

/** The last tick at or before `at`, or null when there was none (the schedule's latest missed time). */
export function latestTickAtOrBefore(schedule: CronSchedule, at: Date): Date | null {
  // previousRuns counts strictly before its reference
  return compile(schedule).previousRuns(1, new Date(at.getTime() + 1))[0] ?? null
}

function compile(schedule: CronSchedule): Cron {
  return new Cron(schedule.cron, { timezone: schedule.timezone, paused: true })
}
