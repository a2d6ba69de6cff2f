import type { SupplierInput } from '../core/purchasing/purchasing.ts'
import { prng } from '../lib/prng.ts'

/**
 * A realistic, deterministic demo store: catalogue with suppliers and stock, customers, order
 * history, carts (some abandoned) and subscriptions, generated from a seeded PRNG, so the same
 * seed, flags and end time always give the same events (ids included: a second `storeflow demo`
 * finds them all duplicates). `liveTraffic` goes on from there with new events, as they happen.
 */

const DAY = 86_400_000
const HOUR = 3_600_000

type Rand = () => number
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)]!
const between = (r: Rand, lo: number, hi: number) => lo + r() * (hi - lo)
function weighted<T>(r: Rand, items: readonly T[], weight: (t: T) => number): T {
  const total = items.reduce((s, t) => s + weight(t), 0)
  let x = r() * total
  for (const t of items) {
    x -= weight(t)
    if (x <= 0) return t
  }
  return items[items.length - 1]!
}
function poisson(r: Rand, lambda: number): number {
  // Knuth; fine for the small means of one day's orders
  const limit = Math.exp(-lambda)
  let k = 0
  let p = 1
  do {
    k++
    p *= r()
  } while (p > limit)
  return k - 1
}
const money = (n: number) => (Math.round(n * 100) / 100).toFixed(2)

interface ProductSpec {
  title: string
  handle: string
  price: number
  options: string[]
  popularity: number
}

const CATALOGUE: ProductSpec[] = [
  { title: 'Merino Wool Beanie', handle: 'BEANIE', price: 29, options: ['Charcoal', 'Navy', 'Rust'], popularity: 6 },
  { title: 'Canvas Tote Bag', handle: 'TOTE', price: 24, options: ['Natural'], popularity: 7 },
  { title: 'Ceramic Pour-Over Set', handle: 'POUROVER', price: 48, options: ['White', 'Sand'], popularity: 4 },
  { title: 'Single-Origin Coffee Beans 250 g', handle: 'COFFEE', price: 16.5, options: ['Ethiopia', 'Colombia', 'Guatemala'], popularity: 14 },
  { title: 'Insulated Water Bottle', handle: 'BOTTLE', price: 32, options: ['500 ml', '750 ml'], popularity: 8 },
  { title: 'Linen Throw Blanket', handle: 'THROW', price: 89, options: ['Oat', 'Sage'], popularity: 3 },
  { title: 'Leather Card Wallet', handle: 'WALLET', price: 45, options: ['Tan', 'Black'], popularity: 4 },
  { title: 'Organic Cotton T-Shirt', handle: 'TEE', price: 28, options: ['S', 'M', 'L', 'XL'], popularity: 10 },
  { title: 'Hooded Sweatshirt', handle: 'HOODIE', price: 64, options: ['S', 'M', 'L', 'XL'], popularity: 6 },
  { title: 'Scented Soy Candle', handle: 'CANDLE', price: 22, options: ['Cedar', 'Fig', 'Sea Salt'], popularity: 9 },
  { title: 'Hand Cream 50 ml', handle: 'HANDCREAM', price: 14, options: ['Unscented'], popularity: 7 },
  { title: 'Trail Running Socks', handle: 'SOCKS', price: 18, options: ['S/M', 'L/XL'], popularity: 8 },
  { title: 'Waxed Canvas Backpack', handle: 'BACKPACK', price: 139, options: ['Olive', 'Black'], popularity: 2 },
  { title: 'Stoneware Mug', handle: 'MUG', price: 19, options: ['Speckled', 'Midnight'], popularity: 9 },
  { title: 'Bamboo Cutting Board', handle: 'BOARD', price: 38, options: ['Medium', 'Large'], popularity: 3 },
  { title: 'Wireless Desk Lamp', handle: 'LAMP', price: 74, options: ['Brass', 'Matte Black'], popularity: 2 },
  { title: 'A5 Notebook', handle: 'NOTEBOOK', price: 12, options: ['Dotted', 'Lined', 'Plain'], popularity: 8 },
  { title: 'Gift Card', handle: 'GIFT', price: 50, options: ['50', '100'], popularity: 2 },
  { title: 'Packable Rain Jacket', handle: 'RAINJACKET', price: 159, options: ['S', 'M', 'L'], popularity: 2 },
  { title: 'Cork Yoga Mat', handle: 'YOGAMAT', price: 58, options: ['Standard'], popularity: 3 },
]

