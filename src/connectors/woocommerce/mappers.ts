import { addMoney } from '../../lib/money.ts'
import { arr, compact, decodeEntities, idStr, int, isoFromGmt, money, rec, str } from '../shared/values.ts'

/**
 * WooCommerce webhook bodies are the REST API v3 representation of the resource
 * (woocommerce-rest-api-docs `_webhooks.md`; `WC_Webhook::build_payload()`), so field names follow
 * `_orders.md`, `_customers.md` and `_products.md` there. Times come from the `*_gmt` fields (UTC).
 */

type Obj = Record<string, unknown>

function address(value: unknown): Obj | null {
  const a = rec(value)
  if (Object.keys(a).length === 0) return null
  return { ...a, country_code: str(a['country']) }
}

/** An order's buyer: `customer_id` 0 is a guest, known only by the billing email. */
function orderCustomer(o: Obj): Obj | null {
  const billing = rec(o['billing'])
  const c = compact({
    id: idStr(o['customer_id']),
    email: str(billing['email']),
    phone: str(billing['phone']),
    first_name: str(billing['first_name']),
    last_name: str(billing['last_name']),
  })
  return c['id'] || c['email'] ? c : null
}

/** Woo status → Shopify-like financial status, so conditions read the same across platforms. */
function financialStatus(o: Obj): string {
  const status = str(o['status'])
  if (status === 'refunded') return 'refunded'
  if (status === 'cancelled' || status === 'failed') return 'voided'
  if (isPaid(o)) return arr(o['refunds']).length > 0 ? 'partially_refunded' : 'paid'
  return 'pending'
}

/**
 * Paid = a payment date is set (`date_paid_gmt`) and the status is one Woo uses after payment
 * ("processing": paid, awaiting fulfilment; "completed": paid and fulfilled — Woo order status docs).
 */
export function isPaid(o: Obj): boolean {
  const status = str(o['status'])
  return str(o['date_paid_gmt']) !== null && (status === 'processing' || status === 'completed')
}

export function mapOrder(o: Obj): Obj {
  const items = arr(o['line_items']).map(rec)
  const subtotal = items.reduce<string>((sum, li) => addMoney(sum, money(li['subtotal']) ?? '0'), '0')
  return compact({
    id: idStr(o['id']),
    number: str(o['number']) ?? idStr(o['id']),
    customer: orderCustomer(o),
    email: str(rec(o['billing'])['email']),
    currency: str(o['currency']),
    // Woo has no order subtotal field; the sum of line subtotals is what its admin shows.
    subtotal_price: subtotal,
    total_discounts: money(o['discount_total']),
    shipping_price: money(o['shipping_total']),
    total_tax: money(o['total_tax']) ?? undefined,
    total_price: money(o['total']),
    financial_status: financialStatus(o),
    fulfillment_status: str(o['status']) === 'completed' ? 'fulfilled' : null,
    status: str(o['status']) ?? undefined,
    line_items: items.map((li) =>
      compact({
        id: idStr(li['id']) ?? undefined,
        sku: str(li['sku']),
        product_id: idStr(li['product_id']),
        // Woo calls the variant a "variation"; 0 means a simple product.
        variant_id: idStr(li['variation_id']),
        title: str(li['name']) === null ? null : decodeEntities(String(li['name'])),
        quantity: int(li['quantity']) ?? 0,
        // `price` is a float in the REST response (3 for "6.00" / 2); money() keeps its exact digits.
        price: money(li['price']) ?? '0',
        subtotal: money(li['subtotal']) ?? undefined,
        total: money(li['total']) ?? undefined,
      }),
    ),
    discount_codes: arr(o['coupon_lines'])
      .map((c) => str(rec(c)['code']))
      .filter((c): c is string => c !== null),
    shipping_address: address(o['shipping']),
    billing_address: address(o['billing']),
    payment_method: str(o['payment_method']) ?? undefined,
    customer_note: str(o['customer_note']) ?? undefined,
    created_at: isoFromGmt(o['date_created_gmt']),
    paid_at: isoFromGmt(o['date_paid_gmt']) ?? undefined,
    completed_at: isoFromGmt(o['date_completed_gmt']) ?? undefined,
    refund_amount: refundTotal(o) ?? undefined,
  })
}

