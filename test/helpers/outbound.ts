import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { LightMyRequestResponse as InjectResponse } from 'fastify'
import type { ResolvedAddress, Resolver } from '../../src/lib/guarded-request.ts'
import { buildServer } from '../../src/http/server.ts'
import { createKey } from '../../src/store/stores.repo.ts'
import type { TestEnv } from './dialects.ts'

/**
 * Support for tests of outbound requests: a resolver that answers from a table (no test may
 * depend on the host's DNS), and local HTTP servers that record every request they get, so a
 * test counts hits outside the product.
 */

export interface FakeResolver extends Resolver {
  /** every name asked for, in order */
  calls: string[]
}

/**
 * Answers each name from `table`: a list of addresses, or a function of how many times the name
 * was asked before (to answer differently on a second lookup, as a DNS-rebinding server does).
 * Unknown names fail like a real lookup does (ENOTFOUND).
 */
export function fakeResolver(table: Record<string, string[] | ((previousCalls: number) => string[])>): FakeResolver {
  const calls: string[] = []
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    const previous = calls.filter((c) => c === hostname).length
    calls.push(hostname)
    const entry = table[hostname]
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname })
    const addresses = typeof entry === 'function' ? entry(previous) : entry
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return Object.assign(resolve, { calls })
}

export interface Hit {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
}

export interface Recorder {
  port: number
  /** http://127.0.0.1:PORT */
  url: string
  hits: Hit[]
  close(): Promise<void>
}

/**
 * A local HTTP server that records each request (after reading its body) and then lets
 * `respond` answer it; by default 200 `{"ok":true}`.
 */
export async function startRecorder(respond?: (res: ServerResponse, hit: Hit) => void): Promise<Recorder> {
  const hits: Hit[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const hit = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      hits.push(hit)
      if (respond) respond(res, hit)
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export interface ApiClient {
  server: FastifyInstance
  call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>): Promise<InjectResponse>
}

/** The HTTP API of a test app, called with an admin key of the default store. */
export async function apiClient(env: TestEnv): Promise<ApiClient> {
  const server = await buildServer(env.app)
  const admin = (await createKey(env.app.handle.db, 'default', 'admin', env.clock.now())).key
  return {
    server,
    call: (method, url, payload, headers = {}) =>
      server.inject({
        method,
        url,
        headers: { authorization: `Bearer ${admin}`, ...headers },
        ...(payload === undefined ? {} : { payload: payload as string | object }),
      }),
  }
}
