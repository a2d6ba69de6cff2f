import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fakeResolver, startRecorder, type Recorder } from '../../test/helpers/outbound.ts'
import {
  createOutboundClient,
  OutboundError,
  PrivateAddressError,
  RedirectRefusedError,
  ResponseTooLargeError,
  TimeLimitError,
  type OutboundRequest,
} from './guarded-request.ts'

/**
 * The one client storeflow uses for requests on a tenant's behalf. Every name is resolved by an
 * injected resolver: nothing here depends on the host's DNS, and nothing is skipped.
 */

const GET: OutboundRequest = { method: 'GET', timeoutMs: 2000, maxResponseBytes: 1000, redirects: 'refuse' }

let target: Recorder
beforeAll(async () => {
  target = await startRecorder((res) => res.writeHead(200).end('internal secret'))
})
afterAll(() => target.close())
beforeEach(() => {
  target.hits.length = 0
})

describe('the address is checked where the connection is made', () => {
  it('refuses loopback, private, link-local, mapped and localhost targets unless allowed, and reaches none of them', async () => {
    const client = createOutboundClient({ allowPrivate: false, resolve: fakeResolver({ localhost: ['127.0.0.1'] }) })
    for (const url of [
      `${target.url}/`,
      `http://[::1]:${target.port}/`,
      'http://10.0.0.1/',
      `http://localhost:${target.port}/`,
      'http://169.254.169.254/latest/meta-data',
      `http://[::ffff:127.0.0.1]:${target.port}/`,
      'http://[::ffff:a9fe:a9fe]/latest',
      'http://100.64.0.1/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      // other spellings of 127.0.0.1 the URL parser normalises
      `http://2130706433:${target.port}/`,
      `http://0x7f.1:${target.port}/`,
    ]) {
      const err = await client.request(url, GET).catch((e: unknown) => e)
      expect(err, url).toBeInstanceOf(PrivateAddressError)
      expect(err).toMatchObject({ limit: 'private_address', retryable: false })
    }
    expect(target.hits).toHaveLength(0)
  })

  it('a public-looking name that resolves to a loopback address is refused after lookup; allowed, the same name reaches the server', async () => {
    const resolve = fakeResolver({ 'hooks.example.com': ['127.0.0.1'] })
    const err = await createOutboundClient({ allowPrivate: false, resolve })
      .request(`http://hooks.example.com:${target.port}/`, GET)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PrivateAddressError)
    expect((err as Error).message).toMatch(/hooks\.example\.com resolves to 127\.0\.0\.1, a private or loopback address; set STOREFLOW_ALLOW_PRIVATE_HTTP=1/)
    expect(target.hits).toHaveLength(0)
    expect(resolve.calls).toEqual(['hooks.example.com'])

    const allowed = await createOutboundClient({ allowPrivate: true, resolve }).request(`http://hooks.example.com:${target.port}/`, GET)
    expect(allowed).toMatchObject({ status: 200, body: 'internal secret' })
    expect(target.hits).toHaveLength(1)
  })

  it('a name with a public and a private address is refused: whichever one the socket would pick is checked', async () => {
    const resolve = fakeResolver({ 'mixed.example.com': ['203.0.113.7', '127.0.0.1'], 'mapped.example.com': ['::ffff:127.0.0.1'] })
    const client = createOutboundClient({ allowPrivate: false, resolve })
    await expect(client.request(`http://mixed.example.com:${target.port}/`, GET)).rejects.toBeInstanceOf(PrivateAddressError)
    await expect(client.request(`http://mapped.example.com:${target.port}/`, GET)).rejects.toBeInstanceOf(PrivateAddressError)
    expect(target.hits).toHaveLength(0)
  })

  it('DNS rebinding: a name that answers public for a first lookup and loopback after it never reaches the loopback server', async () => {
    // A check-then-connect client resolves twice (check: public, connect: loopback) and lands on
    // the local server. The guarded client resolves once and connects to the address it checked
    // (203.0.113.9, a documentation address that goes nowhere), so it fails and the server sees nothing.
    const resolve = fakeResolver({ 'rebind.example.com': (previous) => (previous === 0 ? ['203.0.113.9'] : ['127.0.0.1']) })
    const client = createOutboundClient({ allowPrivate: false, resolve })
    const err = await client.request(`http://rebind.example.com:${target.port}/`, { ...GET, timeoutMs: 300 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OutboundError)
    expect(target.hits).toHaveLength(0)
    expect(resolve.calls).toEqual(['rebind.example.com'])
  })

  it('a name that does not resolve fails the request (retryable) instead of skipping the check', async () => {
    const client = createOutboundClient({ allowPrivate: false, resolve: fakeResolver({}) })
    const err = await client.request('http://no-such-host.example.com/', GET).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OutboundError)
    expect(err).toMatchObject({ limit: 'network', retryable: true })
    expect((err as Error).message).toContain('ENOTFOUND')
  })

  it('a request that cannot be sent as given (a header with a line break) fails for good, before connecting', async () => {
    const client = createOutboundClient({ allowPrivate: true })
    const err = await client.request(`${target.url}/`, { ...GET, headers: { 'x-injected': 'a\r\nhost: evil' } }).catch((e: unknown) => e)
    expect(err).toMatchObject({ limit: 'invalid_request', retryable: false })
    expect(target.hits).toHaveLength(0)
  })

  it('only http and https', async () => {
    const client = createOutboundClient({ allowPrivate: true })
    for (const url of ['file:///etc/passwd', 'ftp://example.com/', 'gopher://127.0.0.1:25/']) {
      await expect(client.request(url, GET)).rejects.toMatchObject({ limit: 'scheme', retryable: false })
    }
  })
})

