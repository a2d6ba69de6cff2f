import { equalsBase64, hmacSha256 } from '../shared/hmac.ts'
import { header } from '../shared/delivery.ts'
import type { ConnectorCredentials, VerifyResult, WebhookDelivery } from '../types.ts'

/**
 * Shopify signs the raw body with HMAC-SHA256 keyed by the app's client secret (UTF-8) and sends
 * the base64 digest in X-Shopify-Hmac-Sha256 (https://shopify.dev/docs/api/webhooks/2026-07,
 * "Headers"; shopify-app-js hmac-validator.ts). Any configured secret may match, so a secret can be
 * rotated without a window of rejected deliveries.
 */
export function verifyShopify(d: WebhookDelivery, creds: ConnectorCredentials): VerifyResult {
  const signature = header(d, 'x-shopify-hmac-sha256')
  if (signature === null) return { ok: false, reason: 'missing X-Shopify-Hmac-Sha256 header' }
  const secrets = creds.secrets.filter((s) => s !== '')
  if (secrets.length === 0) return { ok: false, reason: 'connector has no webhook secret' }
  const matched = secrets.some((secret) => equalsBase64(hmacSha256(secret, d.rawBody), signature))
  if (!matched) return { ok: false, reason: 'X-Shopify-Hmac-Sha256 does not match the body' }
  // One public app's secret signs deliveries for every shop that installed it: a valid delivery
  // for another shop must not be accepted into this connector's store. Shopify always sends the
  // header, so a delivery without it is not taken on trust: the shop it is for cannot be told.
  if (creds.shopDomain) {
    const domain = header(d, 'x-shopify-shop-domain')?.trim() ?? ''
    if (domain === '') return { ok: false, reason: `missing X-Shopify-Shop-Domain header; this connector takes deliveries for ${creds.shopDomain} only` }
    if (domain.toLowerCase() !== creds.shopDomain.toLowerCase()) {
      return { ok: false, reason: `X-Shopify-Shop-Domain ${domain} is not this connector's shop (${creds.shopDomain})` }
    }
  }
  return { ok: true }
}
