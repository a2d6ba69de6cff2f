import { addMoney } from '../../lib/money.ts'
import { arr, compact, idStr, int, isoTime, money, rec, str } from '../shared/values.ts'
import { productPage } from './storefront.ts'

/**
 * BigCommerce REST resources → canonical `data` (docs/event-types.md). Shapes from bigcommerce/docs
 * `reference/orders.v2.oas2.yml` (order, order products, shipping addresses, shipments),
 * `reference/customers.v3.yml`, `reference/catalog/products_catalog.v3.yml` and `reference/carts.v3.yml`.
 * V2 money is a 4-decimal string ("79.0000"), V3 money a JSON number; both stay exact decimal strings.
 */

type Obj = Record<string, unknown>

/** Order status ids (BigCommerce "Order status" reference, `GET /v2/order_statuses`). */
export const ORDER_STATUS = {
  incomplete: 0,
  pending: 1,
  shipped: 2,
  partially_shipped: 3,
  refunded: 4,
  cancelled: 5,
  declined: 6,
  awaiting_payment: 7,
  awaiting_pickup: 8,
  awaiting_shipment: 9,
  completed: 10,
  awaiting_fulfillment: 11,
  manual_verification_required: 12,
  disputed: 13,
  partially_refunded: 14,
} as const

/** Statuses an order only reaches once payment was captured or authorised. */
export const PAID_STATUSES: ReadonlySet<number> = new Set([2, 3, 8, 9, 10, 11])

function financialStatus(statusId: number | null): string | null {
  if (statusId === null) return null
  if (PAID_STATUSES.has(statusId)) return 'paid'
  if (statusId === ORDER_STATUS.refunded) return 'refunded'
  if (statusId === ORDER_STATUS.partially_refunded) return 'partially_refunded'
  if (statusId === ORDER_STATUS.cancelled || statusId === ORDER_STATUS.declined) return 'voided'
  if (statusId === ORDER_STATUS.disputed) return 'disputed'
  return 'pending'
}

function fulfillmentStatus(statusId: number | null): string | null {
  if (statusId === ORDER_STATUS.shipped || statusId === ORDER_STATUS.completed) return 'fulfilled'
  if (statusId === ORDER_STATUS.partially_shipped) return 'partial'
  return null
}

/** V2 addresses use `street_1`, `zip`, `country_iso2`; the canonical address needs `country_code`. */
function address(value: unknown): Obj | null {
  const a = rec(value)
  if (Object.keys(a).length === 0) return null
  return { ...a, country_code: str(a['country_iso2']) }
}

/**
 * The buyer: `customer_id` 0 is a guest, known by the billing email. `is_email_opt_in` is the
 * checkout's newsletter box: ticked is an opt-in, unticked leaves consent unknown.
 */
function orderCustomer(o: Obj): Obj | null {
  const billing = rec(o['billing_address'])
  const c = compact({
    id: idStr(o['customer_id']),
    email: str(billing['email']),
    phone: str(billing['phone']),
    first_name: str(billing['first_name']),
    last_name: str(billing['last_name']),
    accepts_marketing: o['is_email_opt_in'] === true ? true : null,
  })
  return c['id'] || c['email'] ? c : null
}

export function mapOrderProduct(value: unknown): Obj {
  const p = rec(value)
  return compact({
    id: idStr(p['id']) ?? undefined,
    sku: str(p['sku']),
    product_id: idStr(p['product_id']),
    variant_id: idStr(p['variant_id']),
    title: str(p['name']),
    quantity: int(p['quantity']) ?? 0,
    price: money(p['price_ex_tax']) ?? money(p['base_price']) ?? '0',
    price_inc_tax: money(p['price_inc_tax']) ?? undefined,
    total_inc_tax: money(p['total_inc_tax']) ?? undefined,
  })
}

/**
 * `GET /v2/orders/{id}` + `/products` + `/shipping_addresses`. The order number customers see is
 * the order id. Subtotal and shipping are ex-tax (like Shopify's), the total includes tax;
 * discounts add the automatic `discount_amount` and `coupon_discount`.
 */
export function mapOrder(o: Obj, products: unknown[], shippingAddresses: unknown[]): Obj {
  const statusId = int(o['status_id'])
  const discounts = [money(o['discount_amount']), money(o['coupon_discount'])].filter((m): m is string => m !== null)
  return compact({
    id: idStr(o['id']),
    number: idStr(o['id']),
    customer: orderCustomer(o),
    email: str(rec(o['billing_address'])['email']),
    currency: str(o['currency_code']) ?? str(o['default_currency_code']),
    subtotal_price: money(o['subtotal_ex_tax']),
    total_discounts: discounts.length === 0 ? null : discounts.reduce((a, b) => addMoney(a, b)),
    shipping_price: money(o['shipping_cost_ex_tax']),
    total_tax: money(o['total_tax']) ?? undefined,
    total_price: money(o['total_inc_tax']),
    financial_status: financialStatus(statusId),
    fulfillment_status: fulfillmentStatus(statusId),
    status: str(o['status']) ?? undefined,
    status_id: statusId ?? undefined,
    line_items: products.map(mapOrderProduct),
    // Coupon codes live in another sub-resource (/coupons); not fetched to keep one webhook ≤ 3 calls.
    checkout_id: str(o['cart_id']) ?? undefined,
    shipping_address: address(shippingAddresses[0]),
    billing_address: address(o['billing_address']),
    payment_method: str(o['payment_method']) ?? undefined,
    customer_message: str(o['customer_message']) ?? undefined,
    created_at: isoTime(o['date_created']),
    refund_amount: money(o['refunded_amount']) ?? undefined,
  })
}

