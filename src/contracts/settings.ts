import { z } from 'zod'
import { RECIPIENT_RULE, isOneRecipient } from './mailbox.ts'

const duration = z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/, 'must be a duration like "90s", "16h" or "30d"')
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like "21:00"')

/** `#rrggbb`: the one colour form every mail client reads in inline CSS, and nothing else can ride along */
export const HEX_COLOR = /^#[0-9a-fA-F]{6}$/
const color = z.string().regex(HEX_COLOR, 'must be a colour like "#1a73e8" (#rrggbb)')

/**
 * An absolute http(s) URL without whitespace, quotes or angle brackets: it is printed into `src`
 * and `href` attributes of mail (escaped as well), so nothing in it can end the attribute.
 */
export function isWebUrl(value: string): boolean {
  if (!/^https?:\/\/[^\s"'<>\\`]+$/i.test(value)) return false
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

const webUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine(isWebUrl, 'must be an http:// or https:// URL like "https://shop.example/logo.png"')
/** text shown in mail: no control characters but line breaks */
const mailText = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    .refine((s) => !/[\u0000-\u0009\u000b-\u001f\u007f]/.test(s), 'must not contain control characters (line breaks are fine)')

/**
 * How the store's mail looks (core/messaging/layout.ts). PUT may name some of these keys; the
 * others keep their values. The defaults are the plain look every store starts with.
 */
export const brandSchema = z.strictObject({
  logo_url: webUrl
    .nullable()
    .describe(
      'The logo at the top of every email, an http(s) image URL (PNG or JPEG; SVG does not show in Gmail or Outlook); its alt text is the store name. null: the store name in text',
    ),
  logo_width: z.number().int().min(16).max(600).describe('Width the logo is shown at, CSS pixels (16 to 600); default 160'),
  logo_height: z
    .number()
    .int()
    .min(16)
    .max(300)
    .describe("Height the logo is shown at, CSS pixels (16 to 300); default 48. Keep the image's aspect ratio: Outlook uses both"),
  primary_color: color
    .nullable()
    .describe(
      '#rrggbb: the header band behind the logo or name, links, and buttons (`<a class="sf-button">`); null: the plain look (white header, dark buttons, links as the mail client shows them)',
    ),
  background_color: color.describe('#rrggbb around the white message card; default #f4f4f5'),
  footer_text: mailText(500)
    .nullable()
    .describe("Text under every email, such as the store's postal address (marketing mail must show one in many countries); line breaks are kept. null: none"),
})

export type BrandSettings = z.infer<typeof brandSchema>

export const DEFAULT_BRAND: BrandSettings = {
  logo_url: null,
  logo_width: 160,
  logo_height: 48,
  primary_color: null,
  background_color: '#f4f4f5',
  footer_text: null,
}

/** Store settings (docs/http-api.md, Settings). PUT changes only the keys it names. */
export const settingsSchema = z.strictObject({
  /** kept in the stores table, not with the other settings (store/stores.repo.ts); GET always has it */
  store_name: mailText(100)
    .refine((s) => s.trim() !== '' && !s.includes('\n'), 'must be one line, not empty')
    .optional()
    .describe(
      "The store's name: `store.name` in templates, the sender's display name, and the header and footer of its mail (the logo's alt text). Set at `storeflow stores create --name`",
    ),
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
  attribution_window: duration.describe(
    "How long after a customer clicked a message an order counts toward the message's workflow (orders and revenue attributed, per workflow and step)",
  ),
  attribution_opens: z
    .boolean()
    .describe(
      'Whether an opened message counts toward attribution like a clicked one (the most recent of them wins). Off by default: mail privacy features (Apple Mail Privacy Protection) load images, so they fake opens',
    ),
  inactive_after: duration.describe('How long without an order makes a customer inactive (customer.inactive, once per inactive spell)'),
  renewal_notice: duration.describe('How long before next_renewal_at subscription.renewal_due falls'),
  shop_url: webUrl
    .nullable()
    .describe("The shop's website, http(s): the logo in mail links to it, and templates link to it as `store.settings.shop_url`. null: none"),
  mail_from: z
    .string()
    .max(320)
    .refine((s) => isOneRecipient(s), RECIPIENT_RULE)
    .nullable()
    .optional()
    .describe(
      "The sender of the store's mail, `shop@example.com` (shown with the store name) or `Linen & Co <shop@example.com>`; a step's `from` overrides it. Unset or null: STOREFLOW_MAIL_FROM",
    ),
  mail_reply_to: z
    .string()
    .max(320)
    .refine((s) => isOneRecipient(s), RECIPIENT_RULE)
    .nullable()
    .optional()
    .describe("Where replies to the store's mail go; a step's `reply_to` overrides it. Unset or null: the sender"),
  review_url: webUrl.nullable().describe('Where customers leave a review, http(s); `store.settings.review_url` in the feedback template. null: none'),
  brand: brandSchema.describe("How the store's email looks: logo, colours and footer text, in the responsive layout every send_email body is wrapped in"),
})

export type Settings = z.infer<typeof settingsSchema>

export const DEFAULT_SETTINGS: Settings = {
  cart_abandoned_after: '1h',
  frequency_cap: '16h',
  quiet_hours: { start: '21:00', end: '08:00' },
  attribution_window: '5d',
  attribution_opens: false,
  inactive_after: '90d',
  renewal_notice: '7d',
  shop_url: null,
  review_url: null,
  brand: DEFAULT_BRAND,
}

/** What PUT takes: any of the keys; `brand` may name some of its keys, the others keep their values. */
export const settingsPatchSchema = settingsSchema
  .partial()
  .extend({ brand: brandSchema.partial().optional().describe(`${settingsSchema.shape.brand.description}; PUT may name some of its keys`) })

/**
 * The brand of settings as stored (JSON written by any version): each key that is valid, the
 * default for the rest, so a store that never set one, or a value from an older version, still
 * renders.
 */
export function brandOf(settings: Record<string, unknown> | null | undefined): BrandSettings {
  const stored = settings?.brand
  const out: Record<string, unknown> = { ...DEFAULT_BRAND }
  if (stored && typeof stored === 'object' && !Array.isArray(stored)) {
    for (const [key, schema] of Object.entries(brandSchema.shape)) {
      const value = (stored as Record<string, unknown>)[key]
      if (value !== undefined && schema.safeParse(value).success) out[key] = value
    }
  }
  return out as BrandSettings
}
