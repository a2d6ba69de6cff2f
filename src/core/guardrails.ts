import { UserError } from '../lib/errors.ts'
import { parseDuration } from '../lib/durations.ts'
import { localParts, wallClockToInstant } from './time-zones.ts'

/**
 * Guardrails that hold across all workflows (docs/workflows.md, Guardrails): consent, the marketing frequency
 * cap and quiet hours. Pure functions of their inputs and `now`; the send actions feed them.
 * Transactional messages are exempt from the cap and from quiet hours, never from anything else.
 */

export type MessageCategory = 'transactional' | 'marketing'

export interface QuietHours {
  /** local wall-clock time `HH:MM` when quiet starts; default `21:00` */
  start: string
  /** local wall-clock time `HH:MM` when quiet ends; default `08:00` (wraps midnight when before start) */
  end: string
}

export interface GuardrailSettings {
  /** shortest gap between two marketing messages to one customer, ms; null: no cap. Default 16 h */
  frequencyCapMs: number | null
  /** null: no quiet hours */
  quietHours: QuietHours | null
}

export const DEFAULT_FREQUENCY_CAP = '16h'
export const DEFAULT_QUIET_HOURS: QuietHours = { start: '21:00', end: '08:00' }

export type GuardrailVerdict = { allowed: true } | { allowed: false; reason: 'no_consent' | 'frequency_cap'; until?: Date }

/**
 * Reads `frequency_cap` and `quiet_hours` from the store settings (GET /api/v1/settings), with the
 * defaults for missing keys. `frequency_cap: null | "0s"` and `quiet_hours: null` switch them off.
 */
export function guardrailSettings(settings: Record<string, unknown> | undefined): GuardrailSettings {
  const s = settings ?? {}
  let frequencyCapMs: number | null
  const cap = s.frequency_cap
  if (cap === undefined) frequencyCapMs = parseDuration(DEFAULT_FREQUENCY_CAP)
  else if (cap === null || cap === false) frequencyCapMs = null
  else if (typeof cap === 'string') frequencyCapMs = parseDuration(cap, 'settings.frequency_cap') || null
  else throw new UserError('settings.frequency_cap: write it as a duration like "16h", or null for no cap', { code: 'validation_failed' })

  let quietHours: QuietHours | null
  const quiet = s.quiet_hours
  if (quiet === undefined) quietHours = DEFAULT_QUIET_HOURS
  else if (quiet === null || quiet === false) quietHours = null
  else if (typeof quiet === 'object' && typeof (quiet as QuietHours).start === 'string' && typeof (quiet as QuietHours).end === 'string') {
    const q = quiet as QuietHours
    parseClock(q.start, 'settings.quiet_hours.start')
    parseClock(q.end, 'settings.quiet_hours.end')
    quietHours = { start: q.start, end: q.end }
  } else {
    throw new UserError('settings.quiet_hours: write it as { start: "21:00", end: "08:00" }, or null for none', { code: 'validation_failed' })
  }
  return { frequencyCapMs, quietHours }
}

/** Marketing only to customers who accept it and have not unsubscribed; transactional always. */
export function checkConsent(category: MessageCategory, customer: { accepts_marketing: boolean; unsubscribed_at: string | null } | null): GuardrailVerdict {
  if (category === 'transactional') return { allowed: true }
  // no customer: nobody to hold consent, so no marketing
  if (customer?.accepts_marketing !== true || customer.unsubscribed_at) return { allowed: false, reason: 'no_consent' }
  return { allowed: true }
}

/**
 * Allowed when the last marketing send is at least `capMs` ago. `until` says when the cap lifts,
 * for the timeline; a capped step is skipped, not deferred (docs/workflows.md, Guardrails).
 */
export function checkFrequencyCap(category: MessageCategory, lastMarketingSentAt: Date | null, capMs: number | null, now: Date): GuardrailVerdict {
  if (category === 'transactional' || capMs === null || capMs <= 0 || lastMarketingSentAt === null) return { allowed: true }
  const until = new Date(lastMarketingSentAt.getTime() + capMs)
  return until.getTime() > now.getTime() ? { allowed: false, reason: 'frequency_cap', until } : { allowed: true }
}

/**
 * When `now` falls in the quiet period in `timeZone`, the instant the period ends; else null.
 * The window is `[start, end)` on the local wall clock and wraps midnight when end ≤ start
 * (21:00–08:00). `start === end` means no quiet hours. The end is computed on the local wall
 * clock and converted back (wallClockToInstant), so a DST change during the night still ends at
 * 08:00 local; an end inside a DST gap moves to the first instant after the gap, and an end the
 * clock shows twice is the first showing after `now`.
 */
export function quietHoursEnd(now: Date, timeZone: string, quiet: QuietHours | null = DEFAULT_QUIET_HOURS): Date | null {
  if (!quiet) return null
  const start = parseClock(quiet.start, 'quiet_hours.start')
  const end = parseClock(quiet.end, 'quiet_hours.end')
  if (start === end) return null
  const local = localParts(now, timeZone)
  const minute = local.hour * 60 + local.minute
  const wraps = end < start
  const quietNow = wraps ? minute >= start || minute < end : minute >= start && minute < end
  if (!quietNow) return null
  // the end is later today, unless we are in the evening part of a window that wraps midnight
  const endsTomorrow = wraps && minute >= start
  const day = new Date(Date.UTC(local.year, local.month - 1, local.day + (endsTomorrow ? 1 : 0)))
  return wallClockToInstant(
    { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: Math.floor(end / 60), minute: end % 60 },
    timeZone,
    now,
  )
}

/** `HH:MM` (24 h) → minutes after midnight. */
export function parseClock(text: string, field = 'time'): number {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim())
  if (!m) throw new UserError(`${field}: "${text}" is not a time of day; write it like "21:00"`, { code: 'validation_failed', details: { field } })
  return Number(m[1]) * 60 + Number(m[2])
}

export type GuardrailDecision =
  | { kind: 'send' }
  | { kind: 'skip'; reason: 'no_consent' | 'frequency_cap'; until?: Date }
  | { kind: 'defer'; reason: 'quiet_hours'; until: Date }

export interface GuardrailInput {
  category: MessageCategory
  customer: { accepts_marketing: boolean; unsubscribed_at: string | null } | null
  settings: GuardrailSettings
  /** the zone quiet hours are read in: zoneFor(customer, store) */
  timeZone: string
  now: Date
  /** the customer's last marketing send on this channel, across all workflows */
  lastMarketingSentAt: Date | null
}

/**
 * All three guardrails in the order a user expects to read them on the timeline: consent
 * (skip), frequency cap (skip), quiet hours (defer, never drop).
 */
export function evaluateGuardrails(input: GuardrailInput): GuardrailDecision {
  const consent = checkConsent(input.category, input.customer)
  if (!consent.allowed) return { kind: 'skip', reason: 'no_consent' }
  if (input.category === 'transactional') return { kind: 'send' }
  const cap = checkFrequencyCap(input.category, input.lastMarketingSentAt, input.settings.frequencyCapMs, input.now)
  if (!cap.allowed) return cap.until ? { kind: 'skip', reason: 'frequency_cap', until: cap.until } : { kind: 'skip', reason: 'frequency_cap' }
  const until = quietHoursEnd(input.now, input.timeZone, input.settings.quietHours)
  if (until) return { kind: 'defer', reason: 'quiet_hours', until }
  return { kind: 'send' }
}
