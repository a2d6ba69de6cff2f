import { equalsBase64, hmacSha256 } from '../shared/hmac.ts'
import { header } from '../shared/delivery.ts'
import type { ConnectorCredentials, VerifyResult, WebhookDelivery } from '../types.ts'

/**
 * WooCommerce signs the exact body with HMAC-SHA256 keyed by the webhook's secret and sends
 * base64 in X-WC-Webhook-Signature (woocommerce `class-wc-webhook.php` generate_signature()).
 */
export function verifyWooCommerce(d: WebhookDelivery, creds: ConnectorCredentials): VerifyResult {
  const signature = header(d, 'x-wc-webhook-signature')
  if (signature === null) {
    if (isPing(d)) return { ok: true, ping: true }
    return { ok: false, reason: 'missing X-WC-Webhook-Signature header' }
  }
  const keys = signingKeys(creds.secrets)
  if (keys.length === 0) return { ok: false, reason: 'connector has no webhook secret' }
  const matched = keys.some((key) => equalsBase64(hmacSha256(key, d.rawBody), signature))
  return matched ? { ok: true } : { ok: false, reason: 'X-WC-Webhook-Signature does not match the body' }
}

/**
 * The ping sent when a hook is created or activated is unsigned: a form body `webhook_id=<id>` and no
 * X-WC-* headers (deliver_ping()). It must be answered 200; it carries nothing to store, so
 * accepting it unsigned exposes nothing.
 */
export function isPing(d: WebhookDelivery): boolean {
  const hasWcHeaders = Object.keys(d.headers).some((name) => name.toLowerCase().startsWith('x-wc-webhook-') && d.headers[name])
  return !hasWcHeaders && /^webhook_id=\d+$/.test(d.rawBody.toString('utf8').trim())
}

/**
 * The key is the secret after `wp_specialchars_decode($secret, ENT_QUOTES)`. A user may paste the
 * secret as typed or as stored (with `&amp;` etc.), so both forms are tried.
 */
function signingKeys(secrets: string[]): string[] {
  const keys = new Set<string>()
  for (const secret of secrets) {
    if (secret === '') continue
    keys.add(secret)
    keys.add(wpSpecialcharsDecode(secret))
  }
  return [...keys]
}

function wpSpecialcharsDecode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;|&#0*34;/g, '"')
    .replace(/&#0*39;|&#x27;/gi, "'")
    .replace(/&amp;|&#0*38;/g, '&')
}
