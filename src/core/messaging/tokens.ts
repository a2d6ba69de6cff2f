import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Signed tokens for the links in customers' mail: click (`/t/c/:token`), open (`/t/o/:token`)
 * and unsubscribe (`/u/:token`). A token is `base64url(JSON payload) "." base64url(HMAC-SHA256)`.
 * The HMAC key is derived from STOREFLOW_SECRET_KEY for this one purpose, so a token can never be
 * confused with anything else the secret key signs or encrypts; the payload names its kind, so a
 * click token cannot be replayed as an unsubscribe token. Tokens do not expire: RFC 8058 and
 * anti-spam law expect an unsubscribe link to keep working long after the mail was sent.
 */

export interface ClickToken {
  kind: 'click'
  messageId: string
  url: string
}

export interface OpenToken {
  kind: 'open'
  messageId: string
}

export interface UnsubscribeToken {
  kind: 'unsubscribe'
  storeId: string
  /** the customer's key when the mail was sent; a later merge forwards it (store/customer-aliases.ts) */
  customerKey: string
  /** the idempotency key of the message whose link it is (insight counts unsubscribes per workflow step); absent in older links */
  messageKey?: string
}

type Wire = { k: 'c'; m: string; u: string } | { k: 'o'; m: string } | { k: 'u'; s: string; c: string; i?: string }

const keyCache = new Map<string, Buffer>()

function signingKey(secretKey: string): Buffer {
  let key = keyCache.get(secretKey)
  if (!key) {
    if (!secretKey) throw new Error('tracking tokens need STOREFLOW_SECRET_KEY')
    key = createHmac('sha256', secretKey).update('storeflow:message-tokens:v1').digest()
    keyCache.set(secretKey, key)
  }
  return key
}

function sign(secretKey: string, wire: Wire): string {
  const body = Buffer.from(JSON.stringify(wire)).toString('base64url')
  const mac = createHmac('sha256', signingKey(secretKey)).update(body).digest('base64url')
  return `${body}.${mac}`
}

/** The payload when the signature holds, in constant time; null for anything forged or altered. */
function open(secretKey: string, token: string): Wire | null {
  if (typeof token !== 'string' || token.length > 8192) return null
  const dot = token.indexOf('.')
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return null
  const body = token.slice(0, dot)
  const given = Buffer.from(token.slice(dot + 1), 'base64url')
  const expected = createHmac('sha256', signingKey(secretKey)).update(body).digest()
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
  try {
    const wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown
    return typeof wire === 'object' && wire !== null ? (wire as Wire) : null
  } catch {
    return null
  }
}

export function signClickToken(secretKey: string, messageId: string, url: string): string {
  return sign(secretKey, { k: 'c', m: messageId, u: url })
}

export function signOpenToken(secretKey: string, messageId: string): string {
  return sign(secretKey, { k: 'o', m: messageId })
}

export function signUnsubscribeToken(secretKey: string, storeId: string, customerKey: string, messageKey?: string): string {
  return sign(secretKey, { k: 'u', s: storeId, c: customerKey, ...(messageKey ? { i: messageKey } : {}) })
}

/** `/t/c/:token` → the message and the original URL to redirect to, or null (answer 404). */
export function verifyClickToken(secretKey: string, token: string): ClickToken | null {
  const wire = open(secretKey, token)
  if (wire?.k !== 'c' || typeof wire.m !== 'string' || typeof wire.u !== 'string') return null
  // only ever redirect to web addresses: a signed token is no licence for javascript: URLs
  if (!/^https?:\/\//i.test(wire.u)) return null
  return { kind: 'click', messageId: wire.m, url: wire.u }
}

/** `/t/o/:token` → the message that was opened, or null. */
export function verifyOpenToken(secretKey: string, token: string): OpenToken | null {
  const wire = open(secretKey, token)
  if (wire?.k !== 'o' || typeof wire.m !== 'string') return null
  return { kind: 'open', messageId: wire.m }
}

/** `/u/:token` → the store and customer to unsubscribe, or null. */
export function verifyUnsubscribeToken(secretKey: string, token: string): UnsubscribeToken | null {
  const wire = open(secretKey, token)
  if (wire?.k !== 'u' || typeof wire.s !== 'string' || typeof wire.c !== 'string') return null
  return { kind: 'unsubscribe', storeId: wire.s, customerKey: wire.c, ...(typeof wire.i === 'string' ? { messageKey: wire.i } : {}) }
}

function base(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '')
}

export function clickUrl(publicUrl: string, secretKey: string, messageId: string, url: string): string {
  return `${base(publicUrl)}/t/c/${signClickToken(secretKey, messageId, url)}`
}

export function openPixelUrl(publicUrl: string, secretKey: string, messageId: string): string {
  return `${base(publicUrl)}/t/o/${signOpenToken(secretKey, messageId)}`
}

export function unsubscribeUrl(publicUrl: string, secretKey: string, storeId: string, customerKey: string, messageKey?: string): string {
  return `${base(publicUrl)}/u/${signUnsubscribeToken(secretKey, storeId, customerKey, messageKey)}`
}

/** A 43-byte transparent GIF for the open pixel: serve it with `Content-Type: image/gif`, no-store. */
export const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64')

/** sha256 hex, for stable ids derived from idempotency keys. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
