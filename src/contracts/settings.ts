import { z } from 'zod'

const duration = z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/, 'must be a duration like "90s", "16h" or "30d"')
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like "21:00"')

/** Store settings (PRODUCT.md §7). PUT changes only the keys it names. */
export const settingsSchema = z.strictObject({
  cart_abandoned_after: duration,
  /** null switches the cap off */
  frequency_cap: duration.nullable(),
  /** null switches quiet hours off */
  quiet_hours: z.strictObject({ start: clockTime, end: clockTime }).nullable(),
  attribution_window: duration,
  inactive_after: duration,
  renewal_notice: duration,
})

export type Settings = z.infer<typeof settingsSchema>

export const DEFAULT_SETTINGS: Settings = {
  cart_abandoned_after: '1h',
  frequency_cap: '16h',
  quiet_hours: { start: '21:00', end: '08:00' },
  attribution_window: '5d',
  inactive_after: '90d',
  renewal_notice: '7d',
}

export const settingsPatchSchema = settingsSchema.partial()
