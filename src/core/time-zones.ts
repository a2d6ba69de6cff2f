/**
 * Time zones, in one place: which zone a customer's wall clock is read in, and the conversions
 * between an instant and what a wall clock in a zone shows. Quiet hours and `wait: { until }`
 * both stand on these, so a DST change moves them the same way.
 *
 * Zone names come from customer and store data: a name that is not an IANA zone counts as none.
 */

/** What a wall clock shows; month 1–12. */
export interface LocalDateTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second?: number
}

/**
 * Checking a name builds an `Intl.DateTimeFormat`, which costs more than the guardrail gate that
 * asks before every send. A name's validity does not change while the process runs; the memo is
 * bounded because the names come from customer data.
 */
const zoneValidity = new Map<string, boolean>()
const ZONE_MEMO_LIMIT = 2000

export function isValidTimeZone(zone: string): boolean {
  let valid = zoneValidity.get(zone)
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone })
      valid = true
    } catch {
      valid = false
    }
    if (zoneValidity.size >= ZONE_MEMO_LIMIT) zoneValidity.clear()
    zoneValidity.set(zone, valid)
  }
  return valid
}

/** The first of `zones` that is an IANA zone, else UTC. */
export function firstValidZone(...zones: Array<string | null | undefined>): string {
  for (const zone of zones) {
    if (zone && isValidTimeZone(zone)) return zone
  }
  return 'UTC'
}

/** The zone a customer's wall clock is read in: the customer's, else the store's, else UTC. */
export function zoneFor(customer: { timezone?: unknown } | null | undefined, store: { timezone?: unknown } | null | undefined): string {
  return firstValidZone(zoneName(customer?.timezone), zoneName(store?.timezone))
}

function zoneName(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

// one formatter per zone: building one costs far more than formatting with it; only valid names
// get here (an invalid one throws before it is kept), so the map stays as small as the zone list
const localFormats = new Map<string, Intl.DateTimeFormat>()

/** What the wall clock in `zone` shows at `instant` (to the second). */
export function localParts(instant: Date, zone: string): Required<LocalDateTime> {
  let format = localFormats.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    localFormats.set(zone, format)
  }
  const parts: Record<string, number> = {}
  for (const part of format.formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  }
}

/** How far the wall clock in `zone` is ahead of UTC at `ms`, in ms (negative west of Greenwich). */
export function zoneOffsetMs(ms: number, zone: string): number {
  const local = localParts(new Date(ms), zone)
  return asUtc(local) - Math.floor(ms / 1000) * 1000
}

function asUtc(local: LocalDateTime): number {
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0)
}

const DAY_MS = 86_400_000

/**
 * The instant the wall clock in `zone` shows `local`.
 * - Most times it shows it once.
 * - When the clock falls back it shows it twice: the earlier, or with `after`, the first later
 *   than `after` (the clock will read it again within the hour).
 * - When the clock springs forward it never shows it: the end of the gap, the first instant after
 *   the skipped time, so "at 02:30" on that night means "as soon as the clock is past it".
 */
export function wallClockToInstant(local: LocalDateTime, zone: string, after?: Date): Date {
  const wall = asUtc(local)
  // the offsets a day either side; no zone changes its offset twice within two days
  const before = zoneOffsetMs(wall - DAY_MS, zone)
  const later = zoneOffsetMs(wall + DAY_MS, zone)
  const candidates = [...new Set([wall - before, wall - later])].filter((instant) => asUtc(localParts(new Date(instant), zone)) === wall).sort((a, b) => a - b)
  if (candidates.length > 0) {
    const pick = after ? (candidates.find((instant) => instant > after.getTime()) ?? candidates[candidates.length - 1]!) : candidates[0]!
    return new Date(pick)
  }
  return new Date(gapEnd(wall - later, wall - before, zone))
}

/**
 * The instant the offset changes, between `lo` (the old offset) and `hi` (the new one). Offsets
 * change on whole seconds, so the search keeps to them.
 */
function gapEnd(lo: number, hi: number, zone: string): number {
  const old = zoneOffsetMs(lo, zone)
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000
    if (zoneOffsetMs(mid, zone) === old) lo = mid
    else hi = mid
  }
  return hi
}

/** The first instant after `now` at which the wall clock in `zone` reads hh:mm. */
export function nextWallClock(now: Date, hour: number, minute: number, zone: string): Date {
  const today = localParts(now, zone)
  for (let days = 0; days <= 2; days++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + days))
    const at = wallClockToInstant({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour, minute }, zone, now)
    if (at.getTime() > now.getTime()) return at
  }
  return new Date(now.getTime() + DAY_MS)
}
