/**
 * A realistic, deterministic demo store: catalogue, customers and order history generated
 * from a seeded PRNG, so the same flags and end time always give the same events (ids
 * included: a second `storeflow demo` finds them all duplicates).
 */

const DAY = 86_400_000
const HOUR = 3_600_000

/** mulberry32: small, fast, good enough for sample data */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

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
const ZONES: Array<[string, string, number]> = [
  ['America/New_York', 'US', 22],
  ['America/Chicago', 'US', 10],
  ['America/Los_Angeles', 'US', 12],
  ['America/Toronto', 'CA', 5],
  ['Europe/London', 'GB', 12],
  ['Europe/Berlin', 'DE', 10],
  ['Europe/Paris', 'FR', 7],
  ['Europe/Madrid', 'ES', 4],
  ['Australia/Sydney', 'AU', 5],
  ['Asia/Tokyo', 'JP', 3],
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

export interface DemoOptions {
  customers: number
  days: number
  /** the end of the history (now, usually); orders are placed before it */
  end: Date
  store: string
  seed?: number
}

export interface RawDemoEvent {
  id: string
  type: string
  occurred_at: string
  store: string
  data: Record<string, unknown>
}

export interface DemoSummary {
  products: number
  variants: number
  customers: number
  orders: number
  cancelled: number
  refunded: number
  revenue: string
  from: string
  to: string
}

interface Customer {
  id: string
  email: string
  first_name: string
  last_name: string
  accepts_marketing: boolean
  timezone: string
  country: string
  birthday: string | null
  created: number
  weight: number
}

export function generateDemo(options: DemoOptions): { events: RawDemoEvent[]; summary: DemoSummary } {
  const r = prng(options.seed ?? 20260302)
  const end = options.end.getTime()
  const start = end - options.days * DAY
  const events: RawDemoEvent[] = []
  const push = (id: string, type: string, at: number, data: Record<string, unknown>) =>
    events.push({ id: `demo-${id}`, type, occurred_at: new Date(at).toISOString(), store: options.store, data })

  // catalogue, as it stood before the history starts
  const variants: Array<{ productId: string; variantId: string; sku: string; title: string; price: number; popularity: number }> = []
  CATALOGUE.forEach((p, i) => {
    const productId = String(8_000_000 + i + 1)
    const vs = p.options.map((opt, j) => {
      const variantId = String(9_000_000 + (i + 1) * 10 + j)
      const sku = `${p.handle}-${opt.toUpperCase().replace(/[^A-Z0-9]+/g, '')}`
      // bigger sizes and volumes cost a little more
      const price = p.price + (p.handle === 'GIFT' ? Number(opt) - p.price : p.handle === 'BOTTLE' && j === 1 ? 4 : 0)
      variants.push({
        productId,
        variantId,
        sku,
        title: `${p.title}${p.options.length > 1 ? ` — ${opt}` : ''}`,
        price,
        popularity: p.popularity / p.options.length,
      })
      return { id: variantId, sku, title: opt, price: money(price), inventory_quantity: Math.floor(between(r, 20, 160)) }
    })
    push(`product-${productId}`, 'product.updated', start - DAY, {
      id: productId,
      title: p.title,
      status: 'active',
      description: `${p.title}, made to last.`,
      variants: vs,
    })
  })

  // customers: some from before the history, more joining during it
  const customers: Customer[] = []
  for (let n = 0; n < options.customers; n++) {
    const first = pick(r, FIRST)
    const last = pick(r, LAST)
    const [timezone, country] = weighted(r, ZONES, (z) => z[2])
    const birthday =
      r() < 0.7
        ? `${Math.floor(between(r, 1960, 2005))}-${String(Math.floor(between(r, 1, 13))).padStart(2, '0')}-${String(Math.floor(between(r, 1, 29))).padStart(2, '0')}`
        : null
    const created = Math.floor(r() < 0.45 ? between(r, start - 365 * DAY, start) : between(r, start, end - HOUR))
    const id = String(700_001 + n)
    const c: Customer = {
      id,
      email: `${first}.${last}.${n + 1}@example.com`
        .toLowerCase()
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, ''),
      first_name: first,
      last_name: last,
      accepts_marketing: r() < 0.62,
      timezone,
      country,
      birthday,
      created,
      // a few loyal customers buy far more often than most (long tail)
      weight: 1 / Math.max(r(), 0.02) ** 0.8,
    }
    customers.push(c)
    push(`customer-${id}`, 'customer.created', created, {
      id,
      email: c.email,
      first_name: first,
      last_name: last,
      accepts_marketing: c.accepts_marketing,
      timezone,
      ...(birthday ? { birthday } : {}),
      tags: [],
      created_at: new Date(created).toISOString(),
    })
  }

  // orders, day by day
  const sold = new Map<string, number>()
  let orders = 0
  let cancelled = 0
  let refunded = 0
  let revenue = 0
  const base = Math.max(0.05, options.customers * 0.011)
  for (let d = 0; d < options.days; d++) {
    const dayStart = start + d * DAY
    const date = new Date(dayStart)
    const growth = 0.85 + 0.3 * (d / Math.max(1, options.days))
    const count = poisson(r, base * SEASON[date.getUTCMonth()]! * WEEKDAY[date.getUTCDay()]! * growth)
    for (let k = 0; k < count; k++) {
      const at = Math.floor(
        dayStart +
          weighted(
            r,
            HOURS.map((w, h) => [w, h] as const),
            (x) => x[0],
          )[1] *
            HOUR +
          r() * HOUR,
      )
      if (at >= end) continue
      const eligible = customers.filter((c) => c.created <= at)
      if (eligible.length === 0) continue
      const c = weighted(r, eligible, (x) => x.weight)
      orders++
      const orderId = String(5_100_000 + orders)
      const number = String(1000 + orders)
      const items = new Map<string, { v: (typeof variants)[number]; quantity: number }>()
      const lines = 1 + (r() < 0.45 ? 1 : 0) + (r() < 0.2 ? 1 : 0) + (r() < 0.06 ? 1 : 0)
      for (let l = 0; l < lines; l++) {
        const v = weighted(r, variants, (x) => x.popularity)
        const existing = items.get(v.sku)
        const quantity = r() < 0.82 ? 1 : 2
        items.set(v.sku, { v, quantity: (existing?.quantity ?? 0) + quantity })
      }
      const lineItems = [...items.values()].map(({ v, quantity }) => {
        sold.set(v.sku, (sold.get(v.sku) ?? 0) + quantity)
        return { sku: v.sku, product_id: v.productId, variant_id: v.variantId, title: v.title, quantity, price: money(v.price) }
      })
      const subtotal = lineItems.reduce((s, li) => s + Number(li.price) * li.quantity, 0)
      const discounted = r() < 0.15
      const discount = discounted ? Math.round(subtotal * 10) / 100 : 0
      const shipping = subtotal - discount >= 75 ? 0 : 5.95
      const total = subtotal - discount + shipping
      const customer = { id: c.id, email: c.email, first_name: c.first_name, last_name: c.last_name }
      const address = { country_code: c.country }
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
  }

  // stock today; a few best-sellers running low so low-stock workflows have something to do
  variants.forEach((v, i) => {
    const available = i % 9 === 4 ? Math.floor(between(r, 0, 5)) : Math.floor(between(r, 8, 140))
    push(`inventory-${v.sku}`, 'inventory.updated', end - 30 * 60_000, { sku: v.sku, variant_id: v.variantId, location_id: 'main', available })
  })

  events.sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0))
  return {
    events,
    summary: {
      products: CATALOGUE.length,
      variants: variants.length,
      customers: customers.length,
      orders,
      cancelled,
      refunded,
      revenue: money(revenue),
      from: new Date(start).toISOString(),
      to: new Date(end).toISOString(),
    },
  }
}