describe('redirects', () => {
  let redirector: Recorder
  beforeAll(async () => {
    redirector = await startRecorder((res) => res.writeHead(307, { location: `${target.url}/latest/meta-data?token=abc` }).end())
  })
  afterAll(() => redirector.close())

  it("refused: the caller gets a typed error naming the redirect's origin (never its path), the target is never reached", async () => {
    const client = createOutboundClient({ allowPrivate: true })
    const err = await client.request(`${redirector.url}/hook`, GET).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RedirectRefusedError)
    expect(err).toMatchObject({ limit: 'redirect', retryable: false })
    expect((err as Error).message).toContain(`307, a redirect to ${target.url}`)
    expect((err as Error).message).not.toContain('token=abc')
    expect(redirector.hits).toHaveLength(1)
    expect(target.hits).toHaveLength(0)
  })

  it('returned: the caller sees the 307 and its Location; the target is still never reached', async () => {
    const client = createOutboundClient({ allowPrivate: true })
    const response = await client.request(`${redirector.url}/hook`, { ...GET, redirects: 'return' })
    expect(response.status).toBe(307)
    expect(response.headers['location']).toBe(`${target.url}/latest/meta-data?token=abc`)
    expect(target.hits).toHaveLength(0)
  })
})

describe('size and time caps', () => {
  const servers: Recorder[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()))
  })
  const start = async (respond: Parameters<typeof startRecorder>[0]) => {
    const s = await startRecorder(respond)
    servers.push(s)
    return s
  }

  it('an endless answer is cut off at the size cap: reading stops and the request fails naming the limit', async () => {
    let written = 0
    let closed = false
    const endless = await start((res) => {
      res.writeHead(200)
      const pump = () => {
        while (!closed && res.write('x'.repeat(64 * 1024))) written += 64 * 1024
      }
      res.on('drain', pump)
      res.on('close', () => {
        closed = true
      })
      pump()
    })
    const client = createOutboundClient({ allowPrivate: true })
    const err = await client.request(`${endless.url}/`, { ...GET, timeoutMs: 30_000, maxResponseBytes: 100_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ResponseTooLargeError)
    expect(err).toMatchObject({ limit: 'response_size', retryable: false })
    expect((err as Error).message).toContain('100000-byte limit')
    await expect.poll(() => closed).toBe(true)
    // the client hung up: the server did not get to pour out more than the socket buffers hold
    expect(written).toBeLessThan(50 * 1024 * 1024)
  })

  it('an announced Content-Length over the cap fails before the body is read', async () => {
    const big = await start((res) => res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) }).end())
    const client = createOutboundClient({ allowPrivate: true })
    await expect(client.request(`${big.url}/`, GET)).rejects.toBeInstanceOf(ResponseTooLargeError)
  })

  it('an answer within the cap is read whole', async () => {
    const small = await start((res) => res.writeHead(200, { 'x-answer': 'yes' }).end('y'.repeat(1000)))
    const response = await createOutboundClient({ allowPrivate: true }).request(`${small.url}/`, GET)
    expect(response).toMatchObject({ status: 200, headers: { 'x-answer': 'yes' }, body: 'y'.repeat(1000) })
  })

  it('a server that never finishes its answer hits the time cap', async () => {
    const slow = await start((res) => {
      res.writeHead(200)
      res.write('{"partial":')
    })
    const err = await createOutboundClient({ allowPrivate: true })
      .request(`${slow.url}/`, { ...GET, timeoutMs: 200 })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeLimitError)
    expect(err).toMatchObject({ limit: 'time', retryable: true })
    expect((err as Error).message).toContain('200 ms time limit')
  })

  it("the operator's ceiling caps a caller asking for longer", async () => {
    const silent = await start(() => undefined)
    const client = createOutboundClient({ allowPrivate: true, maxTimeoutMs: 150 })
    const err = await client.request(`${silent.url}/`, { ...GET, timeoutMs: 60_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeLimitError)
    expect((err as Error).message).toContain('150 ms time limit (STOREFLOW_HTTP_TIMEOUT_MS)')
  })
})