const FIRST = [
  'Olivia',
  'Liam',
  'Emma',
  'Noah',
  'Ava',
  'Mateo',
  'Sophia',
  'Lucas',
  'Mia',
  'Elijah',
  'Amelia',
  'Hugo',
  'Isla',
  'Leo',
  'Chloe',
  'Arjun',
  'Priya',
  'Yuki',
  'Hana',
  'Jonas',
  'Lena',
  'Finn',
  'Clara',
  'Omar',
  'Layla',
  'Diego',
  'Lucia',
  'Mohammed',
  'Zara',
  'Ethan',
  'Grace',
  'Kofi',
  'Ama',
  'Ines',
  'Tomás',
  'Freya',
  'Oscar',
  'Nora',
  'Felix',
  'Maya',
]
const LAST = [
  'Smith',
  'Johnson',
  'Garcia',
  'Müller',
  'Rossi',
  'Martin',
  'Kowalski',
  'Nguyen',
  'Kim',
  'Patel',
  'Silva',
  'Dubois',
  'Jansen',
  'Novak',
  'Andersen',
  'Okafor',
  'Mensah',
  'Tanaka',
  'Sato',
  'Fernández',
  'López',
  'Brown',
  'Wilson',
  'Taylor',
  'Schmidt',
  'Costa',
  'Haddad',
  'Ivanova',
  'Murphy',
  'OBrien',
]
/** zone, country, share of customers, hours ahead of UTC (standard time) */
const ZONES: Array<[string, string, number, number]> = [
  ['America/New_York', 'US', 22, -5],
  ['America/Chicago', 'US', 10, -6],
  ['America/Los_Angeles', 'US', 12, -8],
  ['America/Toronto', 'CA', 5, -5],
  ['Europe/London', 'GB', 12, 0],
  ['Europe/Berlin', 'DE', 10, 1],
  ['Europe/Paris', 'FR', 7, 1],
  ['Europe/Madrid', 'ES', 4, 1],
  ['Australia/Sydney', 'AU', 5, 10],
  ['Asia/Tokyo', 'JP', 3, 9],
]
const CARRIERS: Array<[string, (n: string) => string]> = [
  ['UPS', (n) => `https://www.ups.com/track?tracknum=${n}`],
  ['USPS', (n) => `https://tools.usps.com/go/TrackConfirmAction?tLabels=${n}`],
  ['DHL', (n) => `https://www.dhl.com/en/express/tracking.html?AWB=${n}`],
]
/** orders per day by month, Jan … Dec: quiet winter, autumn build-up, holiday peak */
const SEASON = [0.8, 0.75, 0.85, 0.9, 0.95, 0.9, 0.85, 0.9, 1.0, 1.05, 1.45, 1.75]
/** Sunday … Saturday */
const WEEKDAY = [1.15, 0.9, 0.92, 0.95, 1.0, 1.05, 1.2]
/** when in the customer's day orders are placed (local hour weights, 0 … 23) */
const HOURS = [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2, 2.5, 2.8, 3, 3.2, 3, 2.8, 2.6, 2.7, 3, 3.6, 4.2, 4.5, 4, 3, 2]

/** the seed `storeflow demo` uses when none is given */
export const DEFAULT_SEED = 20260302

/** Who supplies what: the catalogue's handles, a lead time range in days and the units per order line. */
const SUPPLIERS: Array<{ id: string; name: string; email: string; lead: [number, number]; moq: number; handles: string[] }> = [
  {
    id: 'northwind-textiles',
    name: 'Northwind Textiles',
    email: 'orders@northwind-textiles.example',
    lead: [10, 21],
    moq: 12,
    handles: ['BEANIE', 'TOTE', 'THROW', 'TEE', 'HOODIE', 'SOCKS', 'RAINJACKET', 'BACKPACK'],
  },
  { id: 'kiln-and-co', name: 'Kiln & Co Ceramics', email: 'wholesale@kiln-and-co.example', lead: [14, 28], moq: 6, handles: ['POUROVER', 'MUG', 'CANDLE'] },
  { id: 'roastery-direct', name: 'Roastery Direct', email: 'trade@roastery-direct.example', lead: [2, 5], moq: 20, handles: ['COFFEE'] },
  {
    id: 'maker-goods',
    name: 'Maker Goods Supply',
    email: 'po@maker-goods.example',
    lead: [5, 12],
    moq: 10,
    handles: ['BOTTLE', 'WALLET', 'HANDCREAM', 'BOARD', 'LAMP', 'NOTEBOOK', 'YOGAMAT'],
  },
]

