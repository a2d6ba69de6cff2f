import { z } from 'zod'
import { MONEY_LIMITS, moneyText } from '../lib/money.ts'
import { checkLimits } from './limits.ts'

/**
 * Canonical events (PRODUCT.md §3). Every type has a schema; an event that fails it is
 * rejected naming the field, and nothing of it is stored. Shops send snake_case and
 * extra fields: schemas are loose (extra keys kept, reachable from conditions).
 */

const id = z.union([z.string().min(1), z.number().int()]).transform(String)
const MONEY_EXPECTED = `must be an amount with at most ${MONEY_LIMITS.integerDigits} digits before the point and ${MONEY_LIMITS.decimals} after, as a number or a string like "450.00"`
/** an amount as an exact decimal string; 1e21 or 1e-7 are refused here, naming the field (lib/money.ts) */
const money = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const text = moneyText(v)
  if (text === null) {
    const shown = typeof v === 'number' ? String(v) : JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
    ctx.addIssue({ code: 'custom', message: `${MONEY_EXPECTED}; got ${shown}` })
    return z.NEVER
  }
  return text
})

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$/

function validCalendar(y: string, m: string, d: string): boolean {
  const month = Number(m)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1) return false
  return day <= new Date(Date.UTC(Number(y), month, 0)).getUTCDate()
}

/**
 * A strict ISO-8601 instant, normalised to UTC `toISOString()` (`2026-03-05T09:30:00.000Z`).
 * The view compares times as text, which is only right when every stored time has this one
 * shape: so a time without a zone, or in any other format ("March 5, 2026"), is rejected.
 * With `dateAllowed`, a plain `YYYY-MM-DD` (fields that may mean a day, like an ETA) is accepted
 * too and stored as midnight UTC of that day.
 */
function isoInstant(dateAllowed: boolean) {
  const expected = dateAllowed
    ? 'must be an ISO-8601 time with a zone, like "2026-03-05T09:30:00Z" or "2026-03-05T10:30:00+01:00", or a date "2026-03-05"'
    : 'must be an ISO-8601 time with a zone, like "2026-03-05T09:30:00Z" or "2026-03-05T10:30:00+01:00"'
  return z.string().transform((s, ctx) => {
    const ms = instantOf(s.trim(), dateAllowed)
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `${expected}; got ${JSON.stringify(s)}` })
      return z.NEVER
    }
    return new Date(ms).toISOString()
  })
}

/** Epoch milliseconds of a strict ISO-8601 text, or null; computed by hand so no engine leniency creeps in. */
function instantOf(text: string, dateAllowed: boolean): number | null {
  const date = dateAllowed ? ISO_DATE.exec(text) : null
  if (date) return validCalendar(date[1]!, date[2]!, date[3]!) ? Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])) : null
  const t = ISO_DATE_TIME.exec(text)
  if (!t) return null
  const [, y, mo, d, hh, mi, ss, frac, sign, oh, om] = t
  const n = (v: string | undefined) => Number(v ?? 0)
  if (!validCalendar(y!, mo!, d!) || n(hh) > 23 || n(mi) > 59 || n(ss) > 59 || n(oh) > 23 || n(om) > 59) return null
  const offset = (sign === '-' ? -1 : 1) * (n(oh) * 60 + n(om))
  const millis = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0
  return Date.UTC(n(y), n(mo) - 1, n(d), n(hh), n(mi), n(ss), millis) - offset * 60_000
}

const isoTime = isoInstant(false)
const isoTimeOrDate = isoInstant(true)
const optionalString = z.string().nullish()

export const customerSchema = z.looseObject({
  id: id.nullish(),
  email: z.string().email('must be an email address').nullish().or(z.literal('')),
  phone: optionalString,
  first_name: optionalString,
  last_name: optionalString,
  accepts_marketing: z.boolean().nullish(),
  birthday: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').nullish(),
  timezone: optionalString,
  tags: z.union([z.array(z.string()), z.string()]).nullish(),
  created_at: isoTime.nullish(),
}).refine((c) => Boolean(c.id) || Boolean(c.email), { message: 'a customer needs an id or an email' })

export const lineItemSchema = z.looseObject({
  sku: optionalString,
  product_id: id.nullish(),
  variant_id: id.nullish(),
  title: optionalString,
  quantity: z.number().int().nonnegative(),
  price: money,
})

const addressSchema = z.looseObject({ country_code: optionalString })

export const orderSchema = z.looseObject({
  id,
  number: z.union([z.string(), z.number()]).transform(String).nullish(),
  customer: customerSchema.nullish(),
  email: optionalString,
  currency: z.string().min(3).max(3),
  subtotal_price: money.nullish(),
  total_discounts: money.nullish(),
  shipping_price: money.nullish(),
  total_price: money,
  financial_status: optionalString,
  fulfillment_status: optionalString,
  line_items: z.array(lineItemSchema).default([]),
  discount_codes: z.array(z.string()).nullish(),
  checkout_id: id.nullish(),
  shipping_address: addressSchema.nullish(),
  billing_address: addressSchema.nullish(),
  created_at: isoTime.nullish(),
  refund_amount: money.nullish(),
})

export const fulfilmentSchema = z.looseObject({
  order_id: id,
  customer: customerSchema.nullish(),
  carrier: optionalString,
  tracking_number: optionalString,
  tracking_url: optionalString,
  estimated_delivery_at: isoTimeOrDate.nullish(),
  delivered_at: isoTime.nullish(),
})