/** `refunds[].total` are negative strings ("-5.00"); the refunded amount is their absolute sum. */
function refundTotal(o: Obj): string | null {
  const refunds = arr(o['refunds']).map(rec)
  if (refunds.length === 0) return null
  const sum = refunds.reduce<string>((acc, r) => addMoney(acc, money(r['total']) ?? '0'), '0')
  return sum.startsWith('-') ? sum.slice(1) : sum
}

/**
 * Tracking on Woo lives in extensions, not core. The official Shipment Tracking extension stores
 * `_wc_shipment_tracking_items` in order meta ([{ tracking_provider, tracking_number, custom_tracking_link }]).
 */
export function mapCompletedFulfilment(o: Obj, order: Obj): Obj {
  const meta = arr(o['meta_data'])
    .map(rec)
    .find((m) => m['key'] === '_wc_shipment_tracking_items')
  const tracking = rec(arr(meta?.['value']).at(-1))
  return compact({
    order_id: idStr(o['id']),
    customer: order['customer'] ?? null,
    email: order['email'] ?? undefined,
    carrier: str(tracking['tracking_provider']) ?? str(tracking['custom_tracking_provider']),
    tracking_number: str(tracking['tracking_number']),
    tracking_url: str(tracking['custom_tracking_link']),
    order,
  })
}

export function mapCustomer(c: Obj): Obj {
  const billing = rec(c['billing'])
  return compact({
    id: idStr(c['id']),
    email: str(c['email']) ?? str(billing['email']),
    phone: str(billing['phone']),
    first_name: str(c['first_name']) ?? str(billing['first_name']),
    last_name: str(c['last_name']) ?? str(billing['last_name']),
    // Core WooCommerce has no marketing-consent field on customers: consent stays unknown.
    accepts_marketing: null,
    username: str(c['username']) ?? undefined,
    role: str(c['role']) ?? undefined,
    is_paying_customer: typeof c['is_paying_customer'] === 'boolean' ? c['is_paying_customer'] : undefined,
    billing_address: address(c['billing']) ?? undefined,
    shipping_address: address(c['shipping']) ?? undefined,
    created_at: isoFromGmt(c['date_created_gmt']),
  })
}

/** Woo post statuses → canonical product status: only `publish` is live in the shop. */
function productStatus(status: string | null): string {
  if (status === 'publish') return 'active'
  if (status === 'trash') return 'archived'
  return 'draft'
}

/**
 * A simple product is its own single variant. A variable product's body lists only variation ids
 * (`variations: [ids]`), without prices, so its variants stay empty and the ids are kept.
 */
export function mapProduct(p: Obj): Obj {
  const isVariable = arr(p['variations']).length > 0
  const regular = money(p['regular_price'])
  const price = money(p['price']) ?? regular
  return compact({
    id: idStr(p['id']),
    title: str(p['name']) === null ? '' : decodeEntities(String(p['name'])),
    description: str(p['description']),
    status: productStatus(str(p['status'])),
    woocommerce_status: str(p['status']) ?? undefined,
    sku: str(p['sku']) ?? undefined,
    permalink: str(p['permalink']) ?? undefined,
    // the canonical field for the product's page (a back-in-stock notice links to it)
    url: httpUrl(str(p['permalink'])) ?? undefined,
    variants:
      isVariable || price === null
        ? []
        : [
            compact({
              id: idStr(p['id']),
              sku: str(p['sku']),
              price,
              // On sale, `price` is the sale price and `regular_price` what it was.
              compare_at_price: p['on_sale'] === true && regular !== price ? regular : null,
              inventory_quantity: p['manage_stock'] === true ? int(p['stock_quantity']) : null,
            }),
          ],
    variation_ids: isVariable ? arr(p['variations']).map(idStr) : undefined,
    updated_at: isoFromGmt(p['date_modified_gmt']) ?? undefined,
  })
}

/** Stock changes arrive as product.updated; a product that manages stock under a SKU also yields a level. */
export function inventoryOf(p: Obj): Obj | null {
  const sku = str(p['sku'])
  const available = int(p['stock_quantity'])
  if (p['manage_stock'] !== true || sku === null || available === null) return null
  return { sku, variant_id: idStr(p['id']), available }
}

/** An absolute http(s) URL, else null (what the product's `url` accepts). */
function httpUrl(text: string | null): string | null {
  if (!text) return null
  try {
    const u = new URL(text)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null
  } catch {
    return null
  }
}
