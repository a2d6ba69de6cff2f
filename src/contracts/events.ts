import { z } from 'zod'
import { MONEY_LIMITS, moneyText } from '../lib/money.ts'
import { checkLimits } from './limits.ts'

/**
 * Canonical events (docs/events.md; the shapes: docs/event-types.md, generated from this file). Every type has a schema; an event that fails it is
 * rejected naming the field, and nothing of it is stored. Shops send snake_case and
 * extra fields: schemas are loose (extra keys kept, reachable from conditions).
 */

const id = z.union([z.string().min(1), z.number().int()]).transform(String)
/**
 * Most units a stock level, a variant's count or an order line may hold, either way: storeflow keeps
 * them as integers (32 bits on PostgreSQL), so more is refused here, naming the field (core/inventory.ts MAX_STOCK).
 */
export const MAX_UNITS = 2_000_000_000
const units = z.number().int().min(-MAX_UNITS).max(MAX_UNITS)
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
  if (date) return validCalendar(date[1]!, date[2]!, date[3]!) ? utcMillis(Number(date[1]), Number(date[2]) - 1, Number(date[3])) : null
  const t = ISO_DATE_TIME.exec(text)
  if (!t) return null
  const [, y, mo, d, hh, mi, ss, frac, sign, oh, om] = t
  const n = (v: string | undefined) => Number(v ?? 0)
  if (!validCalendar(y!, mo!, d!) || n(hh) > 23 || n(mi) > 59 || n(ss) > 59 || n(oh) > 23 || n(om) > 59) return null
  const offset = (sign === '-' ? -1 : 1) * (n(oh) * 60 + n(om))
  const millis = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0
  return utcMillis(n(y), n(mo) - 1, n(d), n(hh), n(mi), n(ss), millis) - offset * 60_000
}

/** Date.UTC, but a year below 100 is that year (Date.UTC reads 0099 as 1999). */
function utcMillis(year: number, month: number, day: number, h = 0, m = 0, sec = 0, ms = 0): number {
  const t = new Date(0)
  t.setUTCFullYear(year, month, day)
  t.setUTCHours(h, m, sec, ms)
  return t.getTime()
}

const isoTime = isoInstant(false)
const isoTimeOrDate = isoInstant(true)
const optionalString = z.string().nullish()

export const customerSchema = z
  .looseObject({
    id: id.nullish().describe("The shop's customer id"),
    email: z.string().email('must be an email address').nullish().or(z.literal('')).describe('Email address; "" means none'),
    phone: optionalString.describe('Phone number, best in E.164 form (+15551234567) for send_sms'),
    first_name: optionalString,
    last_name: optionalString,
    accepts_marketing: z
      .boolean()
      .nullish()
      .describe("The shop's marketing consent; an unsubscribe recorded by storeflow holds until a later newsletter.subscribed"),
    birthday: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
      .nullish()
      .describe('YYYY-MM-DD'),
    timezone: optionalString.describe('IANA time zone, e.g. Europe/Berlin; quiet hours and `wait: { until }` use it'),
    tags: z
      .union([z.array(z.string()), z.string()])
      .nullish()
      .describe('A list, or one comma-separated string; added to the tags storeflow holds'),
    created_at: isoTime.nullish().describe('When the shop created the customer; ISO-8601 with a zone'),
  })
  .refine((c) => Boolean(c.id) || Boolean(c.email), { message: 'a customer needs an id or an email' })
  .describe('A customer: needs an id or an email. A customer known only by email is the same customer when a later event carries an id with that email.')

export const lineItemSchema = z
  .looseObject({
    sku: optionalString,
    product_id: id.nullish(),
    variant_id: id.nullish(),
    title: optionalString,
    quantity: z.number().int().nonnegative().max(MAX_UNITS),
    price: money.describe('Unit price; money'),
  })
  .describe('One line of an order or cart')

export const addressSchema = z
  .looseObject({ country_code: optionalString.describe('ISO 3166-1 alpha-2, e.g. DE') })
  .describe('A shipping or billing address: country_code and whatever else the shop sends')

