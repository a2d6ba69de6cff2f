import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestEnv, DIALECTS, type TestEnv } from '../../../test/helpers/dialects.ts'
import { event } from '../../../test/helpers/workflows.ts'
import { buildServer } from '../../http/server.ts'
import { createKey, createStore } from '../../store/stores.repo.ts'

/**
 * A Buffer v1 stand-in: POST /1/updates/create.json (form: access_token, text, profile_ids[],
 * media[link], media[photo], media[thumbnail]) answers `{ success, updates: [{ id, profile_id,
 * text, status }] }`; GET /1/profiles/{id}/updates/{pending,sent}.json lists them; a bad token is
 * 401 `{ error, code }`. `answers` forces the next create answers; `takeThenFail` queues the post and answers 503.
 */
async function startBuffer(tokens: string[]) {
  const creates: Array<{ token: string | null; form: Array<[string, string]> }> = []
  const queued: Array<{ id: string; profile_id: string; text: string; token: string }> = []
  const lists: string[] = []
  const answers: Array<{ status: number; headers?: Record<string, string>; body: unknown }> = []
  const state = { takeThenFail: 0 }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      const token = req.method === 'GET' ? url.searchParams.get('access_token') : form.get('access_token')
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
      if (!token || !tokens.includes(token)) return send(401, { error: 'OAuth token is invalid', code: 401 })
      const listed = /^\/1\/profiles\/([^/]+)\/updates\/(pending|sent)\.json$/.exec(url.pathname)
      if (req.method === 'GET' && listed) {
        lists.push(url.pathname)
        const updates = listed[2] === 'pending' ? queued.filter((u) => u.profile_id === listed[1] && u.token === token) : []
        return send(200, { total: updates.length, updates })
      }
      if (req.method === 'POST' && url.pathname === '/1/updates/create.json') {
        creates.push({ token, form: [...form.entries()] })
        const forced = answers.shift()
        if (forced) return send(forced.status, forced.body, forced.headers)
        const profiles = form.getAll('profile_ids[]')
        const text = form.get('text') ?? ''
        if (profiles.length === 0 || !text) return send(400, { success: false, code: 1004, message: 'Please select at least one account to post from.' })
        const updates = profiles.map((p) => {
          const u = { id: `upd_${queued.length + 1}`, profile_id: p, text, token }
          queued.push(u)
          return { ...u, status: 'buffer' }
        })
        if (state.takeThenFail > 0) {
          state.takeThenFail--
          return send(503, { success: false, message: 'Service unavailable' })
        }
        return send(200, { success: true, buffer_count: updates.length, updates })
      }
      send(404, { success: false, message: 'Not found', code: 404 })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, creates, queued, lists, answers, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const ANNOUNCE = `
id: announce
name: Announce new products
trigger: { event: product.updated }
steps:
  - action: post_social
    id: post
    with: { announce: new }
`

describe.each(DIALECTS)('post_social through Buffer on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let buffer: Awaited<ReturnType<typeof startBuffer>>
  const admin: Record<string, string> = {}
  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    server = await buildServer(env.app)
    buffer = await startBuffer(['buf_a', 'buf_b'])
    await createStore(env.app.handle.db, { id: 'b' }, env.clock.now())
    for (const store of ['default', 'b']) admin[store] = (await createKey(env.app.handle.db, store, 'admin', env.clock.now())).key
  })
  afterEach(async () => {
    await server.close()
    await buffer.close()
    await env.cleanup()
  })
  const as = (store: string) => ({ authorization: `Bearer ${admin[store]}` })
  let seq = 0
  const setUp = async (store: string, token: string, profiles: string[]) => {
    const put = await server.inject({
      method: 'PUT',
      url: '/api/v1/integrations/buffer',
      headers: as(store),
      payload: { api_url: buffer.url, credentials: { access_token: token }, config: { profile_ids: profiles } },
    })
    expect(put.statusCode, put.body).toBe(200)
    const wf = await server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { ...as(store), 'content-type': 'application/yaml' },
      payload: ANNOUNCE,
    })
    expect(wf.statusCode, wf.body).toBe(201)
    await server.inject({ method: 'POST', url: `/api/v1/workflows/${wf.json().id}/activate`, headers: as(store) })
  }
  const product = async (store: string, title: string) => {
    const data = {
      id: 'p1',
      title,
      status: 'active',
      url: `https://${store}.shop.example/products/mug`,
      image: { src: `https://cdn.example/${store}/mug.jpg` },
      variants: [{ id: 'v1', sku: 'MUG', price: '12.00' }],
    }
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: as(store),
      payload: { ...event('product.updated', `p-${++seq}`, data, env.clock.now().toISOString()), store },
    })
    expect(res.statusCode, res.body).toBe(202)
    await env.app.engine.settle()
    await env.app.engine.drain()
  }
  const step = async (store: string) =>
    env.app.handle.db
      .selectFrom('run_steps')
      .select(['status', 'output', 'error', 'attempts', 'wake_at'])
      .where('store_id', '=', store)
      .where('step_id', '=', 'post')
      .orderBy('started_at')
      .execute()

  it("posts the product with its image and link to the store's profiles, with the store's own token", async () => {
    await setUp('default', 'buf_a', ['prof_a1', 'prof_a2'])
    await setUp('b', 'buf_b', ['prof_b'])
    await product('default', 'Blue Mug')
    await product('b', 'Store B Teapot')
    expect(buffer.creates).toHaveLength(2)
    expect(buffer.creates[0]).toEqual({
      token: 'buf_a',
      form: [
        ['access_token', 'buf_a'],
        ['text', 'New: Blue Mug'],
        ['shorten', 'false'],
        ['profile_ids[]', 'prof_a1'],
        ['profile_ids[]', 'prof_a2'],
        ['media[link]', 'https://default.shop.example/products/mug'],
        ['media[photo]', 'https://cdn.example/default/mug.jpg'],
        ['media[thumbnail]', 'https://cdn.example/default/mug.jpg'],
      ],
    })
    expect(buffer.creates[1]!.token).toBe('buf_b')
    expect(buffer.creates[1]!.form).toContainEqual(['profile_ids[]', 'prof_b'])
    const [a] = await step('default')
    expect(a).toMatchObject({ status: 'completed' })
    expect(JSON.parse(a!.output!)).toEqual({ update_ids: ['upd_1', 'upd_2'], profiles: 2 })
  })

  it('401 fails for good; 429 waits for Retry-After; a post Buffer took before failing is found, not posted twice', async () => {
    await setUp('default', 'buf_revoked', ['prof_a1'])
    await product('default', 'Blue Mug')
    const [refused] = await step('default')
    expect(refused).toMatchObject({ status: 'failed', attempts: 1 })
    expect(refused!.error).toContain('refused the credentials (401: OAuth token is invalid (code 401))')

    const put = await server.inject({
      method: 'PUT',
      url: '/api/v1/integrations/buffer',
      headers: as('default'),
      payload: { api_url: buffer.url, credentials: { access_token: 'buf_a' }, config: { profile_ids: ['prof_a1'] } },
    })
    expect(put.statusCode).toBe(200)
    buffer.answers.push({ status: 429, headers: { 'retry-after': '60' }, body: { success: false, message: 'Too many requests', code: 429 } })
    buffer.state.takeThenFail = 1
    await product('default', 'Green Mug')
    let current = (await step('default'))[1]!
    expect(current).toMatchObject({ status: 'retrying', attempts: 1 })
    expect(new Date(current.wake_at!).getTime() - env.clock.now().getTime()).toBe(60_000)
    env.clock.set(new Date(current.wake_at!))
    await env.app.engine.drain()
    current = (await step('default'))[1]!
    expect(current).toMatchObject({ status: 'retrying', attempts: 2 })
    expect(current.error).toContain('503')
    expect(buffer.queued.filter((u) => u.token === 'buf_a')).toHaveLength(1)
    env.clock.set(new Date(current.wake_at!))
    await env.app.engine.drain()
    current = (await step('default'))[1]!
    expect(current.status).toBe('completed')
    expect(JSON.parse(current.output!)).toEqual({ update_ids: ['upd_1'], profiles: 1 })
    expect(buffer.queued.filter((u) => u.token === 'buf_a')).toHaveLength(1)
    // each retry looked first: after the 429 (nothing there), after the 503 (found in the queue)
    expect(buffer.lists).toEqual([
      '/1/profiles/prof_a1/updates/pending.json',
      '/1/profiles/prof_a1/updates/sent.json',
      '/1/profiles/prof_a1/updates/pending.json',
    ])
  })
})