/** Subscription plans: what a subscriber pays per interval. */
const PLANS: Array<{ plan: string; price: number; interval: 'month' | 'year'; weight: number }> = [
  { plan: 'Coffee Club', price: 15, interval: 'month', weight: 6 },
  { plan: 'Candle of the Month', price: 20, interval: 'month', weight: 3 },
  { plan: 'Sock Drawer (annual)', price: 99, interval: 'year', weight: 1 },
]

export interface DemoOptions {
  customers: number
  days: number
  /** the end of the history (now, usually); orders are placed before it */
  end: Date
  store: string
  /** the PRNG's seed: the same seed (and flags and end) gives the same events, ids included; default DEFAULT_SEED */
  seed?: number
}

export interface RawDemoEvent {
  id: string
  type: string
  occurred_at: string
  store: string
  data: Record<string, unknown>
}

/** A supplier as POST /api/v1/suppliers takes it. */
export type DemoSupplier = SupplierInput

export interface DemoSummary {
  seed: number
  products: number
  variants: number
  suppliers: number
  customers: number
  /** customers with more than one order */
  repeat_customers: number
  orders: number
  cancelled: number
  refunded: number
  revenue: string
  /** checkouts started (by buyers and by those who left) */
  checkouts: number
  /** carts and checkouts no order followed */
  abandoned_carts: number
  subscriptions: number
  active_subscriptions: number
  from: string
  to: string
}

interface Customer {
  id: string
  email: string
  first_name: string
  last_name: string
  accepts_marketing: boolean
  timezone: string | null
  /** hours ahead of UTC (standard time), to place orders in the customer's day */
  offset: number
  country: string
  birthday: string | null
  created: number
  weight: number
}

interface Variant {
  productId: string
  variantId: string
  sku: string
  title: string
  price: number
  popularity: number
}

/** An independent stream per part of the store, so adding to one part leaves the others as they were. */
function stream(seed: number, part: number): Rand {
  return prng((seed ^ Math.imul(part + 1, 0x9e3779b1)) >>> 0)
}

function variantsOf(): Variant[] {
  const variants: Variant[] = []
  CATALOGUE.forEach((p, i) => {
    const productId = String(8_000_000 + i + 1)
    p.options.forEach((opt, j) => {
      // bigger sizes and volumes cost a little more
      const price = p.price + (p.handle === 'GIFT' ? Number(opt) - p.price : p.handle === 'BOTTLE' && j === 1 ? 4 : 0)
      variants.push({
        productId,
        variantId: String(9_000_000 + (i + 1) * 10 + j),
        sku: `${p.handle}-${opt.toUpperCase().replace(/[^A-Z0-9]+/g, '')}`,
        title: `${p.title}${p.options.length > 1 ? ` — ${opt}` : ''}`,
        price,
        popularity: p.popularity / p.options.length,
      })
    })
  })
  return variants
}

/**
 * The customers: who they are (id, name, email) depends on the seed and their number only, so
 * `--live` finds the same people the history has; when they joined depends on the window too.
 */
