import { DEFAULT_SETTINGS, type Settings } from '../contracts/settings.ts'
import { parseDuration } from '../lib/durations.ts'

/**
 * What the time-based derived triggers share. Each sweeps the store's view on a schedule for
 * what time has made true (a cart idle for an hour, a customer without an order for 90 days) and
 * derives one event per occurrence, its id naming the occurrence, so a sweep that finds it again
 * (the next minute, another worker) stores nothing new.
 *
 * Downtime: the next sweep finds what fell due meanwhile and derives it once, late. Only as far
 * back as CATCH_UP_MS: an occurrence older than that is not announced, so a store importing its
 * history, or coming back after a long outage, does not send a year of reminders at once.
 */
export const CATCH_UP_MS = 7 * 86_400_000

/** At most this many events per store and sweep; the next sweep goes on where this one stopped. */
export const SWEEP_LIMIT = 1000

type DurationSetting = 'cart_abandoned_after' | 'inactive_after' | 'renewal_notice'

/** A duration setting of the store in ms: its own value, else the default. */
export function settingMs(settings: Record<string, unknown>, key: DurationSetting): number {
  const value = settings[key]
  try {
    if (typeof value === 'string') return parseDuration(value, key)
  } catch {
    // a setting that no longer parses (settings are validated when PUT): the default applies
  }
  return parseDuration((DEFAULT_SETTINGS as Settings)[key], key)
}

export const iso = (ms: number) => new Date(ms).toISOString()
