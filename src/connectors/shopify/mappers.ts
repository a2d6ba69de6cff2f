import { addMoney } from '../../lib/money.ts'
import { arr, compact, idStr, int, isoTime, money, rec, splitTags, str } from '../shared/values.ts'

/**
 * Shopify REST webhook bodies → canonical `data` shapes (docs/event-types.md). Field names follow the
 * 2026-07 webhook reference (https://shopify.dev/docs/api/webhooks/2026-07, "List of topics").
 * Extra fields the canonical shape does not name are kept where conditions may want them.
 */

type Obj = Record<string, unknown>

/**
 * Marketing consent: `email_marketing_consent.state == 'subscribed'` (current API) or the legacy
 * `accepts_marketing` (Customer resource docs). Absent both, consent is unknown (null) rather than
 * false, so an event that does not speak about consent never overwrites what storeflow knows.
 */
export function consentOf(c: Obj): boolean | null {
  const consent = rec(c['email_marketing_consent'])
  const state = str(consent['state'])
  if (state !== null) return state === 'subscribed'
  if (typeof c['accepts_marketing'] === 'boolean') return c['accepts_marketing']
  return null
}

export function mapCustomer(c: Obj): Obj {
  return compact({
    id: idStr(c['id']),
    email: str(c['email']),
    phone: str(c['phone']),
    first_name: str(c['first_name']),
    last_name: str(c['last_name']),
    accepts_marketing: consentOf(c),
    tags: splitTags(c['tags']),
    created_at: isoTime(c['created_at']),
    state: str(c['state']) ?? undefined,
    note: str(c['note']) ?? undefined,
    verified_email: typeof c['verified_email'] === 'boolean' ? c['verified_email'] : undefined,
    default_address: mapAddress(c['default_address']) ?? undefined,
  })
}

/**
 * The customer an order or checkout is about. Its consent comes from the customer object; failing
 * that, a ticked box at checkout (`buyer_accepts_marketing: true`) is an opt-in. An unticked box is
 * not an opt-out (the box may not have been shown), so it leaves consent unknown.
 */
function customerOfPurchase(p: Obj): Obj | null {
  const c = rec(p['customer'])
  const email = str(c['email']) ?? str(p['email']) ?? str(p['contact_email'])
  const mapped = Object.keys(c).length > 0 ? mapCustomer(c) : {}
  if (mapped['email'] === undefined || mapped['email'] === null) mapped['email'] = email
  if ((mapped['accepts_marketing'] ?? null) === null) mapped['accepts_marketing'] = p['buyer_accepts_marketing'] === true ? true : null
  return mapped['id'] || mapped['email'] ? compact(mapped) : null
}

function mapAddress(value: unknown): Obj | null {
  const a = rec(value)
  if (Object.keys(a).length === 0) return null
  return { ...a, country_code: str(a['country_code']) }
}

function mapLineItem(value: unknown): Obj {
  const li = rec(value)
  return compact({
    id: idStr(li['id']) ?? str(li['key']) ?? undefined,
    sku: str(li['sku']),
    product_id: idStr(li['product_id']),
    variant_id: idStr(li['variant_id']),
    title: str(li['title']) ?? str(li['name']),
    variant_title: str(li['variant_title']) ?? undefined,
    quantity: int(li['quantity']) ?? 0,
    price: money(li['price']) ?? '0',
    total_discount: money(li['total_discount']) ?? undefined,
    vendor: str(li['vendor']) ?? undefined,
  })
}

/** `total_shipping_price_set` is the order's shipping charge; older bodies only have `shipping_lines`. */
function shippingPrice(o: Obj): string | null {
  const set = money(rec(rec(o['total_shipping_price_set'])['shop_money'])['amount'])
  if (set !== null) return set
  const lines = arr(o['shipping_lines'])
  if (lines.length === 0) return null
  return lines.reduce<string>((sum, l) => addMoney(sum, money(rec(l)['price']) ?? '0'), '0')
}

function discountCodes(value: unknown): string[] {
  return arr(value)
    .map((d) => str(rec(d)['code']))
    .filter((c): c is string => c !== null)
}

