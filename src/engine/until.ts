import { evaluateValue, compileCel } from '../core/cel.ts'
import { UserError } from '../lib/errors.ts'

/**
 * `wait: { until: … }`: a wall-clock time "09:00" (the next one, in the customer's or the
 * store's time zone, or a named IANA zone), an ISO-8601 instant, or a CEL expression giving one
 * (`trigger.data.next_renewal_at`).
 */
export function resolveUntil(until: string, timezone: string | undefined, scope: Record<string, unknown>, now: Date): Date {
  const clock = /^(\d{1,2}):(\d{2})$/.exec(until.trim())
  if (clock) {
    const zone = zoneFor(timezone, scope)
    return nextWallClock(now, Number(clock[1]), Number(clock[2]), zone)
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(until) && !Number.isNaN(Date.parse(until))) return new Date(until)
  const value = evaluateValue(compileCel(until), scope)
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null
  if (!date || Number.isNaN(date.getTime())) throw new UserError(`wait until "${until}" did not give a time (got ${JSON.stringify(value)})`)
  return date
}

function zoneFor(timezone: string | undefined, scope: Record<string, unknown>): string {
  const customerZone = (scope.customer as { timezone?: string } | null)?.timezone
  const storeZone = (scope.store as { timezone?: string } | null)?.timezone
  if (!timezone || timezone === 'customer') return validZone(customerZone) ?? validZone(storeZone) ?? 'UTC'
  if (timezone === 'store') return validZone(storeZone) ?? 'UTC'
  return validZone(timezone) ?? 'UTC'
}

function validZone(zone: string | undefined | null): string | null {
  if (!zone) return null
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return zone
  } catch {
    return null
  }
}

/** Offset of `zone` from UTC at `at`, in minutes (positive east). */
export function zoneOffsetMinutes(at: Date, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at)
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value)
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000)
}

/** The next instant after `now` at which the wall clock in `zone` reads hh:mm. */
export function nextWallClock(now: Date, hh: number, mm: number, zone: string): Date {
  for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
    const offset = zoneOffsetMinutes(now, zone)
    const local = new Date(now.getTime() + offset * 60_000)
    const guess = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + dayOffset, hh, mm) - offset * 60_000
    // correct for a DST change between now and the target
    const corrected = guess - (zoneOffsetMinutes(new Date(guess), zone) - offset) * 60_000
    if (corrected > now.getTime()) return new Date(corrected)
  }
  return new Date(now.getTime() + 86_400_000)
}
