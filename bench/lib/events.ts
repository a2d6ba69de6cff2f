/**
 * Event bodies for the benchmarks: an `order.paid` of about 2 KB, as a shop would send it.
 * Shared by the load generator (child process) and in-process ingest.
 */

const LINE_ITEMS = [
  { sku: 'TSHIRT-BLK-M', product_id: 'p-1001', variant_id: 'v-1001-m', title: 'Organic cotton T-shirt, black, M', quantity: 2, price: '24.00' },
  { sku: 'HOODIE-GRY-L', product_id: 'p-1002', variant_id: 'v-1002-l', title: 'Heavyweight hoodie, heather grey, L', quantity: 1, price: '59.00' },
  { sku: 'SOCKS-3PK', product_id: 'p-1003', variant_id: 'v-1003', title: 'Merino socks, 3-pack', quantity: 1, price: '18.50' },
  { sku: 'CAP-NVY', product_id: 'p-1004', variant_id: 'v-1004', title: 'Six-panel cap, navy', quantity: 1, price: '22.00' },
]

const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'NL']

export interface OrderOptions {
  /** unique per request: the engine is idempotent on event id */
  eventId: string
  orderId: string
  customerId: string
  /** 0..n: varies amounts, country and item count so `when` conditions split */
  variant: number
}

export function orderPaid(o: OrderOptions): Record<string, unknown> {
  const items = LINE_ITEMS.slice(0, 1 + (o.variant % LINE_ITEMS.length))
  const subtotal = items.reduce((n, i) => n + Number(i.price) * i.quantity, 0)
  const total = (subtotal + 4.95).toFixed(2)
  const country = COUNTRIES[o.variant % COUNTRIES.length]!
  const address = {
    first_name: 'Ada',
    last_name: 'Lovelace',
    address1: '12 Analytical Engine Lane',
    address2: 'Floor 3',
    city: 'Springfield',
    province: 'Somewhere',
    zip: '12345',
    country_code: country,
    phone: '+1 555 0100',
  }
  return {
    id: o.eventId,
    type: 'order.paid',
    occurred_at: new Date().toISOString(),
    data: {
      id: o.orderId,
      number: `#${1000 + o.variant}`,
      currency: 'USD',
      subtotal_price: subtotal.toFixed(2),
      total_discounts: '0.00',
      shipping_price: '4.95',
      total_price: total,
      financial_status: 'paid',
      fulfillment_status: null,
      customer: {
        id: o.customerId,
        email: `${o.customerId}@example.test`,
        first_name: 'Ada',
        last_name: 'Lovelace',
        accepts_marketing: o.variant % 3 !== 0,
        timezone: 'Europe/Berlin',
        tags: ['newsletter'],
      },
      line_items: items,
      discount_codes: [],
      shipping_address: address,
      billing_address: address,
      note: 'Please leave the parcel with the neighbour if nobody is home. Gift wrap not needed.',
      source_name: 'web',
      landing_site: '/collections/new-arrivals?utm_source=newsletter&utm_medium=email&utm_campaign=spring',
      client_details: {
        browser_ip: '203.0.113.42',
        accept_language: 'en-US,en;q=0.9,de;q=0.8',
        user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
      },
      note_attributes: [
        { name: 'gift_message', value: 'Happy birthday! Hope these keep you warm through the rest of the winter.' },
        { name: 'delivery_window', value: 'weekday-evening' },
        { name: 'referral_code', value: 'FRIEND-7H2K-99QX' },
      ],
    },
  }
}