/**
 * `GET /v2/orders/{order_id}/shipments/{id}`. `tracking_carrier` names the delivery service
 * ("ups"); `shipping_provider` the BigCommerce shipping integration, used when no carrier is set.
 * `tracking_link` is the tracking URL BigCommerce generates for known carriers.
 */
export function mapShipment(s: Obj, order: Obj | null): Obj {
  return compact({
    order_id: idStr(s['order_id']) ?? (order ? idStr(order['id']) : null),
    shipment_id: idStr(s['id']) ?? undefined,
    customer: order ? (order['customer'] ?? null) : null,
    email: order ? (order['email'] ?? undefined) : undefined,
    carrier: str(s['tracking_carrier']) ?? str(s['shipping_provider']) ?? str(s['shipping_method']),
    tracking_number: str(s['tracking_number']),
    tracking_url: str(s['tracking_link']),
    shipping_method: str(s['shipping_method']) ?? undefined,
    items: arr(s['items']).map(rec),
    shipping_address: address(s['shipping_address']) ?? undefined,
    created_at: isoTime(s['date_created']) ?? undefined,
    order: order ?? undefined,
  })
}

/**
 * `GET /v3/customers?id:in={id}` → `data[0]`. BigCommerce has no single marketing flag on the customer;
 * `accepts_product_review_abandoned_cart_emails` is the customer's consent to the marketing mails
 * BigCommerce itself sends (abandoned-cart and review requests), the closest equivalent.
 */
export function mapCustomer(c: Obj): Obj {
  return compact({
    id: idStr(c['id']),
    email: str(c['email']),
    phone: str(c['phone']),
    first_name: str(c['first_name']),
    last_name: str(c['last_name']),
    accepts_marketing: typeof c['accepts_product_review_abandoned_cart_emails'] === 'boolean' ? c['accepts_product_review_abandoned_cart_emails'] : null,
    company: str(c['company']) ?? undefined,
    customer_group_id: idStr(c['customer_group_id']) ?? undefined,
    created_at: isoTime(c['date_created']),
  })
}

/**
 * `GET /v3/catalog/products/{id}?include=variants` → `data`. A variant's own `price` is null when it
 * inherits the product's; `calculated_price` is what the shop charges. `retail_price` (MSRP) is the
 * compare-at price when set. `storefront`: the store's address (storefront.ts), which the product's
 * `custom_url.url` path is under; the canonical `url` when both are known.
 */
export function mapProduct(p: Obj, storefront: string | null = null): Obj {
  return compact({
    id: idStr(p['id']),
    title: str(p['name']) ?? '',
    description: str(p['description']),
    url: productPage(storefront, str(rec(p['custom_url'])['url'])) ?? undefined,
    status: p['is_visible'] === false ? 'draft' : 'active',
    sku: str(p['sku']) ?? undefined,
    availability: str(p['availability']) ?? undefined,
    inventory_level: int(p['inventory_level']) ?? undefined,
    variants: arr(p['variants']).map((v) => {
      const variant = rec(v)
      const retail = money(variant['retail_price']) ?? money(p['retail_price'])
      return compact({
        id: idStr(variant['id']),
        sku: str(variant['sku']),
        price: money(variant['calculated_price']) ?? money(variant['price']) ?? money(p['price']) ?? '0',
        compare_at_price: retail !== null && Number(retail) > 0 ? retail : null,
        inventory_quantity: int(variant['inventory_level']),
      })
    }),
    updated_at: isoTime(p['date_modified']) ?? undefined,
  })
}

/**
 * `GET /v3/carts/{id}?include=redirect_urls` → `data`. Items are split by kind; physical and digital
 * items carry SKUs. `cart_amount` is the total the shopper pays; `redirect_urls.cart_url` brings
 * the shopper back to this cart.
 */
export function mapCart(c: Obj): Obj {
  const items = rec(c['line_items'])
  const lines = [...arr(items['physical_items']), ...arr(items['digital_items']), ...arr(items['custom_items'])].map((value) => {
    const li = rec(value)
    return compact({
      id: str(li['id']) ?? undefined,
      sku: str(li['sku']),
      product_id: idStr(li['product_id']),
      variant_id: idStr(li['variant_id']),
      title: str(li['name']),
      quantity: int(li['quantity']) ?? 0,
      price: money(li['sale_price']) ?? money(li['list_price']) ?? '0',
      url: str(li['url']) ?? undefined,
      image_url: str(li['image_url']) ?? undefined,
    })
  })
  const customerId = idStr(c['customer_id'])
  const email = str(c['email'])
  return compact({
    id: str(c['id']),
    customer: customerId || email ? compact({ id: customerId, email }) : null,
    email,
    currency: str(rec(c['currency'])['code']),
    total_price: money(c['cart_amount']) ?? money(c['base_amount']),
    line_items: lines,
    recovery_url: str(rec(c['redirect_urls'])['cart_url']),
    created_at: isoTime(c['created_time']) ?? undefined,
    updated_at: isoTime(c['updated_time']),
  })
}
