import { promises as dns } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { StoreflowError, type ErrorCode } from './errors.ts'
import { isPrivateAddress } from './private-address.ts'

/**
 * The one HTTP client for requests storeflow makes on a tenant's behalf: connector APIs,
 * `http_request`, SMS providers, chat webhooks, and whatever calls out next. A tenant chooses
 * these URLs (a connector's API URL, a workflow's webhook), so without a guard they reach the
 * operator's own network (SSRF). test/architecture.test.ts keeps every other file from opening
 * a request of its own.
 *
 * What it guarantees:
 * - the address is checked where the connection is made: the socket connects only to an address
 *   this client resolved and checked, once, so a name that answers public for a check and private
 *   for the connection (DNS rebinding) gets nowhere; IP literals are checked as spelled (the URL
 *   parser has already normalised `2130706433` and `0x7f.1` to 127.0.0.1);
 * - loopback, private, link-local, unique-local, CGNAT and the IPv6 forms of them are refused
 *   unless the operator set STOREFLOW_ALLOW_PRIVATE_HTTP=1;
 * - redirects are never followed: refused with an error, or handed back to the caller as they are;
 * - the answer is read up to a size cap, then reading stops and the request fails;
 * - the whole exchange (lookup, connect, answer) ends within a time cap.
 * Every failure is an `OutboundError` naming the limit it hit.
 */

export interface ResolvedAddress {
  address: string
  family: number
}

/** Resolves a host name to every address it has; the default asks the system resolver. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

export interface OutboundPolicy {
  /** let requests reach loopback and private ranges (STOREFLOW_ALLOW_PRIVATE_HTTP=1) */
  allowPrivate: boolean
  /** the operator's ceiling on any one request's time, ms (STOREFLOW_HTTP_TIMEOUT_MS); callers may ask for less */
  maxTimeoutMs?: number
  /** tests inject a resolver so that nothing depends on the host's DNS */
  resolve?: Resolver
}

export interface OutboundRequest {
  /** default GET */
  method?: string
  headers?: Record<string, string>
  body?: string
  /** the whole exchange must end within this, ms (capped by the policy's maxTimeoutMs) */
  timeoutMs: number
  /** fail once the answer is larger than this many bytes */
  maxResponseBytes: number
  /**
   * `refuse`: a 3xx answer fails with RedirectRefusedError. `return`: the 3xx is the answer, its
   * Location is the caller's to read. Neither follows it: a redirect target is another host the
   * tenant chose, and the answer it gave could not be checked before the hop.
   */
  redirects: 'refuse' | 'return'
}

export interface OutboundResponse {
  status: number
  /** header names lower-cased; repeated headers joined with ", " */
  headers: Record<string, string>
  body: string
}

export interface OutboundClient {
  readonly allowPrivate: boolean
  request(url: URL | string, request: OutboundRequest): Promise<OutboundResponse>
}

/** Which guarantee a request ran into. Persisted in step and delivery errors: never rename one. */
export type OutboundLimit = 'scheme' | 'invalid_request' | 'private_address' | 'redirect' | 'response_size' | 'time' | 'network'

export class OutboundError extends StoreflowError {
  constructor(
    message: string,
    readonly limit: OutboundLimit,
    /** trying again later may work (time, network); the others fail the same way each time */
    readonly retryable: boolean,
    readonly host: string,
    options: { code?: ErrorCode; cause?: unknown } = {},
  ) {
    super(message, { code: options.code ?? (retryable ? 'unavailable' : 'bad_request'), cause: options.cause, details: { limit, host } })
  }
}

/** The address is private and private addresses are not allowed. */
export class PrivateAddressError extends OutboundError {
  constructor(host: string, address?: string) {
    const what = address && address !== host ? `${host} resolves to ${address}, a private or loopback address` : `${host} is a private or loopback address`
    super(`${what}; set STOREFLOW_ALLOW_PRIVATE_HTTP=1 to allow it`, 'private_address', false, host, { code: 'forbidden' })
  }
}

export class RedirectRefusedError extends OutboundError {
  constructor(url: URL, status: number, location: string | undefined) {
    const host = url.hostname.replace(/^\[|\]$/g, '')
    super(`${host} answered ${status}, a redirect to ${originOf(location, url)}; redirects are not followed, use the final URL`, 'redirect', false, host)
  }
}

export class ResponseTooLargeError extends OutboundError {
  constructor(host: string, limitBytes: number) {
    super(`the answer from ${host} is larger than the ${limitBytes}-byte limit; reading stopped`, 'response_size', false, host, { code: 'payload_too_large' })
  }
}

