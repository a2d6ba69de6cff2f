import { createHash } from 'node:crypto'
import { outboundFailure, PermanentError, RetryableError, type ActionServices, type ShopifyAdmin } from '../../plugin-api/index.ts'
import { retryAfterMs } from '../http-request/http-request.action.ts'

/**
 * One request to a store's Shopify GraphQL Admin API, with Shopify's answers turned into step
 * outcomes (create_discount_code, hold_order). What it follows, from Shopify's documentation:
 * - `POST https://SHOP/admin/api/VERSION/graphql.json` with `{ query, variables }` and the header
 *   `X-Shopify-Access-Token` (shopify.dev/docs/api/admin-graphql).
 * - 401 Unauthorized: the token is wrong or revoked; 403: the app lacks the scope. Neither passes
 *   by retrying: the step fails for good, naming the connector.
 * - Rate limits: the GraphQL Admin API answers 200 with `errors[].extensions.code == "THROTTLED"`
 *   and `extensions.cost { requestedQueryCost, throttleStatus { currentlyAvailable, restoreRate } }`
 *   at the top level (shopify.dev/docs/api/usage/rate-limits); the REST API, and some proxies in
 *   front of GraphQL, answer 429 with Retry-After (seconds). Both retry, after the delay they give.
 * - 5xx: Shopify is having trouble: retry (after Retry-After when given).
 * - Other top-level `errors` (a query Shopify cannot run, ACCESS_DENIED): the same request fails the
 *   same way again, so the step fails for good. `userErrors` in `data` are the caller's to read.
 */

/** Per request to the shop's Admin API, ms. */
const SHOP_TIMEOUT_MS = 15_000
/** Per answer: the queries here answer a few KB at most. */
const SHOP_MAX_RESPONSE_BYTES = 256 * 1024
/** When a throttled answer says nothing usable about its bucket: retry after this, ms. */
const THROTTLED_DEFAULT_DELAY_MS = 2_000

export interface ShopifyUserError {
  field?: string[] | null
  code?: string | null
  message?: string
}

interface GraphqlBody<T> {
  data?: T | null
  errors?: Array<{ message?: string; extensions?: { code?: string } }>
  extensions?: { cost?: { requestedQueryCost?: number; throttleStatus?: { currentlyAvailable?: number; restoreRate?: number } } }
}

/** Who the errors name: the connector and the shop's host. */
export function shopifyLabel(admin: ShopifyAdmin): string {
  return `Shopify Admin API (${new URL(admin.graphqlUrl).host}, connector ${admin.connectorId})`
}

/**
 * Sends the query; answers its `data`, or throws RetryableError / PermanentError. `scopes` names the
 * access scopes the request needs, for the message when Shopify refuses the token.
 */
export async function shopifyGraphql<T>(
  client: ActionServices['http'],
  admin: ShopifyAdmin,
  request: { query: string; variables: Record<string, unknown>; idempotencyKey: string; scopes: string },
): Promise<T> {
  const label = shopifyLabel(admin)
  let response: Awaited<ReturnType<ActionServices['http']['request']>>
  try {
    response = await client.request(admin.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': admin.accessToken, 'idempotency-key': request.idempotencyKey },
      body: JSON.stringify({ query: request.query, variables: request.variables }),
      timeoutMs: SHOP_TIMEOUT_MS,
      maxResponseBytes: SHOP_MAX_RESPONSE_BYTES,
      redirects: 'refuse',
    })
  } catch (err) {
    throw outboundFailure(label, err)
  }
  const status = response.status
  if (status === 429 || status >= 500) {
    throw new RetryableError(`${label} answered ${status}`, { retryAfterMs: shopifyRetryAfterMs(response.headers['retry-after'] ?? null) })
  }
  if (status === 401) {
    throw new PermanentError(`${label} refused the access token (401 Unauthorized): set a valid Admin API access token on the connector`, {
      reason: 'unauthorized',
    })
  }
  if (status === 403) {
    throw new PermanentError(`${label} refused the request (403 Forbidden): the connector's access token needs the ${request.scopes} scope`, {
      reason: 'forbidden',
    })
  }
  if (status < 200 || status >= 300) throw new PermanentError(`${label} answered ${status}`)
  let body: GraphqlBody<T>
  try {
    body = JSON.parse(response.body) as GraphqlBody<T>
  } catch {
    throw new PermanentError(`${label} answered something that is not JSON`)
  }
  const errors = body.errors ?? []
  if (errors.some((e) => e.extensions?.code === 'THROTTLED' || /^throttled$/i.test(String(e.message ?? '')))) {
    throw new RetryableError(`${label} throttled the request`, { retryAfterMs: throttledDelayMs(body) })
  }
  if (errors.some((e) => e.extensions?.code === 'ACCESS_DENIED')) {
    throw new PermanentError(`${label} denied access: the connector's access token needs the ${request.scopes} scope`, { reason: 'forbidden' })
  }
  if (errors.length > 0) {
    throw new PermanentError(
      `${label}: ${errors
        .map((e) => String(e.message ?? 'error'))
        .join('; ')
        .slice(0, 300)}`,
    )
  }
  if (!body.data) throw new PermanentError(`${label} answered no data`)
  return body.data
}

/** Shopify's REST API sends Retry-After as decimal seconds ("2.0"); else as HTTP says (seconds or a date). */
function shopifyRetryAfterMs(value: string | null): number | undefined {
  if (value && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000)
  return retryAfterMs(value)
}

/** The wait until the bucket holds the query's cost again: (requested - available) / restoreRate seconds. */
function throttledDelayMs(body: GraphqlBody<unknown>): number {
  const cost = body.extensions?.cost
  const requested = cost?.requestedQueryCost
  const available = cost?.throttleStatus?.currentlyAvailable
  const rate = cost?.throttleStatus?.restoreRate
  if (typeof requested !== 'number' || typeof available !== 'number' || typeof rate !== 'number' || rate <= 0) return THROTTLED_DEFAULT_DELAY_MS
  return Math.max(1000, Math.ceil(((requested - available) / rate) * 1000))
}

/** userErrors as one line for a step's error. */
export function userErrorText(errors: ShopifyUserError[]): string {
  return errors
    .map((e) => `${e.field && e.field.length > 0 ? `${e.field.join('.')}: ` : ''}${e.message ?? e.code ?? 'error'}`)
    .join('; ')
    .slice(0, 300)
}

/** A short, stable name for what a step placed in the shop (a hold's `handle`). */
export function stepHandle(idempotencyKey: string): string {
  return `storeflow-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}`
}
