import { str } from '../shared/values.ts'
import { GONE, type BigCommerceApi } from './api.ts'

/**
 * The storefront's address, which a product's page is relative to (`custom_url.url` is a path such
 * as `/orbit-terrarium/`): `GET /v2/store` ("Get Store Information") → `secure_URL`, the store's
 * current HTTPS address (its own domain once it has one). That call needs the API account's
 * "Information & Settings" read scope; a store whose token lacks it, or that does not answer,
 * gets its products without a `url` (a back-in-stock notice then has no link) rather than a failed
 * webhook. Asked once per API URL and process, again after an hour (a domain can change);
 * a failed ask is tried again after ten minutes.
 */
const KEEP_MS = 3_600_000
const RETRY_FAILED_MS = 600_000

const known = new Map<string, { url: string | null; until: number }>()

export async function storefrontOf(api: BigCommerceApi, apiUrl: string, now = Date.now()): Promise<string | null> {
  const hit = known.get(apiUrl)
  if (hit && hit.until > now) return hit.url
  let url: string | null = null
  try {
    const store = await api.get('/v2/store')
    url = store === GONE || store === null ? null : httpsOrigin(str((store as Record<string, unknown>)['secure_URL']))
  } catch {
    // scope missing (403), an outage: the product goes without its page, see above
    url = null
  }
  known.set(apiUrl, { url, until: now + (url === null ? RETRY_FAILED_MS : KEEP_MS) })
  return url
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
