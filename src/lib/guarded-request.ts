import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { isPrivateAddress } from './private-address.ts'

export interface GuardedRequest {
  method: string
  headers: Record<string, string>
  body: string | undefined
  timeoutMs: number
  /** let the request reach loopback and private ranges (STOREFLOW_ALLOW_PRIVATE_HTTP=1) */
  allowPrivate: boolean
  /** stop reading the answer after this many bytes */
  maxResponseBytes: number
}

export interface GuardedResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** The address is private and private addresses are not allowed. */
export class PrivateAddressError extends Error {
  constructor(readonly host: string) {
    super(`${host} is a private or loopback address`)
    this.name = 'PrivateAddressError'
  }
}

/**
 * An HTTP(S) request whose connection is checked where it is made: the socket connects only to
 * an address that passed the private-range check, so a name that resolves to a public address
 * for the check and a private one for the connection (DNS rebinding) gets nowhere, and a failed
 * lookup fails the request rather than skipping the check.
 */
export function guardedRequest(url: URL, options: GuardedRequest): Promise<GuardedResponse> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!options.allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) && isPrivateAddress(host)))) {
    return Promise.reject(new PrivateAddressError(host))
  }
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0)
      const list = addresses as unknown as LookupAddress[]
      if (!options.allowPrivate && list.some((a) => isPrivateAddress(a.address))) return callback(new PrivateAddressError(hostname), '', 0)
      if (lookupOptions.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list)
      const first = list[0]
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0)
      callback(null, first.address, first.family)
    })
  }
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const request = client.request(url, { method: options.method, headers: options.headers, lookup, timeout: options.timeoutMs }, (response) => {
      const chunks: Buffer[] = []
      let size = 0
      const done = () => {
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
        resolve({ status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks).subarray(0, options.maxResponseBytes).toString('utf8') })
      }
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        size += chunk.length
        // enough: stop reading a large or endless answer rather than wait for the timeout
        if (size >= options.maxResponseBytes) {
          done()
          response.destroy()
          request.destroy()
        }
      })
      response.on('end', done)
      response.on('error', reject)
    })
    // the whole exchange, not only the connection, must end within the timeout
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs)
    request.on('close', () => clearTimeout(timer))
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    request.on('error', reject)
    request.end(options.body)
  })
}
