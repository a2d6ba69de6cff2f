import { createHmac } from 'node:crypto'
import { z } from 'zod'
import { parseDuration } from '../../lib/durations.ts'
import { defineAction, outboundFailure, PermanentError, RetryableError, type OutboundResponse } from '../../plugin-api/index.ts'

/** The answer is kept as the step's output: past this the step fails rather than store a truncated body. */
const MAX_RESPONSE_BYTES = 256 * 1024

export const httpRequest = defineAction({
  type: 'http_request',
  title: 'HTTP request',
  description:
    'Calls a URL. Retries on network errors, timeouts, 5xx and 429 (honouring Retry-After); other 4xx fail the step. Sends an Idempotency-Key header stable across retries, and signs the body with HMAC-SHA256 when a secret is given. Private and loopback addresses are refused unless STOREFLOW_ALLOW_PRIVATE_HTTP=1, also when a name resolves to one. Redirects are not followed: a 3xx is the output, with its Location header. An answer over 256 KiB fails the step; the timeout is capped by STOREFLOW_HTTP_TIMEOUT_MS.',
  input: z.object({
    url: z.string().url().describe('The URL to call (http or https)'),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST').describe('HTTP method; default POST'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers'),
    body: z.unknown().optional().describe('JSON body (objects are sent as JSON, strings as they are)'),
    secret: z.string().optional().describe('When set, X-Storeflow-Signature: sha256=<hex HMAC of the body with this secret>'),
    timeout: z.string().default('10s').describe('Give up after this long (the whole exchange), e.g. "10s"; default 10s, at most STOREFLOW_HTTP_TIMEOUT_MS'),
  }),
  output: z.object({ status: z.number(), headers: z.record(z.string(), z.string()), body: z.unknown() }),
  effects: 'external',
  // a dry run names the request it would make and makes none
  simulate: 'dry_run',
  // the receiver gets the same Idempotency-Key on every attempt and can drop repeats
  retry: { safe: true, maxAttempts: 5, baseDelayMs: 2000 },
  examples: [{ url: 'https://hooks.example.com/orders', method: 'POST', headers: {}, body: { order: '{{ order.number }}' }, timeout: '10s' }],
  async run({ input, idempotencyKey, services, dryRun }) {
    const url = new URL(input.url)
    // simulate: say what would be sent, send nothing
    if (dryRun) return { status: 0, headers: {}, body: { dry_run: true, method: input.method, url: url.href } }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PermanentError(`url: only http and https are allowed, got ${url.protocol}`)
    const body = input.body === undefined || input.method === 'GET' ? undefined : typeof input.body === 'string' ? input.body : JSON.stringify(input.body)
    const headers: Record<string, string> = { 'user-agent': 'storeflow', 'idempotency-key': idempotencyKey, ...input.headers }
    if (body !== undefined && typeof input.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json'
    if (input.secret && body !== undefined) headers['x-storeflow-signature'] = `sha256=${createHmac('sha256', input.secret).update(body).digest('hex')}`

    let response: OutboundResponse
    try {
      // a 3xx is handed back, never followed: the step's output shows where it pointed
      response = await services.http.request(url, {
        method: input.method,
        headers,
        body,
        timeoutMs: parseDuration(input.timeout, 'timeout'),
        maxResponseBytes: MAX_RESPONSE_BYTES,
        redirects: 'return',
      })
    } catch (err) {
      throw outboundFailure(`http_request to ${url.host}`, err)
    }
    const text = response.body
    if (response.status === 429 || response.status >= 500) {
      throw new RetryableError(`${url.host} answered ${response.status}`, { retryAfterMs: retryAfterMs(response.headers['retry-after'] ?? null) })
    }
    if (response.status >= 400) throw new PermanentError(`${url.host} answered ${response.status}: ${text.slice(0, 300)}`)
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed }
  },
})

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
