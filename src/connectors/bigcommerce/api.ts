import { errorMessage, OperationalError, UserError } from '../../lib/errors.ts'
import { OutboundError, type OutboundResponse } from '../../lib/guarded-request.ts'
import { parseJsonLossless } from '../shared/json.ts'
import type { ConnectorCredentials, MapDeps } from '../types.ts'

/**
 * The shop's API failed in a way that may pass (5xx, 429, network, timeout), or in a way the
 * operator can fix (credentials; an API URL the guarded client refuses: a private address, a
 * redirect, an answer over the size cap). The webhook route keeps the delivery as failed with this
 * message and answers 503, so BigCommerce retries it (for ~48 h, https-webhook-overview.mdx
 * "Retries") and it can be replayed once the connector is fixed. `details.limit` names the
 * guarded client's limit the request ran into, if any.
 */
export class ShopApiError extends OperationalError {
  constructor(
    message: string,
    readonly httpStatus: number | null,
    readonly url: string,
    cause?: unknown,
  ) {
    super(message, { code: 'unavailable', cause, details: { status: httpStatus, url, limit: cause instanceof OutboundError ? cause.limit : null } })
  }
}

/** The resource the webhook names no longer exists (404): mapped to a raw event, not retried. */
export const GONE = Symbol('gone')

/** Per request; BigCommerce does not document its callback timeout, so stay well inside any sane one. */
export const REQUEST_TIMEOUT_MS = 8_000

/**
 * Per answer. One resource (an order, its product lines, a cart) is kilobytes; this leaves room for
 * a very large order and still bounds what a tenant-chosen URL can pour into memory.
 */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024

export interface BigCommerceApi {
  get(path: string): Promise<unknown | typeof GONE>
}

/**
 * `creds.apiUrl` is the API base with the store path (`https://api.bigcommerce.com/stores/{store_hash}`,
 * docs/cli.md, connectors add); requests authenticate with `X-Auth-Token` (BigCommerce "Authentication and example requests").
 */
export function bigCommerceApi(creds: ConnectorCredentials, deps: MapDeps): BigCommerceApi {
  const apiUrl = creds.apiUrl?.replace(/\/+$/, '')
  const token = creds.accessToken
  if (!apiUrl || !token) {
    throw new UserError(
      'BigCommerce connector needs an API URL and access token to fetch the resource a webhook names; set them with `storeflow connectors add --api-url https://api.bigcommerce.com/stores/{store_hash} --access-token T`',
    )
  }
  return {
    async get(path) {
      const url = `${apiUrl}${path}`
      let response: OutboundResponse
      try {
        // the API URL is the tenant's: through the guarded client, and a redirect is a failure
        response = await deps.http.request(url, {
          method: 'GET',
          headers: { 'X-Auth-Token': token, Accept: 'application/json' },
          timeoutMs: REQUEST_TIMEOUT_MS,
          maxResponseBytes: MAX_RESPONSE_BYTES,
          redirects: 'refuse',
        })
      } catch (err) {
        // the message names the limit hit, never the answer: nothing of it is kept
        throw new ShopApiError(`BigCommerce API request failed: GET ${path}: ${errorMessage(err)}`, null, url, err)
      }
      if (response.status === 404) return GONE
      const text = response.body
      if (response.status === 401 || response.status === 403) {
        throw new ShopApiError(
          `BigCommerce API refused the access token (${response.status}) for GET ${path}; check the connector's access token and its scopes`,
          response.status,
          url,
        )
      }
      if (response.status < 200 || response.status >= 300)
        throw new ShopApiError(`BigCommerce API answered ${response.status} for GET ${path}`, response.status, url)
      if (response.status === 204 || text.trim() === '') return null
      try {
        return parseJsonLossless(text)
      } catch (err) {
        throw new ShopApiError(`BigCommerce API sent invalid JSON for GET ${path}`, response.status, url, err)
      }
    },
  }
}
