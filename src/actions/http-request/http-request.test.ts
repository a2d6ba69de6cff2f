import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestEnv, type TestEnv } from '../../../test/helpers/dialects.ts'
import { installWorkflow } from '../../../test/helpers/workflows.ts'
import { parseEvent } from '../../contracts/events.ts'
import { retryRun } from '../../engine/run-lifecycle.ts'
import { fakeResolver, startRecorder, type Recorder } from '../../../test/helpers/outbound.ts'
import { isPrivateAddress } from '../../lib/private-address.ts'
import { retryAfterMs } from './http-request.action.ts'

interface Hit {
  headers: IncomingMessage['headers']
  body: string
}

describe('http_request through the engine', () => {
  let server: Server
  let port: number
  const hits: Hit[] = []
  let answers: Array<{ status: number; headers?: Record<string, string>; body?: string }> = []
  let env: TestEnv | null = null

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        hits.push({ headers: req.headers, body })
        const answer = answers.shift() ?? { status: 200, body: '{"ok":true}' }
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '{}')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => server.close())
  afterEach(async () => {
    hits.length = 0
    answers = []
    await env?.cleanup()
    env = null
  })

  const workflow = (extra = '') => `
id: hook
name: Hook
trigger: { event: order.paid }
steps:
  - action: http_request
    id: call
    with:
      url: 'http://127.0.0.1:PORT/orders'
      body: { order: '{{ order.number }}', total: '{{ order.total_price }}' }
${extra}`

  const start = async (allowPrivate: boolean, extra = '') => {
    env = await createTestEnv('sqlite', { env: allowPrivate ? { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } : {} })
    await installWorkflow(env.app, workflow(extra).replace('PORT', String(port)))
    const parsed = parseEvent(
      { id: 'p1', type: 'order.paid', data: { id: 'o1', number: '#1001', currency: 'USD', total_price: '12.50', customer: { id: 'c1' } } },
      { store: 'default', now: env.clock.now() },
    )
    if (!parsed.ok) throw new Error('fixture')
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
    return env
  }
  const stepOf = async (e: TestEnv) => e.app.handle.db.selectFrom('run_steps').selectAll().where('step_id', '=', 'call').executeTakeFirstOrThrow()
  const runOf = async (e: TestEnv) => e.app.handle.db.selectFrom('runs').selectAll().executeTakeFirstOrThrow()

  it('sends the rendered JSON body with an Idempotency-Key and records the response', async () => {
    const e = await start(true)
    expect(hits).toHaveLength(1)
    expect(JSON.parse(hits[0]!.body)).toEqual({ order: '#1001', total: 12.5 })
    const run = await runOf(e)
    expect(hits[0]!.headers['idempotency-key']).toBe(`${run.id}:call`)
    expect(run.status).toBe('completed')
    expect(JSON.parse((await stepOf(e)).output!)).toMatchObject({ status: 200, body: { ok: true } })
  })

  it('retries 503 honouring Retry-After, with the same Idempotency-Key, then succeeds', async () => {
    answers = [
      { status: 503, headers: { 'retry-after': '120' } },
      { status: 429, headers: { 'retry-after': '30' } },
    ]
    const e = await start(true)
    expect(hits).toHaveLength(1)
    let run = await runOf(e)
    expect(run.status).toBe('running')
    expect(run.due_at).toBe(new Date(e.clock.now().getTime() + 120_000).toISOString())
    let step = await stepOf(e)
    expect([step.status, step.attempts, step.error]).toEqual(['retrying', 1, `127.0.0.1:${port} answered 503`])

    e.clock.advance(119_000)
    await e.app.engine.drain()
    expect(hits).toHaveLength(1) // not before Retry-After
    e.clock.advance(1_000)
    await e.app.engine.drain()
    expect(hits).toHaveLength(2)
    e.clock.advance(30_000)
    await e.app.engine.drain()
    expect(hits).toHaveLength(3)
    run = await runOf(e)
    step = await stepOf(e)
    expect([run.status, step.status, step.attempts]).toEqual(['completed', 'completed', 3])
    expect(new Set(hits.map((h) => h.headers['idempotency-key'])).size).toBe(1)
  })

  it('a 4xx other than 429 fails the step at once with the answer', async () => {
    answers = [{ status: 422, body: '{"error":"bad order"}' }]
    const e = await start(true)
    const step = await stepOf(e)
    expect(step.status).toBe('failed')
    expect(step.error).toContain('422')
    expect(step.error).toContain('bad order')
    expect((await runOf(e)).status).toBe('failed')
  })

  it('a failed run retried from the API continues from the failed step', async () => {
    answers = [{ status: 422, body: '{"error":"not yet"}' }]
    const e = await start(true)
    const failed = await runOf(e)
    expect(failed.status).toBe('failed')
    await retryRun(e.app.engine.storage, e.clock, e.app.engine.cache, 'default', failed.id)
    await e.app.engine.drain()
    const run = await runOf(e)
    const step = await stepOf(e)
    expect([run.status, step.status]).toEqual(['completed', 'completed'])
    expect(hits).toHaveLength(2)
    await expect(retryRun(e.app.engine.storage, e.clock, e.app.engine.cache, 'default', failed.id)).rejects.toThrow(/only failed runs can be retried/)
  })

  it('a retried run listens to its exit goals again', async () => {
    answers = [{ status: 422 }]
    env = await createTestEnv('sqlite', { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    const e = env
    await installWorkflow(
      e.app,
      `
id: hook
name: Hook
trigger: { event: order.paid }
exit_when:
  - event: order.cancelled
    match: 'event.data.id == trigger.data.id'
steps:
  - action: http_request
    id: call
    with: { url: 'http://127.0.0.1:${port}/orders' }
  - wait: 1h
  - action: tag_customer
    with: { tags: [kept] }
`,
    )
    const send = async (raw: unknown) => {
      const parsed = parseEvent(raw, { store: 'default', now: e.clock.now() })
      if (!parsed.ok) throw new Error('fixture')
      await e.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
      await e.app.engine.drain()
    }
    await send({ id: 'p1', type: 'order.paid', data: { id: 'o1', currency: 'USD', total_price: 5, customer: { id: 'c1' } } })
    const failed = await runOf(e)
    expect(failed.status).toBe('failed')
    await retryRun(e.app.engine.storage, e.clock, e.app.engine.cache, 'default', failed.id)
    await e.app.engine.drain()
    expect((await runOf(e)).status).toBe('waiting')
    await send({ id: 'x1', type: 'order.cancelled', data: { id: 'o1', currency: 'USD', total_price: 5, customer: { id: 'c1' } } })
    expect((await runOf(e)).status).toBe('exited')
  })

  it('refuses loopback addresses unless STOREFLOW_ALLOW_PRIVATE_HTTP=1', async () => {
    const e = await start(false)
    expect(hits).toHaveLength(0)
    const step = await stepOf(e)
    expect(step.status).toBe('failed')
    expect(step.error).toMatch(/private or loopback address; set STOREFLOW_ALLOW_PRIVATE_HTTP=1/)
  })

  it('signs the body with HMAC-SHA256 when a secret is set', async () => {
    await start(true, "      secret: 'whsec-test'")
    const body = hits[0]!.body
    expect(hits[0]!.headers['x-storeflow-signature']).toBe(`sha256=${createHmac('sha256', 'whsec-test').update(body).digest('hex')}`)
  })
})