function customersOf(seed: number, count: number, start: number, end: number): Customer[] {
  const r = stream(seed, 1)
  const customers: Customer[] = []
  for (let n = 0; n < count; n++) {
    const first = pick(r, FIRST)
    const last = pick(r, LAST)
    const [timezone, country, , offset] = weighted(r, ZONES, (z) => z[2])
    const birthday =
      r() < 0.7
        ? `${Math.floor(between(r, 1960, 2005))}-${String(Math.floor(between(r, 1, 13))).padStart(2, '0')}-${String(Math.floor(between(r, 1, 29))).padStart(2, '0')}`
        : null
    const joinedBefore = r() < 0.45
    const when = r()
    const created = Math.floor(joinedBefore ? start - 365 * DAY + when * 365 * DAY : start + when * (end - HOUR - start))
    customers.push({
      id: String(700_001 + n),
      email: `${first}.${last}.${n + 1}@example.com`
        .toLowerCase()
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, ''),
      first_name: first,
      last_name: last,
      accepts_marketing: r() < 0.62,
      // some shops do not know a customer's zone: the store's applies
      timezone: r() < 0.9 ? timezone : null,
      offset,
      country,
      birthday,
      created,
      // a few loyal customers buy far more often than most (long tail)
      weight: 1 / Math.max(r(), 0.02) ** 0.8,
    })
  }
  return customers
}

const customerRef = (c: Customer) => ({ id: c.id, email: c.email, first_name: c.first_name, last_name: c.last_name })

/** 1 to 4 lines, by popularity; a second pick of the same SKU adds to its line. */
function basket(r: Rand, variants: Variant[]): Array<{ sku: string; product_id: string; variant_id: string; title: string; quantity: number; price: string }> {
  const items = new Map<string, { v: Variant; quantity: number }>()
  const lines = 1 + (r() < 0.45 ? 1 : 0) + (r() < 0.2 ? 1 : 0) + (r() < 0.06 ? 1 : 0)
  for (let l = 0; l < lines; l++) {
    const v = weighted(r, variants, (x) => x.popularity)
    const existing = items.get(v.sku)
    items.set(v.sku, { v, quantity: (existing?.quantity ?? 0) + (r() < 0.82 ? 1 : 2) })
  }
  return [...items.values()].map(({ v, quantity }) => ({
    sku: v.sku,
    product_id: v.productId,
    variant_id: v.variantId,
    title: v.title,
    quantity,
    price: money(v.price),
  }))
}

const subtotalOf = (lines: Array<{ quantity: number; price: string }>) => lines.reduce((s, li) => s + Number(li.price) * li.quantity, 0)
const recoveryUrl = (cartId: string) => `https://shop.example/checkouts/${cartId}/recover`

/** The same month day `months` later (clamped to the month's last day), in UTC. */
function addMonths(ms: number, months: number): number {
  const d = new Date(ms)
  const day = d.getUTCDate()
  d.setUTCDate(1)
  d.setUTCMonth(d.getUTCMonth() + months)
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
  d.setUTCDate(Math.min(day, last))
  return d.getTime()
}

export interface GeneratedDemo {
  events: RawDemoEvent[]
  suppliers: DemoSupplier[]
  summary: DemoSummary
}

