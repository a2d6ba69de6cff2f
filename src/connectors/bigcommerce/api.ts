import { OperationalError, UserError } from '../../lib/errors.ts'
import { parseJsonLossless } from '../shared/json.ts'
import type { ConnectorCredentials, MapDeps } from '../types.ts'

/**
 * The shop's API failed in a way that may pass (5xx, 429, network, timeout, or credentials the user
 * can fix). The webhook route answers 5xx so BigCommerce retries the delivery (it retries for ~48 h,
 * https-webhook-overview.mdx "Retries").
 */
export class ShopApiError extends OperationalError {
  constructor(message: string, readonly httpStatus: number | null, readonly url: string, cause?: unknown) {
    super(message, { code: 'unavailable', cause, details: { status: httpStatus, url } })
  }
}

/** The resource the webhook names no longer exists (404): mapped to a raw event, not retried. */
export const GONE = Symbol('gone')

/** Per request; BigCommerce does not document its callback timeout, so stay well inside any sane one. */
export const REQUEST_TIMEOUT_MS = 8_000

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
    throw new UserError('BigCommerce connector needs an API URL and access token to fetch the resource a webhook names; set them with `storeflow connectors add --api-url https://api.bigcommerce.com/stores/{store_hash} --access-token T`')
  }
  return {
    async get(path) {
      const url = `${apiUrl}${path}`
      let response: Response
      try {
        response = await deps.fetch(url, {
          headers: { 'X-Auth-Token': token, Accept: 'application/json' },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        })
      } catch (err) {
        throw new ShopApiError(`BigCommerce API unreachable: GET ${path}`, null, url, err)
      }
      if (response.status === 404) {
        await response.body?.cancel()
        return GONE
      }
      const text = await response.text()
      if (response.status === 401 || response.status === 403) {
        throw new ShopApiError(`BigCommerce API refused the access token (${response.status}) for GET ${path}; check the connector's access token and its scopes`, response.status, url)
      }
      if (!response.ok) throw new ShopApiError(`BigCommerce API answered ${response.status} for GET ${path}`, response.status, url)
      if (response.status === 204 || text.trim() === '') return null
      try {
        return parseJsonLossless(text)
      } catch (err) {
        throw new ShopApiError(`BigCommerce API sent invalid JSON for GET ${path}`, response.status, url, err)
      }
    },
  }
}
