import { PermanentError, RetryableError, outboundFailure, type OutboundClient, type OutboundResponse } from '../../plugin-api/index.ts'
import { parseDuration } from '../../lib/durations.ts'

/**
 * A message handed to an HTTP provider (an SMS gateway, a chat webhook): a POST through the
 * guarded client, so a URL from a workflow file or the environment cannot reach the machine's
 * own network, by its address, a name resolving to one, or a redirect. Anything but a 2xx
 * answer is thrown as the step's outcome (httpFailure). `what` names the other side in errors.
 */
export async function postToProvider(
  client: OutboundClient,
  what: string,
  url: string | URL,
  request: { headers: Record<string, string>; body: string; timeoutMs: number },
): Promise<OutboundResponse> {
  let response: OutboundResponse
  try {
    response = await client.request(url, { method: 'POST', ...request, maxResponseBytes: 64 * 1024, redirects: 'refuse' })
  } catch (err) {
    throw outboundFailure(what, err)
  }
  if (response.status < 200 || response.status >= 300) throw httpFailure(what, response.status, response.body, new Headers(response.headers))
  return response
}

/**
 * How an HTTP provider's answer maps to what the engine should do: 429 and 5xx are the
 * provider being busy or down (retry, honouring Retry-After); other 4xx mean the request itself
 * is wrong (bad number, bad credentials) and will not get better by trying again.
 */
export function httpFailure(what: string, status: number, body: string, headers: Headers): RetryableError | PermanentError {
  const reply = body.trim().slice(0, 500)
  const message = `${what} answered ${status}${reply ? `: ${reply}` : ''}`
  const details = { status, response: reply }
  if (status === 429 || status >= 500) {
    const retryAfterMs = retryAfter(headers.get('retry-after'))
    return new RetryableError(message, { details, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
  }
  return new PermanentError(message, { reason: 'provider_rejected', details })
}

function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  if (!Number.isNaN(at)) return Math.max(0, at - Date.now())
  try {
    return parseDuration(value)
  } catch {
    return undefined
  }
}
