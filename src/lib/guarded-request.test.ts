import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { guardedRequest, PrivateAddressError } from './guarded-request.ts'

describe('guardedRequest', () => {
  let target: Server
  let redirector: Server
  let targetHits = 0
  const base = { method: 'POST', headers: {}, body: '{}', timeoutMs: 2000, maxResponseBytes: 1000 }

  beforeAll(async () => {
    target = createServer((_req, res) => {
      targetHits++
      res.end('secret')
    })
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r))
    const targetPort = (target.address() as AddressInfo).port
    redirector = createServer((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${targetPort}/latest/meta-data` }).end())
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r))
  })
  afterAll(() => {
    target.close()
    redirector.close()
  })

  it('does not follow redirects: the caller sees the 307, the redirect target is never reached', async () => {
    const port = (redirector.address() as AddressInfo).port
    const response = await guardedRequest(new URL(`http://127.0.0.1:${port}/hook`), { ...base, allowPrivate: true })
    expect(response.status).toBe(307)
    expect(targetHits).toBe(0)
  })

  it('refuses loopback, private and localhost targets unless allowed', async () => {
    for (const url of ['http://127.0.0.1:9/', 'http://[::1]:9/', 'http://10.0.0.1/', 'http://localhost:9/', 'http://169.254.169.254/latest', 'http://[::ffff:127.0.0.1]:9/', 'http://[::ffff:a9fe:a9fe]/latest']) {
      await expect(guardedRequest(new URL(url), { ...base, allowPrivate: false })).rejects.toBeInstanceOf(PrivateAddressError)
    }
  })

  it('stops reading an answer at the size cap instead of waiting for the timeout', async () => {
    const endless = createServer((_req, res) => {
      res.writeHead(200)
      const timer = setInterval(() => res.write('x'.repeat(4096)), 5)
      res.on('close', () => clearInterval(timer))
    })
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r))
    const port = (endless.address() as AddressInfo).port
    const response = await guardedRequest(new URL(`http://127.0.0.1:${port}/`), { ...base, timeoutMs: 5000, maxResponseBytes: 10_000, allowPrivate: true })
    expect(response.status).toBe(200)
    expect(response.body.length).toBe(10_000)
    endless.closeAllConnections()
    endless.close()
  })

  it('gives up after the timeout', async () => {
    const slow = createServer(() => undefined)
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r))
    const port = (slow.address() as AddressInfo).port
    await expect(guardedRequest(new URL(`http://127.0.0.1:${port}/`), { ...base, timeoutMs: 200, allowPrivate: true })).rejects.toThrow(/no answer within 200 ms/)
    slow.closeAllConnections()
    slow.close()
  })
})