export const cartSchema = z.looseObject({
  id,
  customer: customerSchema.nullish(),
  email: optionalString,
  // Shopify's carts/update carries no currency: the store's currency applies
  currency: z.string().min(3).max(3).nullish(),
  total_price: money,
  line_items: z.array(lineItemSchema).default([]),
  recovery_url: optionalString,
  updated_at: isoTime.nullish(),
})

export const variantSchema = z.looseObject({
  id,
  sku: optionalString,
  price: money,
  compare_at_price: money.nullish(),
  inventory_quantity: z.number().int().nullish(),
})

export const productSchema = z.looseObject({
  id,
  title: z.string(),
  description: optionalString,
  status: z.string().default('active'),
  variants: z.array(variantSchema).default([]),
})

export const inventorySchema = z.looseObject({
  sku: z.string().min(1),
  variant_id: id.nullish(),
  location_id: id.nullish(),
  available: z.number().int(),
})

export const newsletterSchema = z.looseObject({ customer: customerSchema })

export const subscriptionSchema = z.looseObject({
  id,
  customer: customerSchema,
  plan: z.string(),
  price: money,
  interval: z.string(),
  next_renewal_at: isoTimeOrDate.nullish(),
  status: z.string(),
})

export const messageEventSchema = z.looseObject({
  message_id: z.string(),
  customer_id: z.string().nullish(),
  workflow_id: z.string().nullish(),
  url: optionalString,
})

export const formSchema = z.looseObject({
  form: z.string().min(1),
  fields: z.record(z.string(), z.unknown()),
})

const anyData = z.looseObject({})

/** data schema per event type; derived types are emitted by storeflow itself but may also be sent */
export const EVENT_DATA_SCHEMAS = {
  'customer.created': customerSchema,
  'customer.updated': customerSchema,
  'newsletter.subscribed': newsletterSchema,
  'newsletter.unsubscribed': newsletterSchema,
  'cart.updated': cartSchema,
  'checkout.started': cartSchema,
  'order.created': orderSchema,
  'order.paid': orderSchema,
  'order.cancelled': orderSchema,
  'order.refunded': orderSchema,
  'order.fulfilled': fulfilmentSchema,
  'order.delivered': fulfilmentSchema,
  'product.updated': productSchema,
  'inventory.updated': inventorySchema,
  'subscription.created': subscriptionSchema,
  'subscription.cancelled': subscriptionSchema,
  'message.opened': messageEventSchema,
  'message.clicked': messageEventSchema,
  'form.submitted': formSchema,
  'cart.abandoned': cartSchema,
  'customer.inactive': z.looseObject({ customer: customerSchema }),
  'customer.birthday': z.looseObject({ customer: customerSchema }),
  'inventory.low': anyData,
  'subscription.renewal_due': subscriptionSchema,
  'invoice.overdue': anyData,
  'segment.entered': anyData,
  'segment.exited': anyData,
  'schedule.tick': anyData,
} as const satisfies Record<string, z.ZodType>

export type EventType = keyof typeof EVENT_DATA_SCHEMAS
export const EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS) as EventType[]

/** Types a shop may not have a schema for (raw webhook topics) are stored under `raw.*` with any data. */
export function isKnownEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_DATA_SCHEMAS, type)
}

export const eventEnvelopeSchema = z.object({
  id: z.union([z.string().min(1).max(255), z.number().int()]).transform(String),
  type: z.string().max(200).regex(/^(raw\.)?[a-z_]+(\.[a-z0-9_/]+)+$/, 'must be an event type like "order.created"'),
  occurred_at: isoTime.optional(),
  store: z.string().min(1).max(255).optional(),
  data: z.record(z.string(), z.unknown()),
})

export interface CanonicalEvent {
  id: string
  type: string
  occurred_at: string
  store: string
  data: Record<string, unknown>
}

export interface EventIssue {
  path: string
  message: string
}

/**
 * Validates one event; returns the normalised event or the issues, each naming its field path.
 * The size limits (contracts/limits.ts) are checked first, so no schema step ever walks a value
 * nested 5,000 deep; every ingest path (API, history, webhooks, `events send`) comes through here.
 */
export function parseEvent(input: unknown, defaults: { store: string; now: Date }, index?: number):
  | { ok: true; event: CanonicalEvent }
  | { ok: false; issues: EventIssue[] } {
  const prefix = index === undefined ? '' : `events[${index}].`
  const overLimit = checkLimits(input, index === undefined ? '' : `events[${index}]`)
  if (overLimit) return { ok: false, issues: [overLimit] }
  const envelope = eventEnvelopeSchema.safeParse(input)
  if (!envelope.success) return { ok: false, issues: toIssues(envelope.error, prefix) }
  const { type } = envelope.data
  let data: Record<string, unknown> = envelope.data.data
  if (isKnownEventType(type)) {
    const parsed = (EVENT_DATA_SCHEMAS[type] as z.ZodType).safeParse(data)
    if (!parsed.success) return { ok: false, issues: toIssues(parsed.error, `${prefix}data.`) }
    data = parsed.data as Record<string, unknown>
  } else if (!type.startsWith('raw.')) {
    return { ok: false, issues: [{ path: `${prefix}type`, message: `unknown event type "${type}"; known types: ${EVENT_TYPES.join(', ')} (or raw.* for unmapped shop topics)` }] }
  }
  return {
    ok: true,
    event: {
      id: envelope.data.id,
      type,
      occurred_at: new Date(envelope.data.occurred_at ?? defaults.now.toISOString()).toISOString(),
      store: envelope.data.store ?? defaults.store,
      data,
    },
  }
}

function toIssues(error: z.ZodError, prefix: string): EventIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '')
    return { path: `${prefix}${path}`.replace(/\.$/, ''), message: issue.message }
  })
}
