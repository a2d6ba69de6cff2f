import { outboundFailure, PermanentError, RetryableError, type ActionServices } from '../../plugin-api/index.ts'

/** Per request to a remote service's API, ms. */
const REMOTE_TIMEOUT_MS = 20_000
/** Per answer: a rate list or a label is a few KiB; a page of transactions some tens. */
const REMOTE_MAX_RESPONSE_BYTES = 1024 * 1024

export interface RemoteCall {
  method: 'GET' | 'POST' | 'DELETE'
  url: string
  headers: Record<string, string>
  /** JSON body (sent as application/json) */
  json?: unknown
  /** form body (sent as application/x-www-form-urlencoded), repeated keys allowed */
  form?: Array<[string, string]>
}

export interface RemoteAnswer {
  status: number
  headers: Record<string, string>
  body: unknown
}

/**
 * One request to a remote service through the guarded client (services.http), its failures turned
 * into what the engine must do:
 * - network failure or time limit: retry; a refused address or a redirect: fail for good;
 * - 429 and 5xx: retry, after `Retry-After` (seconds or an HTTP date, against `now`) when given;
 * - 401 and 403 (or what `refusedCredentials` says is a refused credential): fail for good, naming the credential to check (`fix`);
 * - `rateLimited(answer)` lets an API that signals throttling in a 4xx body (Meta's error codes) retry too;
 * - any other non-2xx: fail for good with the service's own message.
 */
export async function callRemote(
  client: ActionServices['http'],
  what: string,
  call: RemoteCall,
  opts: {
    now: Date
    fix: string
    rateLimited?: (answer: RemoteAnswer) => boolean
    /** an API that refuses a credential with another status (Meta: 400 with code 190) */
    refusedCredentials?: (answer: RemoteAnswer) => boolean
    errorText?: (body: unknown) => string | null
  },
): Promise<RemoteAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers }
  let body: string | undefined
  if (call.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(call.json)
  } else if (call.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(call.form).toString()
  }
  // Node sends a DELETE body without chunked encoding: without a length the server never sees it
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
  let response: Awaited<ReturnType<ActionServices['http']['request']>>
  try {
    response = await client.request(call.url, {
      method: call.method,
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: REMOTE_TIMEOUT_MS,
      maxResponseBytes: REMOTE_MAX_RESPONSE_BYTES,
      redirects: 'refuse',
    })
  } catch (err) {
    throw outboundFailure(what, err)
  }
  let parsed: unknown = null
  try {
    parsed = response.body === '' ? null : JSON.parse(response.body)
  } catch {
    parsed = response.body.slice(0, 300)
  }
  const answer: RemoteAnswer = { status: response.status, headers: response.headers, body: parsed }
  const said = (opts.errorText?.(parsed) ?? (typeof parsed === 'string' ? parsed : JSON.stringify(parsed)))?.slice(0, 300) ?? ''
  if (response.status === 429 || response.status >= 500 || (response.status >= 400 && opts.rateLimited?.(answer))) {
    throw new RetryableError(`${what} answered ${response.status}${said ? `: ${said}` : ''}`, {
      retryAfterMs: retryAfter(response.headers['retry-after'], opts.now),
    })
  }
  if (response.status === 401 || response.status === 403 || opts.refusedCredentials?.(answer)) {
    throw new PermanentError(`${what} refused the credentials (${response.status}${said ? `: ${said}` : ''}); ${opts.fix}`, { code: 'unauthorized' })
  }
  if (response.status < 200 || response.status >= 300) throw new PermanentError(`${what} answered ${response.status}${said ? `: ${said}` : ''}`)
  return answer
}

/** Retry-After as ms from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime())
}