describe('http_request goes through the guarded client', () => {
  // The app's resolver is injected: nothing depends on the host's DNS, nothing is skipped.
  const resolveHost = fakeResolver({ 'hooks.example.com': ['127.0.0.1'] })
  let receiver: Recorder
  let env: TestEnv | null = null
  beforeAll(async () => {
    receiver = await startRecorder()
  })
  afterAll(() => receiver.close())
  afterEach(async () => {
    receiver.hits.length = 0
    await env?.cleanup()
    env = null
  })

  const run = async (allowPrivate: boolean) => {
    env = await createTestEnv('sqlite', { env: allowPrivate ? { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } : {}, resolveHost })
    await installWorkflow(
      env.app,
      `
id: hook
name: Hook
trigger: { event: order.paid }
steps:
  - action: http_request
    id: call
    with:
      url: 'http://hooks.example.com:${receiver.port}/orders'
      body: { order: '{{ order.number }}' }
`,
    )
    const parsed = parseEvent(
      { id: 'p1', type: 'order.paid', data: { id: 'o1', number: '#1001', currency: 'USD', total_price: '12.50', customer: { id: 'c1' } } },
      { store: 'default', now: env.clock.now() },
    )
    if (!parsed.ok) throw new Error('fixture')
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
    return env.app.handle.db.selectFrom('run_steps').selectAll().where('step_id', '=', 'call').executeTakeFirstOrThrow()
  }

  it('a public-looking name that resolves to 127.0.0.1 is refused at connect time: no request arrives, the step fails for good', async () => {
    const step = await run(false)
    expect(receiver.hits).toHaveLength(0)
    expect(step.status).toBe('failed')
    expect(step.error).toMatch(/hooks\.example\.com resolves to 127\.0\.0\.1, a private or loopback address; set STOREFLOW_ALLOW_PRIVATE_HTTP=1/)
  })

  it('allowed by the operator, the same name reaches the receiver through the same resolver', async () => {
    const step = await run(true)
    expect(receiver.hits).toHaveLength(1)
    expect(step.status).toBe('completed')
  })
})

describe('private addresses and Retry-After', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['2001:4860::8888', false],
    // IPv6 spellings of private IPv4 addresses, and the whole link-local range
    ['::ffff:7f00:1', true],
    ['::ffff:a9fe:a9fe', true],
    ['::127.0.0.1', true],
    ['64:ff9b::7f00:1', true],
    ['2002:7f00:1::', true],
    ['feb0::1', true],
    ['::ffff:808:808', false],
    ['64:ff9b::808:808', false],
    ['224.0.0.1', true],
    ['100.64.1.1', true],
  ])('%s private: %s', (address, expected) => expect(isPrivateAddress(address)).toBe(expected))

  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('120')).toBe(120_000)
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000)
    expect(retryAfterMs('soon')).toBeUndefined()
  })
})