export const orderSchema = z
  .looseObject({
    id: id.describe("The shop's order id"),
    number: z.union([z.string(), z.number()]).transform(String).nullish().describe("The order number the customer sees (Shopify's order_number)"),
    customer: customerSchema.nullish().describe('The buyer'),
    email: optionalString.describe('Contact email, when the order carries no customer'),
    currency: z.string().min(3).max(3).describe('ISO 4217 code, e.g. USD'),
    subtotal_price: money.nullish().describe('Money'),
    total_discounts: money.nullish().describe('Money'),
    shipping_price: money.nullish().describe('Money'),
    total_price: money.describe('Money; what the customer pays'),
    financial_status: optionalString.describe('As the shop says, e.g. paid, pending, refunded'),
    fulfillment_status: optionalString.describe('As the shop says, e.g. fulfilled, partial'),
    line_items: z.array(lineItemSchema).default([]),
    discount_codes: z.array(z.string()).nullish().describe('Codes applied to the order'),
    checkout_id: id.nullish().describe('The checkout it came from: the id of its checkout.started'),
    shipping_address: addressSchema.nullish(),
    billing_address: addressSchema.nullish(),
    created_at: isoTime.nullish().describe('When the order was placed; ISO-8601 with a zone'),
    refund_amount: money.nullish().describe('order.refunded: the amount refunded (default: the whole total_price); money'),
  })
  .describe(
    "An order (order.created, order.paid, order.cancelled, order.refunded). Each order counts once in the customer's orders_count and total_spent; cancelled orders and refunds are taken off.",
  )

export const fulfilmentSchema = z
  .looseObject({
    order_id: id.describe('The order shipped or delivered'),
    customer: customerSchema.nullish(),
    carrier: optionalString,
    tracking_number: optionalString,
    tracking_url: optionalString,
    estimated_delivery_at: isoTimeOrDate.nullish().describe('ETA: ISO-8601 with a zone, or a date YYYY-MM-DD'),
    delivered_at: isoTime.nullish().describe('order.delivered: when it arrived; ISO-8601 with a zone'),
  })
  .describe("A shipment of an order (order.fulfilled, order.delivered); without a customer, it is about the order's customer once the order is known")

export const cartSchema = z
  .looseObject({
    id: id.describe("The shop's cart or checkout id"),
    customer: customerSchema.nullish(),
    email: optionalString,
    // Shopify's carts/update carries no currency: the store's currency applies
    currency: z.string().min(3).max(3).nullish().describe("ISO 4217 code; default: the store's currency"),
    total_price: money.describe('Money'),
    line_items: z.array(lineItemSchema).default([]),
    recovery_url: optionalString.describe('Link that restores the cart, for recovery mail'),
    updated_at: isoTime.nullish().describe('ISO-8601 with a zone'),
  })
  .describe('A cart or checkout (cart.updated, checkout.started, cart.abandoned)')

export const variantSchema = z
  .looseObject({
    id,
    sku: optionalString,
    price: money.describe('Money'),
    compare_at_price: money.nullish().describe('The price before a sale; money'),
    inventory_quantity: units.nullish(),
  })
  .describe('One variant of a product')

export const productSchema = z
  .looseObject({
    id,
    title: z.string(),
    description: optionalString,
    url: optionalString.describe("The product's page in the shop, an absolute http(s) URL; optional (a back-in-stock notice links to it)"),
    status: z.string().default('active').describe('e.g. active, draft, archived'),
    variants: z.array(variantSchema).default([]),
  })
  .describe('A product with its variants (product.updated)')

export const inventorySchema = z
  .looseObject({
    sku: z.string().min(1),
    variant_id: id.nullish(),
    location_id: id.nullish(),
    available: units.describe('Units available to sell now'),
  })
  .describe('A stock level (inventory.updated)')

export const newsletterSchema = z
  .looseObject({ customer: customerSchema })
  .describe('A newsletter (un)subscription (newsletter.subscribed, newsletter.unsubscribed)')

export const subscriptionSchema = z
  .looseObject({
    id,
    customer: customerSchema,
    plan: z.string(),
    price: money.describe('Money per interval'),
    interval: z.string().describe('e.g. month, year'),
    next_renewal_at: isoTimeOrDate.nullish().describe('ISO-8601 with a zone, or a date YYYY-MM-DD'),
    status: z.string(),
  })
  .describe('A subscription (subscription.created, subscription.cancelled, subscription.renewal_due)')

export const messageEventSchema = z
  .looseObject({
    message_id: z.string().describe("storeflow's id of the message (the outbox)"),
    customer_id: z.string().nullish().describe("The shop's id of the recipient"),
    workflow_id: z.string().nullish().describe('The workflow that sent it'),
    url: optionalString.describe('message.clicked: the link followed'),
  })
  .describe('Engagement with a message storeflow sent (message.opened, message.clicked); storeflow emits these from its tracking links')