export function generateDemo(options: DemoOptions): GeneratedDemo {
  const seed = options.seed ?? DEFAULT_SEED
  const r = stream(seed, 0)
  const end = options.end.getTime()
  const start = end - options.days * DAY
  const events: RawDemoEvent[] = []
  // the default seed keeps the ids it always had; another seed's events are its own
  const prefix = seed === DEFAULT_SEED ? 'demo-' : `demo-${seed}-`
  const push = (id: string, type: string, at: number, data: Record<string, unknown>) =>
    events.push({ id: `${prefix}${id}`, type, occurred_at: new Date(at).toISOString(), store: options.store, data })

  // suppliers and their lead times
  const rs = stream(seed, 2)
  const variants = variantsOf()
  const suppliers: DemoSupplier[] = SUPPLIERS.map((s) => ({
    id: s.id,
    name: s.name,
    email: s.email,
    lead_time_days: Math.floor(between(rs, s.lead[0], s.lead[1] + 1)),
    min_order_quantity: s.moq,
    skus: variants.filter((v) => s.handles.some((h) => v.sku.startsWith(`${h}-`))).map((v) => v.sku),
  }))
  const vendorOf = (handle: string) => SUPPLIERS.find((s) => s.handles.includes(handle))?.name ?? null

  // catalogue, as it stood before the history starts
  CATALOGUE.forEach((p, i) => {
    const productId = String(8_000_000 + i + 1)
    const vs = variants
      .filter((v) => v.productId === productId)
      .map((v, j) => ({ id: v.variantId, sku: v.sku, title: p.options[j], price: money(v.price), inventory_quantity: Math.floor(between(rs, 20, 160)) }))
    push(`product-${productId}`, 'product.updated', start - DAY, {
      id: productId,
      title: p.title,
      status: 'active',
      description: `${p.title}, made to last.`,
      vendor: vendorOf(p.handle),
      variants: vs,
    })
  })

  // customers: some from before the history, more joining during it
  const customers = customersOf(seed, options.customers, start, end)
  for (const c of customers) {
    push(`customer-${c.id}`, 'customer.created', c.created, {
      ...customerRef(c),
      accepts_marketing: c.accepts_marketing,
      timezone: c.timezone,
      ...(c.birthday ? { birthday: c.birthday } : {}),
      tags: [],
      created_at: new Date(c.created).toISOString(),
    })
  }

  // a customer's order lands at an hour of their own day
  const localHour = (c: Customer, dayStart: number) =>
    Math.floor(
      dayStart +
        (weighted(
          r,
          HOURS.map((w, h) => [w, h] as const),
          (x) => x[0],
        )[1] -
          c.offset) *
          HOUR +
        r() * HOUR,
    )

  // orders, day by day; most come from a checkout, started a few minutes before
  const rc = stream(seed, 3)
  const ordersOf = new Map<string, number>()
  let orders = 0
  let cancelled = 0
  let refunded = 0
  let revenue = 0
  let checkouts = 0
  let abandoned = 0
  const base = Math.max(0.05, options.customers * 0.011)
  for (let d = 0; d < options.days; d++) {
    const dayStart = start + d * DAY
    const date = new Date(dayStart)
    const growth = 0.85 + 0.3 * (d / Math.max(1, options.days))
    const demand = base * SEASON[date.getUTCMonth()]! * WEEKDAY[date.getUTCDay()]! * growth
    const count = poisson(r, demand)
    for (let k = 0; k < count; k++) {
      const eligible = customers.filter((c) => c.created <= dayStart + DAY)
      if (eligible.length === 0) continue
      const c = weighted(r, eligible, (x) => x.weight)
      const at = localHour(c, dayStart)
      if (at >= end || at < c.created) continue
      orders++
      ordersOf.set(c.id, (ordersOf.get(c.id) ?? 0) + 1)
      const orderId = String(5_100_000 + orders)
      const number = String(1000 + orders)
      const lineItems = basket(r, variants)
      const subtotal = subtotalOf(lineItems)
      const discounted = r() < 0.15
      const discount = discounted ? Math.round(subtotal * 10) / 100 : 0
      const shipping = subtotal - discount >= 75 ? 0 : 5.95
      const total = subtotal - discount + shipping
      const customer = customerRef(c)
      const address = { country_code: c.country }
      // the checkout it came from: a cart filled a while before, then the checkout
      let checkoutId: string | null = null
      if (rc() < 0.7) {
        checkouts++
        checkoutId = String(6_200_000 + checkouts)
        const cart = {
          id: checkoutId,
          customer,
          email: c.email,
          currency: 'USD',
          total_price: money(subtotal),
          line_items: lineItems,
          recovery_url: recoveryUrl(checkoutId),
        }
        const startedAt = at - Math.floor(between(rc, 2, 25) * 60_000)
        if (rc() < 0.5) {
          const filledAt = startedAt - Math.floor(between(rc, 5, 90) * 60_000)
          push(`cart-${checkoutId}-updated`, 'cart.updated', filledAt, { ...cart, updated_at: new Date(filledAt).toISOString() })
        }
        push(`cart-${checkoutId}-checkout`, 'checkout.started', startedAt, { ...cart, updated_at: new Date(startedAt).toISOString() })
      }
      const order = {
        id: orderId,
        number,
        customer,
        email: c.email,
        currency: 'USD',
        subtotal_price: money(subtotal),
        total_discounts: money(discount),
        shipping_price: money(shipping),
        total_price: money(total),
        financial_status: 'pending',
        fulfillment_status: null,
        line_items: lineItems,
        discount_codes: discounted ? ['WELCOME10'] : [],
        ...(checkoutId ? { checkout_id: checkoutId } : {}),
        shipping_address: address,
        billing_address: address,
        created_at: new Date(at).toISOString(),
      }
      push(`order-${orderId}-created`, 'order.created', at, order)
      const paidAt = at + Math.floor(between(r, 30_000, 5 * 60_000))
      if (paidAt >= end) continue
      push(`order-${orderId}-paid`, 'order.paid', paidAt, { ...order, financial_status: 'paid' })
      revenue += total
      if (r() < 0.03) {
        const cancelAt = paidAt + Math.floor(between(r, HOUR, 20 * HOUR))
        if (cancelAt < end) {
          cancelled++
          revenue -= total
          push(`order-${orderId}-cancelled`, 'order.cancelled', cancelAt, { ...order, financial_status: 'refunded', cancel_reason: 'customer' })
        }
        continue
      }
      const shippedAt = paidAt + Math.floor(between(r, 18 * HOUR, 50 * HOUR))
      if (shippedAt >= end) continue
      const [carrier, trackingUrl] = pick(r, CARRIERS)
      const tracking = `${carrier === 'UPS' ? '1Z' : ''}${Math.floor(between(r, 1e9, 9.99e9))}`
      const eta = shippedAt + Math.floor(between(r, 2, 6)) * DAY
      const fulfilment = {
        order_id: orderId,
        customer,
        carrier,
        tracking_number: tracking,
        tracking_url: trackingUrl(tracking),
        estimated_delivery_at: new Date(eta).toISOString(),
      }
      push(`order-${orderId}-fulfilled`, 'order.fulfilled', shippedAt, fulfilment)
      const deliveredAt = eta - Math.floor(between(r, -6, 10) * HOUR)
      if (deliveredAt >= end) continue
      push(`order-${orderId}-delivered`, 'order.delivered', deliveredAt, { ...fulfilment, delivered_at: new Date(deliveredAt).toISOString() })
      if (r() < 0.02) {
        const refundAt = deliveredAt + Math.floor(between(r, 2, 12)) * DAY
        if (refundAt < end) {
          refunded++
          revenue -= total
          push(`order-${orderId}-refunded`, 'order.refunded', refundAt, {
            ...order,
            financial_status: 'refunded',
            fulfillment_status: 'fulfilled',
            refund_amount: money(total),
          })
        }
      }
    }

    // carts left behind: about half as many as orders; a few by shoppers who never gave an email
    const left = poisson(rc, demand * 0.55)
    for (let k = 0; k < left; k++) {
      const eligible = customers.filter((c) => c.created <= dayStart + DAY)
      const known = eligible.length > 0 && rc() < 0.85
      const c = known ? pick(rc, eligible) : null
      const at = Math.floor(dayStart + rc() * DAY)
      if (at >= end || (c && at < c.created)) continue
      abandoned++
      const cartId = String(6_600_000 + abandoned)
      const lines = basket(rc, variants)
      const cart = {
        id: cartId,
        customer: c ? customerRef(c) : null,
        email: c?.email ?? null,
        currency: 'USD',
        total_price: money(subtotalOf(lines)),
        line_items: lines,
        recovery_url: recoveryUrl(cartId),
      }
      push(`cart-${cartId}-updated`, 'cart.updated', at, { ...cart, updated_at: new Date(at).toISOString() })
      // most who got as far as an email went on to the checkout before leaving
      if (c && rc() < 0.6) {
        checkouts++
        const startedAt = at + Math.floor(between(rc, 1, 15) * 60_000)
        if (startedAt < end) push(`cart-${cartId}-checkout`, 'checkout.started', startedAt, { ...cart, updated_at: new Date(startedAt).toISOString() })
      }
    }
  }

  // subscriptions: about one customer in ten; some cancelled since
  const rb = stream(seed, 4)
  let subscriptions = 0
  let active = 0
  for (const c of customers) {
    if (rb() >= 0.1) continue
    const plan = weighted(rb, PLANS, (p) => p.weight)
    const from = Math.max(c.created, start - 90 * DAY)
    const createdAt = Math.floor(from + rb() * (end - HOUR - from))
    if (createdAt >= end) continue
    subscriptions++
    const id = String(4_400_000 + subscriptions)
    const months = plan.interval === 'year' ? 12 : 1
    const subscription = { id, customer: customerRef(c), plan: plan.plan, price: money(plan.price), interval: plan.interval, currency: 'USD' }
    const cancelAt = createdAt + Math.floor(rb() * (end - createdAt))
    const cancels = rb() < 0.15 && cancelAt < end
    // imported as the shop has it now: an active one's next renewal is the first still to come
    let next = addMonths(createdAt, months)
    while (!cancels && next <= end) next = addMonths(next, months)
    push(`subscription-${id}-created`, 'subscription.created', createdAt, {
      ...subscription,
      status: 'active',
      next_renewal_at: new Date(next).toISOString(),
      created_at: new Date(createdAt).toISOString(),
    })
    if (cancels) {
      push(`subscription-${id}-cancelled`, 'subscription.cancelled', cancelAt, {
        ...subscription,
        status: 'cancelled',
        next_renewal_at: null,
        cancelled_at: new Date(cancelAt).toISOString(),
      })
    } else active++
  }

  // stock today; a few best-sellers running low so low-stock workflows have something to do
  variants.forEach((v, i) => {
    const available = i % 9 === 4 ? Math.floor(between(rs, 0, 5)) : Math.floor(between(rs, 8, 140))
    push(`inventory-${v.sku}`, 'inventory.updated', end - 30 * 60_000, { sku: v.sku, variant_id: v.variantId, location_id: 'main', available })
  })

  events.sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0))
  return {
    events,
    suppliers,
    summary: {
      seed,
      products: CATALOGUE.length,
      variants: variants.length,
      suppliers: suppliers.length,
      customers: customers.length,
      repeat_customers: [...ordersOf.values()].filter((n) => n > 1).length,
      orders,
      cancelled,
      refunded,
      revenue: money(revenue),
      checkouts,
      abandoned_carts: abandoned,
      subscriptions,
      active_subscriptions: active,
      from: new Date(start).toISOString(),
      to: new Date(end).toISOString(),
    },
  }
}

