import { moneyToNumber } from '../../lib/money.ts'
import { outboundFailure, PermanentError, RetryableError, type ActionServices, type CatalogueProduct, type WooCommerceAccount } from '../../plugin-api/index.ts'
import { retryAfterMs } from '../http-request/http-request.action.ts'

/**
 * Updates a product through the WooCommerce REST API (woocommerce.github.io/woocommerce-rest-api-docs,
 * developer.woocommerce.com/docs/apis/rest-api/authentication: keys as Basic credentials over HTTPS;
 * "Update a product"): `PUT /wp-json/wc/v3/products/{id}` with JSON `regular_price`, `sale_price`,
 * `description`, `status`. Authentication ("Authentication over HTTPS"): the consumer key and secret
 * as HTTP Basic credentials; an http:// api_url is refused (plain http would need OAuth 1.0a).
 * Prices: WooCommerce's regular price is the "was" price when on sale, so a compare-at price above
 * the price becomes `regular_price` with the price as `sale_price`; else `regular_price` is the
 * price and `sale_price` is cleared (""). A simple product: the first variant's prices are sent.
 * Status: active → publish, draft → draft, archived → private.
 * 401/403 (woocommerce_rest_cannot_edit, bad keys) and 404 fail for good; 429 and 5xx retry.
 */
const STATUS: Record<string, string> = { active: 'publish', draft: 'draft', archived: 'private' }

export function wooBody(product: CatalogueProduct): Record<string, string> {
  const body: Record<string, string> = { status: STATUS[product.status] ?? 'draft' }
  if (product.description !== null) body.description = product.description
  const v = product.variants[0]
  if (v) {
    const onSale = v.compare_at_price !== null && moneyToNumber(v.compare_at_price) > moneyToNumber(v.price)
    body.regular_price = onSale ? (v.compare_at_price as string) : v.price
    body.sale_price = onSale ? v.price : ''
  }
  return body
}

export async function pushToWooCommerce(
  client: ActionServices['http'],
  account: WooCommerceAccount,
  product: CatalogueProduct,
  allowPlainHttp: boolean,
): Promise<void> {
  const label = `WooCommerce REST API (${new URL(account.siteUrl).host}, connector ${account.connectorId})`
  // Basic credentials in clear text would give the key away: https only (unless the operator allows private http, for tests)
  if (new URL(account.siteUrl).protocol !== 'https:' && !allowPlainHttp)
    throw new PermanentError(`${label}: the connector's api_url must be https:// (the consumer key is sent as Basic credentials)`, { reason: 'insecure' })
  let response: Awaited<ReturnType<ActionServices['http']['request']>>
  try {
    response = await client.request(`${account.siteUrl}/wp-json/wc/v3/products/${encodeURIComponent(product.id)}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${account.consumerKey}:${account.consumerSecret}`).toString('base64')}`,
      },
      body: JSON.stringify(wooBody(product)),
      timeoutMs: 15_000,
      maxResponseBytes: 512 * 1024,
      redirects: 'refuse',
    })
  } catch (err) {
    throw outboundFailure(label, err)
  }
  const status = response.status
  if (status === 429 || status >= 500)
    throw new RetryableError(`${label} answered ${status}`, { retryAfterMs: retryAfterMs(response.headers['retry-after'] ?? null) })
  if (status === 401 || status === 403)
    throw new PermanentError(`${label} refused the consumer key (${status}): set a key with read/write access on the connector`, { reason: 'unauthorized' })
  if (status < 200 || status >= 300) {
    let message = ''
    try {
      message = String((JSON.parse(response.body) as { message?: string }).message ?? '')
    } catch {}
    throw new PermanentError(`${label} answered ${status}${message ? `: ${message.slice(0, 200)}` : ''}`)
  }
}