export const formSchema = z
  .looseObject({
    form: z.string().min(1).describe("The form's name"),
    fields: z.record(z.string(), z.unknown()).describe('The submitted fields; with an email they create or update the customer'),
  })
  .describe('A form posted to storeflow (form.submitted)')

export const invoicePaidSchema = z
  .looseObject({
    invoice_id: z.string().min(1).nullish().describe("storeflow's invoice id (create_invoice's output `id`)"),
    number: z.string().min(1).nullish().describe('The invoice number, e.g. INV-000042'),
    amount: money.nullish().describe('What this payment paid; money; absent: what is left. Payments add up; the invoice is paid when they reach its total'),
    paid_at: isoTime.nullish().describe('When it was paid; default: the event time'),
    customer: customerSchema.nullish(),
  })
  .refine((v) => Boolean(v.invoice_id) || Boolean(v.number), { message: 'an invoice payment needs invoice_id or number' })
  .describe('A payment of an invoice storeflow made (invoice.paid)')

export const invoiceSchema = z
  .looseObject({
    id: z.string().min(1).describe("storeflow's invoice id"),
    number: z.string().min(1),
    total: money.describe('Money'),
    currency: z.string(),
    due_at: isoTime,
    customer: customerSchema.nullish(),
  })
  .describe('An invoice storeflow made (invoice.overdue)')

export const inventoryAlertSchema = z
  .looseObject({
    sku: z.string().min(1),
    available: z.number().int().describe("The SKU's total available when it crossed"),
    reorder_point: z
      .number()
      .int()
      .nullish()
      .describe("The SKU's reorder point then (manual, else the forecast's); null when it has none. Always present when storeflow derives the event"),
    product_id: z.string().nullish().describe('The product of a variant with this SKU'),
    title: z.string().nullish().describe("That product's title"),
    url: z.string().nullish().describe("That product's page in the shop, when its product.updated gave one"),
  })
  .describe('A stock crossing storeflow derived (inventory.low, inventory.out_of_stock, inventory.back_in_stock)')

const anyData = z.looseObject({})

export const purchaseOrderReceivedSchema = z
  .looseObject({
    purchase_order: z.looseObject({ id: z.string().min(1), number: z.string(), supplier_id: z.string(), status: z.string() }),
    receipt_id: z.string().min(1),
    lines: z.array(z.looseObject({ sku: z.string().min(1), quantity: z.number().int() })),
  })
  .describe('Stock that arrived on a purchase order (purchase_order.received, appended by POST /api/v1/purchase-orders/:id/receive)')
export const shipmentSchema = z
  .looseObject({
    order_id: id.describe('The order the shipment is for'),
    status: z.enum(['in_transit', 'out_for_delivery', 'delivered', 'exception']).describe('in_transit | out_for_delivery | delivered | exception'),
    carrier: optionalString,
    tracking_number: optionalString,
    estimated_delivery_at: isoTimeOrDate.nullish().describe('ETA: ISO-8601 with a zone, or a date YYYY-MM-DD'),
  })
  .describe(
    "A carrier's tracking update (shipment.updated); the order's estimated_delivery_at follows it. It is about the order's customer once the order is known",
  )

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
  'shipment.updated': shipmentSchema,
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
  'inventory.low': inventoryAlertSchema,
  'inventory.out_of_stock': inventoryAlertSchema,
  'inventory.back_in_stock': inventoryAlertSchema,
  'subscription.renewal_due': subscriptionSchema,
  'invoice.paid': invoicePaidSchema,
  'invoice.overdue': invoiceSchema,
  'segment.entered': anyData,
  'segment.exited': anyData,
  'schedule.tick': anyData,
  'purchase_order.received': purchaseOrderReceivedSchema,
} as const satisfies Record<string, z.ZodType>

export type EventType = keyof typeof EVENT_DATA_SCHEMAS
export const EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS) as EventType[]

/**
 * Types that are about the store, never about one customer (stock, the catalogue, the clock). A
 * customer's run waiting for one (`wait_for`, `exit_when`) hears every event of the type, and its
 * `match` decides: "tell me when this SKU is back" is a customer waiting for a store's event. An
 * event of any other type reaches only the runs of the customer it names.
 */