export interface LiveTrafficOptions {
  store: string
  /** the seed and number of customers the store was seeded with: live traffic comes from the same people */
  seed?: number
  customers: number
  /** makes this session's ids its own (two sessions, or one after a restart, never share an id) */
  session: string
}

type Step = (at: number) => { type: string; data: Record<string, unknown> }

/**
 * New traffic for a seeded store, one event at a time as it happens (`next(now)`): shoppers
 * filling carts, starting checkouts, paying, being shipped to; some leaving their cart; new
 * sign-ups, restocks and subscriptions now and then. Several shoppers are under way at once, so
 * their events interleave. Deterministic for a seed and session.
 */
export function liveTraffic(options: LiveTrafficOptions): { next(at: Date): RawDemoEvent } {
  const seed = options.seed ?? DEFAULT_SEED
  let h = 2166136261
  for (const ch of options.session) h = Math.imul(h ^ ch.charCodeAt(0), 16777619)
  const r = prng((seed ^ h) >>> 0)
  const variants = variantsOf()
  // who they are does not depend on when they joined: any window gives the same people
  const customers = customersOf(seed, options.customers, 0, DAY * 2)
  const session = options.session
  let sent = 0
  let journeys = 0
  const active: Step[][] = []

  /** an existing customer, or a new one whose sign-up goes first in `steps` */
  const someone = (steps: Step[]): Customer => {
    if (customers.length === 0 || r() < 0.12) {
      const first = pick(r, FIRST)
      const last = pick(r, LAST)
      const [timezone, country, , offset] = weighted(r, ZONES, (z) => z[2])
      const n = ++journeys
      const c: Customer = {
        id: `live-${session}-${n}`,
        email: `${first}.${last}.live-${session}-${n}@example.com`
          .toLowerCase()
          .normalize('NFD')
          .replace(/[\u0300-\u036f]/g, ''),
        first_name: first,
        last_name: last,
        accepts_marketing: r() < 0.6,
        timezone,
        offset,
        country,
        birthday: null,
        created: 0,
        weight: 1,
      }
      customers.push(c)
      steps.push((at) => ({
        type: 'customer.created',
        data: { ...customerRef(c), accepts_marketing: c.accepts_marketing, timezone, tags: [], created_at: new Date(at).toISOString() },
      }))
      return c
    }
    return weighted(r, customers, (x) => x.weight)
  }

  const shopper = (buys: boolean): Step[] => {
    const steps: Step[] = []
    const c = someone(steps)
    const n = ++journeys
    const cartId = `live-${session}-${n}`
    const lines = basket(r, variants)
    const subtotal = subtotalOf(lines)
    const cart = (at: number) => ({
      id: cartId,
      customer: customerRef(c),
      email: c.email,
      currency: 'USD',
      total_price: money(subtotal),
      line_items: lines,
      recovery_url: recoveryUrl(cartId),
      updated_at: new Date(at).toISOString(),
    })
    steps.push((at) => ({ type: 'cart.updated', data: cart(at) }))
    if (buys || r() < 0.6) steps.push((at) => ({ type: 'checkout.started', data: cart(at) }))
    if (!buys) return steps
    const shipping = subtotal >= 75 ? 0 : 5.95
    const order = (at: number, status: string) => ({
      id: `live-${session}-${n}`,
      number: `L${session.slice(-4).toUpperCase()}-${n}`,
      customer: customerRef(c),
      email: c.email,
      currency: 'USD',
      subtotal_price: money(subtotal),
      total_discounts: '0.00',
      shipping_price: money(shipping),
      total_price: money(subtotal + shipping),
      financial_status: status,
      fulfillment_status: null,
      line_items: lines,
      discount_codes: [],
      checkout_id: cartId,
      shipping_address: { country_code: c.country },
      billing_address: { country_code: c.country },
      created_at: new Date(at).toISOString(),
    })
    let placed = 0
    steps.push((at) => {
      placed = at
      return { type: 'order.created', data: order(at, 'pending') }
    })
    steps.push(() => ({ type: 'order.paid', data: order(placed, 'paid') }))
    if (r() < 0.75) {
      const [carrier, trackingUrl] = pick(r, CARRIERS)
      const tracking = `${carrier === 'UPS' ? '1Z' : ''}${Math.floor(between(r, 1e9, 9.99e9))}`
      const fulfilment = (at: number) => ({
        order_id: `live-${session}-${n}`,
        customer: customerRef(c),
        carrier,
        tracking_number: tracking,
        tracking_url: trackingUrl(tracking),
        estimated_delivery_at: new Date(at + 3 * DAY).toISOString(),
      })
      steps.push((at) => ({ type: 'order.fulfilled', data: fulfilment(at) }))
      if (r() < 0.5) steps.push((at) => ({ type: 'order.delivered', data: { ...fulfilment(at), delivered_at: new Date(at).toISOString() } }))
    }
    return steps
  }

  const restock = (): Step[] => {
    const v = pick(r, variants)
    const available = Math.floor(between(r, 0, 120))
    return [() => ({ type: 'inventory.updated', data: { sku: v.sku, variant_id: v.variantId, location_id: 'main', available } })]
  }

  const subscribe = (): Step[] => {
    const steps: Step[] = []
    const c = someone(steps)
    const plan = weighted(r, PLANS, (p) => p.weight)
    const n = ++journeys
    steps.push((at) => ({
      type: 'subscription.created',
      data: {
        id: `live-${session}-${n}`,
        customer: customerRef(c),
        plan: plan.plan,
        price: money(plan.price),
        interval: plan.interval,
        currency: 'USD',
        status: 'active',
        next_renewal_at: new Date(addMonths(at, plan.interval === 'year' ? 12 : 1)).toISOString(),
        created_at: new Date(at).toISOString(),
      },
    }))
    return steps
  }

  return {
    next(now: Date): RawDemoEvent {
      // a few shoppers under way at once; a new one arrives now and then
      while (active.length < 3 || r() < 0.25) {
        const x = r()
        active.push(x < 0.55 ? shopper(true) : x < 0.85 ? shopper(false) : x < 0.93 ? restock() : subscribe())
        if (active.length >= 8) break
      }
      const i = Math.floor(r() * active.length)
      const journey = active[i]!
      const step = journey.shift()!
      if (journey.length === 0) active.splice(i, 1)
      const at = now.getTime()
      const { type, data } = step(at)
      sent++
      return { id: `demo-live-${session}-${sent}`, type, occurred_at: new Date(at).toISOString(), store: options.store, data }
    },
  }
}
