import { z } from 'zod'

const duration = z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/, 'must be a duration like "90s", "16h" or "30d"')
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like "21:00"')

/** Store settings (docs/http-api.md, Settings). PUT changes only the keys it names. */
export const settingsSchema = z.strictObject({
  cart_abandoned_after: duration.describe('How long after its last update a cart with an email and no order counts as abandoned (cart.abandoned)'),
  /** null switches the cap off */
  frequency_cap: duration
    .nullable()
    .describe('At most one marketing message per customer per this long, across workflows and channels; a capped step is skipped. null: no cap'),
  /** null switches quiet hours off */
  quiet_hours: z
    .strictObject({ start: clockTime, end: clockTime })
    .nullable()
    .describe("No marketing message from start to end (HH:MM) in the customer's time zone, else the store's; a step in them waits until they end. null: none"),
  attribution_window: duration.describe('How long after a message an order counts toward its workflow (for analytics, not built yet)'),
  inactive_after: duration.describe('How long without an order makes a customer inactive (customer.inactive, once per inactive spell)'),
  renewal_notice: duration.describe('How long before next_renewal_at subscription.renewal_due falls'),
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
