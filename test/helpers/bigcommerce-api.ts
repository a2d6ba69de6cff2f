import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A local stand-in for the BigCommerce REST API, serving the resources the webhook fixtures in
 * test/fixtures/webhooks/bigcommerce/ name (order 250, shipment 12 of order 251, cart 0934…,
 * customer 32, products 205 and 167, variant 509 of product 206). Bodies follow the documented
 * response shapes in bigcommerce/docs: reference/orders.v2.oas2.yml ("Get an Order", "List Order
 * Products", "List Order Shipping Addresses", "Get a Shipment"), reference/customers.v3.yml
 * ("Get All Customers", `{ data: [...], meta: { pagination } }`), reference/catalog/products_catalog.v3.yml
 * and product-variants_catalog.v3.yml (`{ data, meta }`), reference/carts.v3.yml ("Get a Cart") and
 * reference/store_information.v2.yml ("Get Store Information", `/v2/store`).
 * Like the real API it answers 401 without the right `X-Auth-Token`, and 404 for unknown resources.
 */

export const STORE_HASH = 'abc123'
export const ACCESS_TOKEN = 'bc-test-access-token'
export const CART_ID = '09346904-4175-44fd-be53-f7e598531b6c'

type Json = unknown

const billing = {
  first_name: 'Jane',
  last_name: 'Doe',
  company: '',
  street_1: '12 Main Street',
  street_2: '',
  city: 'Austin',
  state: 'Texas',
  zip: '78701',
  country: 'United States',
  country_iso2: 'US',
  phone: '555-0100',
  email: 'jane.doe@example.com',
  form_fields: [],
}

function order(id: number, statusId: number, status: string): Json {
  return {
    id,
    customer_id: 32,
    date_created: 'Tue, 25 Jun 2019 16:15:35 +0000',
    date_modified: 'Tue, 25 Jun 2019 16:20:00 +0000',
    date_shipped: '',
    status_id: statusId,
    status,
    subtotal_ex_tax: '225.0000',
    subtotal_inc_tax: '225.0000',
    subtotal_tax: '0.0000',
    base_shipping_cost: '10.0000',
    shipping_cost_ex_tax: '10.0000',
    shipping_cost_inc_tax: '10.0000',
    shipping_cost_tax: '0.0000',
    shipping_cost_tax_class_id: 2,
    base_handling_cost: '0.0000',
    handling_cost_ex_tax: '0.0000',
    handling_cost_inc_tax: '0.0000',
    handling_cost_tax: '0.0000',
    base_wrapping_cost: '0.0000',
    wrapping_cost_ex_tax: '0.0000',
    wrapping_cost_inc_tax: '0.0000',
    wrapping_cost_tax: '0.0000',
    total_ex_tax: '230.0000',
    total_inc_tax: '230.0000',
    total_tax: '0.0000',
    items_total: 3,
    items_shipped: 0,
    payment_method: 'Cash on Delivery',
    payment_provider_id: null,
    payment_status: '',
    refunded_amount: '0.0000',
    order_is_digital: false,
    store_credit_amount: '0.0000',
    gift_certificate_amount: '0.0000',
    ip_address: '203.0.113.7',
    geoip_country: '',
    geoip_country_iso2: '',
    currency_id: 1,
    currency_code: 'USD',
    currency_exchange_rate: '1.0000000000',
    default_currency_id: 1,
    default_currency_code: 'USD',
    staff_notes: '',
    customer_message: '',
    discount_amount: '5.0000',
    coupon_discount: '0.0000',
    shipping_address_count: 1,
    is_deleted: false,
    ebay_order_id: '0',
    cart_id: CART_ID,
    billing_address: billing,
    is_email_opt_in: false,
    credit_card_type: null,
    order_source: 'www',
    channel_id: 1,
    external_source: null,
    products: { url: `https://api.bigcommerce.com/stores/${STORE_HASH}/v2/orders/${id}/products`, resource: `/orders/${id}/products` },
    shipping_addresses: {
      url: `https://api.bigcommerce.com/stores/${STORE_HASH}/v2/orders/${id}/shipping_addresses`,
      resource: `/orders/${id}/shipping_addresses`,
    },
    coupons: { url: `https://api.bigcommerce.com/stores/${STORE_HASH}/v2/orders/${id}/coupons`, resource: `/orders/${id}/coupons` },
  }
}

function orderProducts(orderId: number): Json {
  const line = (id: number, productId: number, variantId: number, name: string, sku: string, price: string, quantity: number, total: string) => ({
    id,
    order_id: orderId,
    product_id: productId,
    variant_id: variantId,
    order_address_id: 51,
    name,
    name_customer: name,
    name_merchant: name,
    sku,
    upc: '',
    type: 'physical',
    base_price: price,
    price_ex_tax: price,
    price_inc_tax: price,
    price_tax: '0.0000',
    base_total: total,
    total_ex_tax: total,
    total_inc_tax: total,
    total_tax: '0.0000',
    weight: '1.0000',
    quantity,
    base_cost_price: '0.0000',
    is_refunded: false,
    quantity_refunded: 0,
    refund_amount: '0.0000',
    fixed_shipping_cost: '0.0000',
    quantity_shipped: 0,
    is_bundled_product: false,
    product_options: [],
    applied_discounts: [],
  })
  return [
    line(301, 205, 410, 'Orbit Terrarium - Large', 'OTL-LG', '109.0000', 2, '218.0000'),
    line(302, 206, 509, 'Sample Card - Blue', 'SMPL-CARD-BLUE', '7.0000', 1, '7.0000'),
  ]
}

function shippingAddresses(orderId: number): Json {
  return [
    {
      id: 51,
      order_id: orderId,
      first_name: 'Jane',
      last_name: 'Doe',
      company: '',
      street_1: '12 Main Street',
      street_2: '',
      city: 'Austin',
      zip: '78701',
      country: 'United States',
      country_iso2: 'US',
      state: 'Texas',
      email: 'jane.doe@example.com',
      phone: '555-0100',
      items_total: 3,
      items_shipped: 0,
      shipping_method: 'Flat Rate',
      base_cost: '10.0000',
      cost_ex_tax: '10.0000',
      cost_inc_tax: '10.0000',
      cost_tax: '0.0000',
      cost_tax_class_id: 2,
      base_handling_cost: '0.0000',
      handling_cost_ex_tax: '0.0000',
      handling_cost_inc_tax: '0.0000',
      handling_cost_tax: '0.0000',
      handling_cost_tax_class_id: 2,
      shipping_zone_id: 1,
      shipping_zone_name: 'United States',
      form_fields: [],
    },
  ]
}

const shipment: Json = {
  id: 12,
  order_id: 251,
  customer_id: 32,
  order_address_id: 51,
  date_created: 'Tue, 25 Jun 2019 17:14:17 +0000',
  tracking_number: '1Z999AA10123456784',
  merchant_shipping_cost: '0.0000',
  shipping_method: 'UPS Ground',
  shipping_provider: '',
  tracking_carrier: 'ups',
  tracking_link: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
  comments: '',
  billing_address: billing,
  shipping_address: { ...billing },
  items: [{ order_product_id: 301, product_id: 205, quantity: 2 }],
}

const customers: Json = {
  data: [
    {
      id: 32,
      authentication: { force_password_reset: false },
      company: '',
      customer_group_id: 0,
      email: 'jane.doe@example.com',
      first_name: 'Jane',
      last_name: 'Doe',
      notes: '',
      phone: '555-0100',
      registration_ip_address: '',
      tax_exempt_category: '',
      date_created: '2019-06-25T16:52:51Z',
      date_modified: '2019-06-25T16:52:51Z',
      accepts_product_review_abandoned_cart_emails: true,
      origin_channel_id: 1,
      channel_ids: null,
    },
  ],
  meta: { pagination: { total: 1, count: 1, per_page: 50, current_page: 1, total_pages: 1, links: { current: '?id%3Ain=32&page=1&limit=50' } } },
}

const product205Base = {
  id: 205,
  name: 'Orbit Terrarium - Large',
  type: 'physical',
  sku: 'OTL',
  description: '<p>A glass terrarium.</p>',
  weight: 1,
  width: 0,
  depth: 0,
  height: 0,
  price: 109,
  cost_price: 0,
  retail_price: 129,
  sale_price: 0,
  map_price: 0,
  tax_class_id: 0,
  categories: [23],
  brand_id: 0,
  inventory_level: 12,
  inventory_warning_level: 2,
  inventory_tracking: 'variant',
  is_free_shipping: false,
  is_visible: true,
  is_featured: false,
  availability: 'available',
  condition: 'New',
  calculated_price: 109,
  custom_url: { url: '/orbit-terrarium/', is_customized: false },
  date_created: '2019-06-25T16:13:53+00:00',
  date_modified: '2019-06-25T16:13:53+00:00',
}

/** "Get Store Information" (reference/store_information.v2.yml): `secure_URL` is the storefront's current HTTPS address. */
const storeInformation = {
  id: STORE_HASH,
  domain: 'store.example.com',
  secure_URL: 'https://store.example.com',
  status: 'live',
  name: 'Orbit Plants',
  first_name: 'Jane',
  last_name: 'Doe',
  address: '12 Main Street, Austin, Texas 78701',
  country: 'United States',
  country_code: 'US',
  phone: '555-0100',
  admin_email: 'jane.doe@example.com',
  order_email: 'orders@example.com',
  timezone: {
    name: 'America/Chicago',
    raw_offset: -21600,
    dst_offset: -18000,
    dst_correction: true,
    date_format: { display: 'jS M Y', export: 'M jS Y', extended_display: 'M jS Y @ g:i A' },
  },
  language: 'en',
  currency: 'USD',
  currency_symbol: '$',
  decimal_separator: '.',
  thousands_separator: ',',
  decimal_places: 2,
  weight_units: 'LBS',
  dimension_units: 'Inches',
  plan_name: 'Standard',
  is_price_entered_with_tax: false,
  features: { stencil_enabled: true, sitewidehttps_enabled: true, facebook_catalog_id: '', checkout_type: 'optimized' },
}

const product205Variants = [
  {
    id: 410,
    product_id: 205,
    sku: 'OTL-LG',
    sku_id: 460,
    price: null,
    calculated_price: 109,
    sale_price: null,
    retail_price: null,
    map_price: null,
    weight: null,
    cost_price: 0,
    inventory_level: 10,
    inventory_warning_level: 2,
    purchasing_disabled: false,
    option_values: [{ id: 70, label: 'Large', option_id: 110, option_display_name: 'Size' }],
  },
  {
    id: 411,
    product_id: 205,
    sku: 'OTL-SM',
    sku_id: 462,
    price: 89,
    calculated_price: 89,
    sale_price: null,
    retail_price: 99,
    map_price: null,
    weight: null,
    cost_price: 0,
    inventory_level: 2,
    inventory_warning_level: 2,
    purchasing_disabled: false,
    option_values: [{ id: 71, label: 'Small', option_id: 110, option_display_name: 'Size' }],
  },
]

const product167: Json = {
  data: {
    id: 167,
    name: 'Gift Wrap',
    type: 'physical',
    sku: 'GIFT-WRAP',
    description: '',
    price: 4,
    cost_price: 0,
    retail_price: 0,
    sale_price: 0,
    inventory_level: 100000000,
    inventory_tracking: 'product',
    is_visible: true,
    availability: 'available',
    calculated_price: 4,
    date_modified: '2019-06-25T16:07:23+00:00',
  },
  meta: {},
}

const variant509: Json = {
  data: {
    id: 509,
    product_id: 206,
    sku: 'SMPL-CARD-BLUE',
    sku_id: 461,
    price: 7,
    calculated_price: 7,
    sale_price: null,
    retail_price: null,
    inventory_level: 5,
    inventory_warning_level: 1,
    purchasing_disabled: false,
    option_values: [{ id: 80, label: 'Blue', option_id: 120, option_display_name: 'Colour' }],
  },
  meta: {},
}

function cart(includeRedirects: boolean): Json {
  return {
    data: {
      id: CART_ID,
      customer_id: 32,
      channel_id: 1,
      email: 'jane.doe@example.com',
      currency: { code: 'USD' },
      tax_included: false,
      base_amount: 218,
      discount_amount: 0,
      cart_amount: 218,
      coupons: [],
      discounts: [],
      line_items: {
        physical_items: [
          {
            id: 'b6d1e7c4-7a40-4a51-9a0b-3c1a7b0f5f11',
            parent_id: null,
            variant_id: 410,
            product_id: 205,
            sku: 'OTL-LG',
            name: 'Orbit Terrarium - Large',
            url: 'https://store.example.com/orbit-terrarium/',
            quantity: 2,
            is_taxable: true,
            image_url: 'https://cdn11.bigcommerce.com/s-abc123/products/205/images/1/terrarium.jpg',
            discounts: [],
            coupons: [],
            discount_amount: 0,
            coupon_amount: 0,
            original_price: 109,
            list_price: 109,
            sale_price: 109,
            extended_list_price: 218,
            extended_sale_price: 218,
            is_require_shipping: true,
            is_mutable: true,
          },
        ],
        digital_items: [],
        gift_certificates: [],
        custom_items: [],
      },
      created_time: '2019-06-25T17:11:10+00:00',
      updated_time: '2019-06-25T17:12:00+00:00',
      locale: 'en',
      ...(includeRedirects
        ? {
            redirect_urls: {
              cart_url: `https://store.example.com/cart.php?action=load&id=${CART_ID}&token=1eed6d2d979776ff18e695ceeb10ea61`,
              checkout_url: `https://store.example.com/cart.php?action=loadInCheckout&id=${CART_ID}&token=1eed6d2d979776ff18e695ceeb10ea61`,
              embedded_checkout_url: `https://store.example.com/cart.php?embedded=1&action=loadInCheckout&id=${CART_ID}&token=1eed6d2d979776ff18e695ceeb10ea61`,
            },
          }
        : {}),
    },
    meta: {},
  }
}

export interface RecordedRequest {
  method: string
  path: string
  token: string | undefined
  accept: string | undefined
}

export interface BigCommerceApiServer {
  /** API base as the connector is configured with it, store path included */
  apiUrl: string
  requests: RecordedRequest[]
  /** answer this status (with an error body) for paths starting with `prefix`, e.g. to simulate 500/429/404 */
  failWith(prefix: string, status: number): void
  /** replace the JSON served for one exact path (without query) */
  serve(path: string, body: Json): void
  /**
   * Serve order `id` (its products and shipping addresses too) as order 250 is served: customer
   * 32, Awaiting Fulfillment (a paid status). For tests that need many distinct orders.
   */
  serveOrder(id: number): void
  reset(): void
  close(): Promise<void>
}

export async function startBigCommerceApi(): Promise<BigCommerceApiServer> {
  const requests: RecordedRequest[] = []
  let failures = new Map<string, number>()
  let overrides = new Map<string, Json>()
  let extraOrders = new Set<number>()
  const base = `/stores/${STORE_HASH}`
  const orderPath = new RegExp(`^${base}/v2/orders/(\\d+)(/products|/shipping_addresses)?$`)

  const route = (path: string, query: URLSearchParams): Json | undefined => {
    const override = overrides.get(path)
    if (override !== undefined) return override
    const served = orderPath.exec(path)
    const id = Number(served?.[1])
    if (served && extraOrders.has(id))
      return served[2] === '/products' ? orderProducts(id) : served[2] ? shippingAddresses(id) : order(id, 11, 'Awaiting Fulfillment')
    switch (path) {
      case `${base}/v2/orders/250`:
        return order(250, 11, 'Awaiting Fulfillment')
      case `${base}/v2/orders/251`:
        return order(251, 2, 'Shipped')
      case `${base}/v2/orders/250/products`:
        return orderProducts(250)
      case `${base}/v2/orders/251/products`:
        return orderProducts(251)
      case `${base}/v2/orders/250/shipping_addresses`:
        return shippingAddresses(250)
      case `${base}/v2/orders/251/shipping_addresses`:
        return shippingAddresses(251)
      case `${base}/v2/orders/251/shipments/12`:
        return shipment
      case `${base}/v3/customers`:
        // `id:in=32` filter; other ids yield the documented empty list
        return query.get('id:in') === '32'
          ? customers
          : { data: [], meta: { pagination: { total: 0, count: 0, per_page: 50, current_page: 1, total_pages: 0 } } }
      case `${base}/v3/catalog/products/205`:
        return { data: query.get('include')?.split(',').includes('variants') ? { ...product205Base, variants: product205Variants } : product205Base, meta: {} }
      case `${base}/v2/store`:
        return storeInformation
      case `${base}/v3/catalog/products/167`:
        return product167
      case `${base}/v3/catalog/products/206/variants/509`:
        return variant509
      case `${base}/v3/carts/${CART_ID}`:
        return cart(query.get('include')?.split(',').includes('redirect_urls') ?? false)
      default:
        return undefined
    }
  }

  const send = (res: ServerResponse, status: number, body: Json) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const token = req.headers['x-auth-token']
    const accept = req.headers['accept']
    requests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, token: Array.isArray(token) ? token[0] : token, accept })
    if (token !== ACCESS_TOKEN)
      return send(res, 401, { status: 401, title: 'Unauthorized', type: 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes' })
    for (const [prefix, status] of failures) {
      if (url.pathname.startsWith(prefix)) return send(res, status, { status, title: `Simulated ${status}` })
    }
    const body = req.method === 'GET' ? route(url.pathname, url.searchParams) : undefined
    if (body === undefined) return send(res, 404, { status: 404, title: 'The requested resource was not found.' })
    send(res, 200, body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    apiUrl: `http://127.0.0.1:${port}${base}`,
    requests,
    failWith(prefix, status) {
      failures.set(`${base}${prefix}`, status)
    },
    serve(path, body) {
      overrides.set(`${base}${path}`, body)
    },
    serveOrder(id) {
      extraOrders.add(id)
    },
    reset() {
      failures = new Map()
      overrides = new Map()
      extraOrders = new Set()
      requests.length = 0
    },
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  }
}