/** Order topics (orders/create|paid|fulfilled|cancelled) share the Order resource body. */
export function mapOrder(o: Obj): Obj {
  return compact({
    id: idStr(o['id']),
    // What the customer sees is `order_number` (1234), not the internal `number` (docs/event-types.md).
    number: str(o['order_number']) ?? str(o['name']),
    name: str(o['name']) ?? undefined,
    customer: customerOfPurchase(o),
    email: str(o['email']) ?? str(o['contact_email']),
    phone: str(o['phone']) ?? undefined,
    currency: str(o['currency']) ?? str(o['presentment_currency']),
    subtotal_price: money(o['subtotal_price']),
    total_discounts: money(o['total_discounts']),
    shipping_price: shippingPrice(o),
    total_tax: money(o['total_tax']) ?? undefined,
    total_price: money(o['total_price']),
    financial_status: str(o['financial_status']),
    fulfillment_status: str(o['fulfillment_status']),
    line_items: arr(o['line_items']).map(mapLineItem),
    discount_codes: discountCodes(o['discount_codes']),
    // Checkouts are identified by token (the checkout sample has no id), so orders point at the token too.
    checkout_id: str(o['checkout_token']) ?? idStr(o['checkout_id']),
    cart_token: str(o['cart_token']) ?? undefined,
    shipping_address: mapAddress(o['shipping_address']),
    billing_address: mapAddress(o['billing_address']),
    created_at: isoTime(o['created_at']),
    processed_at: isoTime(o['processed_at']) ?? undefined,
    cancelled_at: isoTime(o['cancelled_at']) ?? undefined,
    cancel_reason: str(o['cancel_reason']) ?? undefined,
    tags: splitTags(o['tags']),
    note: str(o['note']) ?? undefined,
    note_attributes: Array.isArray(o['note_attributes']) ? o['note_attributes'] : undefined,
    source_name: str(o['source_name']) ?? undefined,
    order_status_url: str(o['order_status_url']) ?? undefined,
    test: typeof o['test'] === 'boolean' ? o['test'] : undefined,
  })
}

/** A Fulfillment resource (fulfillments/create body, or an entry of an order's `fulfillments`). */
export function mapFulfilment(f: Obj, order: { id: unknown; customer: Obj | null; email?: string | null }): Obj {
  return compact({
    order_id: idStr(f['order_id']) ?? idStr(order.id),
    fulfillment_id: idStr(f['id']) ?? undefined,
    customer: order.customer,
    email: str(f['email']) ?? order.email ?? undefined,
    // `tracking_company` is the carrier's display name ("UPS"); the plural arrays carry extra parcels.
    carrier: str(f['tracking_company']),
    tracking_number: str(f['tracking_number']) ?? str(arr(f['tracking_numbers'])[0]),
    tracking_url: str(f['tracking_url']) ?? str(arr(f['tracking_urls'])[0]),
    tracking_numbers: arr(f['tracking_numbers'])
      .map(str)
      .filter((t): t is string => t !== null),
    tracking_urls: arr(f['tracking_urls'])
      .map(str)
      .filter((t): t is string => t !== null),
    // Shopify's REST fulfillment has no ETA; `estimated_delivery_at` is left for carriers that send one.
    estimated_delivery_at: isoTime(f['estimated_delivery_at']),
    status: str(f['status']) ?? undefined,
    shipment_status: str(f['shipment_status']) ?? undefined,
    name: str(f['name']) ?? undefined,
    line_items: arr(f['line_items']).map(mapLineItem),
    destination: mapAddress(f['destination']) ?? undefined,
    created_at: isoTime(f['created_at']) ?? undefined,
  })
}

/**
 * Checkouts (checkouts/create|update). The sample has no `id`, only `token` (SOURCES.md), and
 * orders reference checkouts by `checkout_token`, so the token is the canonical checkout id.
 */
