import { evaluateValue, compileCel } from '../core/cel.ts'
import { firstValidZone, nextWallClock, zoneFor } from '../core/time-zones.ts'
import { UserError } from '../lib/errors.ts'

/**
 * `wait: { until: … }`: a wall-clock time "09:00" (the next one, in the customer's or the
 * store's time zone, or a named IANA zone), an ISO-8601 instant, or a CEL expression giving one
 * (`trigger.data.next_renewal_at`).
 */
export function resolveUntil(until: string, timezone: string | undefined, scope: Record<string, unknown>, now: Date): Date {
  const clock = /^(\d{1,2}):(\d{2})$/.exec(until.trim())
  if (clock) return nextWallClock(now, Number(clock[1]), Number(clock[2]), waitZone(timezone, scope))
  if (/^\d{4}-\d{2}-\d{2}/.test(until) && !Number.isNaN(Date.parse(until))) return new Date(until)
  const value = evaluateValue(compileCel(until), scope)
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null
  if (!date || Number.isNaN(date.getTime())) throw new UserError(`wait until "${until}" did not give a time (got ${JSON.stringify(value)})`)
  return date
}

/** `timezone:` of the wait: `customer` (the default), `store`, or an IANA name. */
function waitZone(timezone: string | undefined, scope: Record<string, unknown>): string {
  const customer = scope.customer as { timezone?: unknown } | null | undefined
  const store = scope.store as { timezone?: unknown } | null | undefined
  if (!timezone || timezone === 'customer') return zoneFor(customer, store)
  if (timezone === 'store') return zoneFor(null, store)
  return firstValidZone(timezone)
}
