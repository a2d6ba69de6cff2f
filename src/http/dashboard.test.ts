import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../main.ts'
import { registerDashboard } from './dashboard.ts'
import { registerErrorHandler } from './errors.ts'

const app = { services: { dashboard: { databaseDialect: () => 'sqlite' } } } as unknown as App

async function serverFor(webDir: string): Promise<FastifyInstance> {
  const server = Fastify()
  registerErrorHandler(server)
  server.get('/api/v1/things', async () => ({ items: [], next_cursor: null }))
  registerDashboard(server, app, webDir)
  await server.ready()
  return server
}

describe('the dashboard route', () => {
  const root = mkdtempSync(join(tmpdir(), 'storeflow-web-'))
  const built = join(root, 'site', 'dist')
  let server: FastifyInstance
  let unbuilt: FastifyInstance

  beforeAll(async () => {
    mkdirSync(join(built, 'assets'), { recursive: true })
    writeFileSync(join(built, 'index.html'), '<!doctype html><title>the app</title><script type="module" src="/assets/app-1.js"></script>')
    writeFileSync(join(built, 'assets', 'app-1.js'), 'console.log("app")')
    writeFileSync(join(root, 'site', 'secret.txt'), 'not for the web')
    server = await serverFor(built)
    unbuilt = await serverFor(join(root, 'nothing-here'))
  })
  afterAll(async () => {
    await server.close()
    await unbuilt.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('answers the built page at / and at every path of the app, with its security headers', async () => {
    for (const url of ['/', '/workflows', '/runs/run_1?status=failed', '/messages']) {
      const res = await server.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(200)
      expect(res.body, url).toContain('<title>the app</title>')
      expect(res.headers['content-security-policy'], url).toMatch(/script-src 'self'(;|$)/)
      expect(res.headers['x-frame-options'], url).toBe('DENY')
      expect(res.headers['referrer-policy'], url).toBe('no-referrer')
    }
  })

  it('serves the built files under /assets/ for a year, and nothing beside them', async () => {
    const js = await server.inject({ method: 'GET', url: '/assets/app-1.js' })
    expect(js.statusCode).toBe(200)
    expect(js.body).toBe('console.log("app")')
    expect(js.headers['content-type']).toMatch(/^text\/javascript/)
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    // the file beside the build is never served, however the path is written
    for (const url of [
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/../../secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    ]) {
      const res = await server.inject({ method: 'GET', url })
      expect(res.body, url).not.toContain('not for the web')
    }
    // those that reach the route as a path under /assets/ (an encoded slash is not a separator) are a 404
    for (const url of [
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/..%2findex.html',
      '/assets/missing.js',
      '/assets',
      '/assets/',
    ]) {
      const res = await server.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(404)
      expect(res.json().error.code, url).toBe('not_found')
    }
  })

  it("leaves the API's and the probes' paths to their 404 in the API's shape", async () => {
    expect((await server.inject({ method: 'GET', url: '/api/v1/things' })).json()).toEqual({ items: [], next_cursor: null })
    for (const url of ['/api/v1/nothing', '/api', '/metrics/x', '/t/c/x/y', '/webhooks/none/x']) {
      const res = await server.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(404)
      expect(res.json().error.code, url).toBe('not_found')
    }
  })

  it('without a build, / says how to make one instead of failing', async () => {
    for (const url of ['/', '/workflows']) {
      const res = await unbuilt.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(200)
      expect(res.body, url).toContain('npm run build:web')
      expect(res.body, url).toContain('sqlite')
    }
  })
})