export class TimeLimitError extends OutboundError {
  constructor(host: string, limitMs: number, ceiling: boolean) {
    super(`no complete answer from ${host} within the ${limitMs} ms time limit${ceiling ? ' (STOREFLOW_HTTP_TIMEOUT_MS)' : ''}`, 'time', true, host)
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

export function createOutboundClient(policy: OutboundPolicy): OutboundClient {
  const resolve = policy.resolve ?? systemResolver
  // own agents, no keep-alive: a socket is never shared with a client under another policy
  const agents = { http: new http.Agent({ keepAlive: false }), https: new https.Agent({ keepAlive: false }) }
  return {
    allowPrivate: policy.allowPrivate,
    request: (url, request) => send(typeof url === 'string' ? new URL(url) : url, request, policy, resolve, agents),
  }
}

async function systemResolver(hostname: string): Promise<ResolvedAddress[]> {
  return dns.lookup(hostname, { all: true, verbatim: true })
}

function send(
  url: URL,
  req: OutboundRequest,
  policy: OutboundPolicy,
  resolve: Resolver,
  agents: { http: http.Agent; https: https.Agent },
): Promise<OutboundResponse> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new OutboundError(`only http and https URLs may be called, got ${url.protocol}`, 'scheme', false, host))
  }
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host)))) {
    return Promise.reject(new PrivateAddressError(host))
  }
  const ceiling = policy.maxTimeoutMs !== undefined && policy.maxTimeoutMs < req.timeoutMs
  const timeoutMs = ceiling ? policy.maxTimeoutMs! : req.timeoutMs

  // Called by the socket for a host name (never for an IP literal, checked above): the addresses
  // it gets back are the only ones it may connect to, so checking them here is checking the
  // connection. Any private address refuses the name, whichever one the socket would try first.
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found
        const blocked = policy.allowPrivate ? undefined : found.find((a) => isPrivateAddress(a.address))
        if (blocked) return callback(new PrivateAddressError(hostname, blocked.address), '', 0)
        if (options.all) return (callback as unknown as (err: null, addresses: ResolvedAddress[]) => void)(null, wanted)
        const first = wanted[0]
        if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0)
        callback(null, first.address, first.family)
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    )
  }

  return new Promise<OutboundResponse>((resolvePromise, reject) => {
    let settled = false
    let request: http.ClientRequest | undefined
    let timer: NodeJS.Timeout | undefined
    const finish = (err: Error | null, response?: OutboundResponse) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (err) {
        request?.destroy()
        reject(
          err instanceof OutboundError
            ? err
            : new OutboundError(`request to ${host} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, 'network', true, host, { cause: err }),
        )
      } else resolvePromise(response!)
    }
    const options: http.RequestOptions = { method: req.method ?? 'GET', headers: req.headers ?? {}, lookup }
    const onResponse = (response: http.IncomingMessage) => {
      const status = response.statusCode ?? 0
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
      if (req.redirects === 'refuse' && REDIRECTS.has(status)) {
        response.destroy()
        return finish(new RedirectRefusedError(url, status, headers['location']))
      }
      const announced = Number(headers['content-length'])
      if (Number.isFinite(announced) && announced > req.maxResponseBytes) {
        response.destroy()
        return finish(new ResponseTooLargeError(host, req.maxResponseBytes))
      }
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        // stop reading a large or endless answer at once rather than hold it in memory
        if (size > req.maxResponseBytes) {
          response.destroy()
          return finish(new ResponseTooLargeError(host, req.maxResponseBytes))
        }
        chunks.push(chunk)
      })
      response.on('end', () => finish(null, { status, headers, body: Buffer.concat(chunks).toString('utf8') }))
      response.on('error', (err) => finish(err))
      response.on('close', () => {
        if (!response.complete) finish(new Error('the connection closed before the answer was complete'))
      })
    }
    try {
      request =
        url.protocol === 'https:'
          ? https.request(url, { ...options, agent: agents.https }, onResponse)
          : http.request(url, { ...options, agent: agents.http }, onResponse)
    } catch (err) {
      // e.g. a header value with a line break: the request as given cannot be sent, now or later
      return finish(new OutboundError(`the request to ${host} cannot be sent: ${(err as Error).message}`, 'invalid_request', false, host, { cause: err }))
    }
    // the whole exchange, lookup included, not only the idle time between packets
    timer = setTimeout(() => finish(new TimeLimitError(host, timeoutMs, ceiling)), timeoutMs)
    request.on('socket', (socket) => {
      // belt and braces: what the socket reached must be what lookup allowed
      socket.once('connect', () => {
        const remote = socket.remoteAddress
        if (!policy.allowPrivate && remote && isPrivateAddress(remote)) finish(new PrivateAddressError(host, remote))
      })
    })
    request.on('error', (err) => finish(err))
    request.end(req.body)
  })
}

/** scheme://host:port of a Location header: enough to act on, without the path or query it may carry. */
function originOf(location: string | undefined, base: URL): string {
  if (!location) return '(no Location)'
  try {
    return new URL(location, base).origin
  } catch {
    return '(a malformed Location)'
  }
}