export function mapCheckout(c: Obj): Obj {
  const customer = customerOfPurchase(c)
  return compact({
    id: str(c['token']) ?? idStr(c['id']),
    shopify_checkout_id: idStr(c['id']) ?? undefined,
    cart_token: str(c['cart_token']) ?? undefined,
    customer,
    email: str(c['email']) ?? (customer ? str(customer['email']) : null),
    phone: str(c['phone']) ?? undefined,
    currency: str(c['currency']) ?? str(c['presentment_currency']),
    subtotal_price: money(c['subtotal_price']) ?? undefined,
    total_discounts: money(c['total_discounts']) ?? undefined,
    total_tax: money(c['total_tax']) ?? undefined,
    total_price: money(c['total_price']),
    line_items: arr(c['line_items']).map(mapLineItem),
    discount_codes: discountCodes(c['discount_codes']),
    recovery_url: str(c['abandoned_checkout_url']),
    completed_at: isoTime(c['completed_at']),
    shipping_address: mapAddress(c['shipping_address']) ?? undefined,
    billing_address: mapAddress(c['billing_address']) ?? undefined,
    created_at: isoTime(c['created_at']) ?? undefined,
    updated_at: isoTime(c['updated_at']),
  })
}

/**
 * Carts (carts/update) carry no currency, customer or total (SOURCES.md quirks). Currency comes from
 * the line items' `price_set.shop_money.currency_code`; the total is the sum of `line_price`s.
 */
export function mapCart(c: Obj): Obj {
  const items = arr(c['line_items'])
  const currency = items.map((li) => str(rec(rec(rec(li)['price_set'])['shop_money'])['currency_code'])).find((code) => code !== null)
  const total = items.reduce<string>((sum, li) => {
    const l = rec(li)
    const line = money(l['line_price']) ?? money(l['price'])
    return line === null ? sum : addMoney(sum, line)
  }, '0')
  return compact({
    id: str(c['id']) ?? str(c['token']),
    token: str(c['token']) ?? undefined,
    currency: str(c['currency']) ?? currency ?? null,
    total_price: money(c['total_price']) ?? total,
    line_items: items.map(mapLineItem),
    note: str(c['note']) ?? undefined,
    created_at: isoTime(c['created_at']) ?? undefined,
    updated_at: isoTime(c['updated_at']),
  })
}

/**
 * `url`: the product's page, `https://{shop}.myshopify.com/products/{handle}` (the payload has
 * the handle but no link; the shop's myshopify.com address redirects to its own domain).
 */
export function mapProduct(p: Obj, shopDomain: string | null = null): Obj {
  const handle = str(p['handle'])
  const domain = shopDomain && /^[a-z0-9][a-z0-9.-]*$/i.test(shopDomain) ? shopDomain.toLowerCase() : null
  return compact({
    id: idStr(p['id']),
    title: str(p['title']) ?? '',
    description: str(p['body_html']),
    status: str(p['status']) ?? 'active',
    handle: handle ?? undefined,
    url: handle && domain ? `https://${domain}/products/${encodeURIComponent(handle)}` : undefined,
    vendor: str(p['vendor']) ?? undefined,
    product_type: str(p['product_type']) ?? undefined,
    tags: splitTags(p['tags']),
    variants: arr(p['variants']).map((v) => {
      const variant = rec(v)
      return compact({
        id: idStr(variant['id']),
        sku: str(variant['sku']),
        title: str(variant['title']) ?? undefined,
        price: money(variant['price']) ?? '0',
        compare_at_price: money(variant['compare_at_price']),
        inventory_quantity: int(variant['inventory_quantity']),
        inventory_item_id: idStr(variant['inventory_item_id']) ?? undefined,
      })
    }),
    updated_at: isoTime(p['updated_at']) ?? undefined,
  })
}

/**
 * inventory_levels/update names an inventory item and a location, never a SKU. Until storeflow
 * can resolve the item to its variant's SKU (needs an Admin API call), the inventory item id is used
 * as the sku so levels are still tracked per item; `inventory_item_id` is kept to join later.
 */
export function mapInventoryLevel(l: Obj): Obj {
  const item = idStr(l['inventory_item_id'])
  return compact({
    sku: str(l['sku']) ?? item,
    inventory_item_id: item,
    variant_id: idStr(l['variant_id']),
    location_id: idStr(l['location_id']),
    available: int(l['available']) ?? 0,
    updated_at: isoTime(l['updated_at']) ?? undefined,
  })
}
