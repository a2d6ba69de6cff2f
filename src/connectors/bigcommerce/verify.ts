import { equalsBase64, equalsString, hmacSha256 } from '../shared/hmac.ts'
import { header } from '../shared/delivery.ts'
import type { ConnectorCredentials, VerifyResult, WebhookDelivery } from '../types.ts'

/** Standard Webhooks' reference libraries reject timestamps more than 5 minutes off, either way. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60

/**
 * A connector secret takes one of three forms:
 * - `header:<Header-Name>:<value>`: the hook was registered with a custom header
 *   (`POST /v3/hooks` with `headers: { "<Header-Name>": "<value>" }`, BigCommerce's legacy scheme);
 *   the delivery must carry that header with that value. The value may itself contain colons.
 * - `whsec_<base64>`: a Standard Webhooks secret; the key is the base64-decoded remainder.
 * - anything else: the app's client secret; the key is its UTF-8 bytes (https-webhook-overview.mdx,
 *   "Webhook signature": the docs' sample base64-encodes it for a library that decodes it again).
 */
export type BigCommerceSecret = { kind: 'header'; name: string; value: string } | { kind: 'hmac'; key: Buffer }

export function parseSecret(secret: string): BigCommerceSecret | null {
  if (secret.startsWith('header:')) {
    const rest = secret.slice('header:'.length)
    const colon = rest.indexOf(':')
    if (colon <= 0 || colon === rest.length - 1) return null
    return { kind: 'header', name: rest.slice(0, colon).trim().toLowerCase(), value: rest.slice(colon + 1) }
  }
  if (secret.startsWith('whsec_')) return { kind: 'hmac', key: Buffer.from(secret.slice('whsec_'.length), 'base64') }
  return secret === '' ? null : { kind: 'hmac', key: Buffer.from(secret, 'utf8') }
}

export function verifyBigCommerce(d: WebhookDelivery, creds: ConnectorCredentials, now: Date): VerifyResult {
  const secrets = creds.secrets.map(parseSecret).filter((s): s is BigCommerceSecret => s !== null)
  if (secrets.length === 0) return { ok: false, reason: 'connector has no webhook secret' }

  for (const secret of secrets) {
    if (secret.kind !== 'header') continue
    const given = header(d, secret.name)
    if (given !== null && equalsString(secret.value, given)) return { ok: true }
  }

  const hmacKeys = secrets.flatMap((s) => (s.kind === 'hmac' ? [s.key] : []))
  if (hmacKeys.length === 0) return { ok: false, reason: 'custom authentication header missing or wrong' }
  return verifyStandardWebhook(d, hmacKeys, now)
}

/**
 * Standard Webhooks v1 (standard-webhooks spec, libraries/javascript/src/index.ts): HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${raw body}`, base64, sent as space-separated `v1,<sig>` entries.
 */
function verifyStandardWebhook(d: WebhookDelivery, keys: Buffer[], now: Date): VerifyResult {
  const id = header(d, 'webhook-id')
  const timestamp = header(d, 'webhook-timestamp')
  const signatures = header(d, 'webhook-signature')
  if (id === null || timestamp === null || signatures === null) {
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' }
  }
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not unix seconds' }
  const skew = Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp))
  if (skew > TIMESTAMP_TOLERANCE_SECONDS) return { ok: false, reason: `webhook-timestamp is ${skew}s from now (tolerance ${TIMESTAMP_TOLERANCE_SECONDS}s)` }

  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), d.rawBody])
  const given = signatures
    .split(' ')
    .map((entry) => entry.split(','))
    .filter((parts) => parts[0] === 'v1' && parts[1] !== undefined)
    .map((parts) => parts.slice(1).join(','))
  const matched = keys.some((key) => {
    const expected = hmacSha256(key, signed)
    return given.some((sig) => equalsBase64(expected, sig))
  })
  return matched ? { ok: true } : { ok: false, reason: 'webhook-signature does not match the body' }
}
