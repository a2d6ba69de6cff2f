import { createHash } from 'node:crypto'
import { str } from '../shared/values.ts'
import { GONE, ShopApiError, type BigCommerceApi } from './api.ts'

/**
 * The storefront's address, which a product's page is relative to (`custom_url.url` is a path such
 * as `/orbit-terrarium/`): `GET /v2/store` ("Get Store Information") → `secure_URL`, the store's
 * current HTTPS address (its own domain once it has one). That call needs the API account's
 * "Information & Settings" read scope; a store whose token lacks it, or that does not answer,
 * gets its products without a `url` (a back-in-stock notice then has no link) rather than a failed
 * webhook. Asked once per API URL and token (one ask in flight however many webhooks wait for
 * it), again after an hour (a domain can change); a refusal (the scope missing) is asked again
 * after ten minutes, an outage or a timeout after one.
 */
const KEEP_MS = 3_600_000
const RETRY_REFUSED_MS = 600_000
const RETRY_FAILED_MS = 60_000
/** API URLs and tokens remembered at most (a process serves few stores' BigCommerce connectors) */
const MAX_KNOWN = 1000

const known = new Map<string, { url: Promise<string | null>; until: number }>()

export function storefrontOf(
  api: BigCommerceApi,
  creds: { apiUrl?: string | null | undefined; accessToken?: string | null | undefined },
  now = Date.now(),
): Promise<string | null> {
  const key = `${creds.apiUrl ?? ''}\u0000${createHash('sha256')
    .update(creds.accessToken ?? '')
    .digest('hex')}`
  const hit = known.get(key)
  if (hit && hit.until > now) return hit.url
  if (known.size >= MAX_KNOWN) known.clear()
  const entry = { url: Promise.resolve<string | null>(null), until: now + KEEP_MS }
  entry.url = (async () => {
    try {
      const store = await api.get('/v2/store')
      const url = store === GONE || store === null ? null : httpsOrigin(str((store as Record<string, unknown>)['secure_URL']))
      if (url === null) entry.until = now + RETRY_REFUSED_MS
      return url
    } catch (err) {
      // the scope missing (401/403): not soon again; an outage: soon
      const status = err instanceof ShopApiError ? err.httpStatus : null
      entry.until = now + (status === 401 || status === 403 ? RETRY_REFUSED_MS : RETRY_FAILED_MS)
      return null
    }
  })()
  known.set(key, entry)
  return entry.url
}

/** Forgets what was learnt (tests that change what the fake API answers). */
export function forgetStorefronts(): void {
  known.clear()
}

/** An http(s) URL's origin and path without a trailing slash, else null. */
function httpsOrigin(text: string | null): string | null {
  if (!text) return null
  try {
    const u = new URL(text)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}`
  } catch {
    return null
  }
}

/** The product's page: the storefront's address and the product's path (`custom_url.url`), or null. */
export function productPage(storefront: string | null, path: string | null): string | null {
  if (!storefront || !path?.startsWith('/') || path.startsWith('//')) return null
  try {
    return new URL(`${storefront}${path}`).href
  } catch {
    return null
  }
}