export const STORE_LEVEL_EVENT_TYPES: ReadonlySet<string> = new Set([
  'product.updated',
  'inventory.updated',
  'inventory.low',
  'inventory.out_of_stock',
  'inventory.back_in_stock',
  'purchase_order.received',
  'schedule.tick',
])

export function isStoreLevelEventType(type: string): boolean {
  return STORE_LEVEL_EVENT_TYPES.has(type)
}

/** Types a shop may not have a schema for (raw webhook topics) are stored under `raw.*` with any data. */
export function isKnownEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_DATA_SCHEMAS, type)
}

/**
 * How far after the server's clock an event sent to the API or by `events send` may say it
 * happened: a year. Further is a mistake (a year typed wrong: 9999, 2062), and taken it would
 * freeze the customer's profile for that long, newer writes losing to it. (A day would say more,
 * but scripts and tests replay dated traffic days ahead of a clock they move on after.)
 */
export const MAX_EVENT_AHEAD_MS = 366 * 86_400_000

/** What an event type looks like: `order.created`, or `raw.<anything of that shape>` for a shop topic storeflow does not map. */
export const EVENT_TYPE_PATTERN = /^(raw\.)?[a-z_]+(\.[a-z0-9_/]+)+$/

/** Why `type` is refused, with the types that are taken (the events endpoint and workflow files say the same). */
export function unknownEventType(type: string): string {
  return `unknown event type "${type}"; known types: ${EVENT_TYPES.join(', ')} (or raw.* for unmapped shop topics)`
}

/** Whether an event with this type is accepted: a known type, or a raw.* one. */
export function isAcceptedEventType(type: string): boolean {
  return isKnownEventType(type) || (type.startsWith('raw.') && EVENT_TYPE_PATTERN.test(type))
}

export const eventEnvelopeSchema = z.object({
  id: z
    .union([z.string().min(1).max(255), z.number().int()])
    .transform(String)
    .describe('Idempotency key, unique per store: the same id again is accepted once and answered duplicate: true'),
  type: z
    .string()
    .max(200)
    .regex(EVENT_TYPE_PATTERN, 'must be an event type like "order.created"')
    .describe('The event type, like order.created; raw.* for a shop topic storeflow does not map'),
  occurred_at: isoTime.optional().describe('When it happened; ISO-8601 with a zone; default: when it was received'),
  store: z.string().min(1).max(255).optional().describe("The store; default: the API key's store (for events send: --store); the API refuses any other"),
  data: z.record(z.string(), z.unknown()).describe("The data, in its type's shape"),
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
export function parseEvent(
  input: unknown,
  defaults: { store: string; now: Date; maxAheadMs?: number },
  index?: number,
): { ok: true; event: CanonicalEvent } | { ok: false; issues: EventIssue[] } {
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
    return {
      ok: false,
      issues: [{ path: `${prefix}type`, message: unknownEventType(type) }],
    }
  }
  const at = envelope.data.occurred_at
  if (at !== undefined && defaults.maxAheadMs !== undefined && Date.parse(at) > defaults.now.getTime() + defaults.maxAheadMs) {
    return {
      ok: false,
      issues: [
        {
          path: `${prefix}occurred_at`,
          message: `is more than ${Math.round(defaults.maxAheadMs / 86_400_000)} days after now (${defaults.now.toISOString()}): an event from the future would hold the customer's profile and the store's view at it until then`,
        },
      ],
    }
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
    const path = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '')
    return { path: `${prefix}${path}`.replace(/\.$/, ''), message: issueMessage(issue) }
  })
}

/**
 * zod's message, or for a field that takes one of several types (an id: a string or a whole
 * number; money: a number or a decimal string), which types, and whether it was missing: zod
 * says only "Invalid input" there
 */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue.message
  const expected = new Set<string>()
  let missing = false
  for (const branch of issue.errors) {
    const first = branch[0]
    // a branch of the right type that failed its own check (too long, not a decimal): its message says why
    if (first?.code !== 'invalid_type') return first?.message ?? issue.message
    expected.add(first.expected === 'int' ? 'a whole number' : first.expected === 'number' ? 'a number' : `a ${first.expected}`)
    if (/received undefined$/.test(first.message)) missing = true
  }
  const one = [...expected].join(' or ')
  return missing ? `required: ${one}` : `must be ${one}; got ${/received (\w+)$/.exec(issue.errors[0]![0]!.message)?.[1] ?? 'another type'}`
}
