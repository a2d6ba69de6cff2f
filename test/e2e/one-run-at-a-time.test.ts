import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseEvent, type CanonicalEvent } from '../../src/contracts/events.ts'
import { retryRun } from '../../src/engine/run-lifecycle.ts'
import { Worker } from '../../src/engine/worker.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * Two runs of one workflow for one customer never act at once: with two workers (each routing
 * and claiming), one customer's orders arrive in bursts, some while the customer's run is still
 * under way. A workflow that does not say `reentry: { concurrent: true }` starts no second run
 * while one is active, so the calls its runs make reach the receiver one after another, never
 * overlapping. Counted at the receiver, which holds each call a little while.
 */
const BURSTS = 8
const PER_BURST = 5

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(DIALECTS)('one run at a time per workflow and customer on %s', { timeout: 180_000 }, (dialect) => {
  let env: TestEnv
  let hook: Server
  let url: string
  const calls: Array<{ key: string; start: number; end: number }> = []
  const workers: Worker[] = []

  beforeAll(async () => {
    hook = createServer((req, res) => {
      const call = { key: String(req.headers['idempotency-key']), start: performance.now(), end: Number.POSITIVE_INFINITY }
      calls.push(call)
      req.resume()
      // an order "refused" is refused for good (a 400 fails its run)
      const refused = req.url?.endsWith('/refused') ?? false
      setTimeout(() => {
        call.end = performance.now()
        res.writeHead(refused ? 400 : 200, { 'content-type': 'application/json' }).end(refused ? '{"error":"no"}' : '{"ok":true}')
      }, 30)
    })
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => hook.close(resolve))
  })
  beforeEach(async () => {
    calls.length = 0
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
  })
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop()
    await env.cleanup()
  })

  it("a customer's second order while their run is under way starts nothing; the runs' calls never overlap", async () => {
    await installWorkflow(
      env.app,
      `
id: ping
name: Ping
trigger: { event: order.paid }
steps:
  - action: http_request
    id: first
    with: { url: '${url}/first', method: POST, body: { order: '{{ order.id }}' } }
  - action: http_request
    id: second
    with: { url: '${url}/second', method: POST, body: { order: '{{ order.id }}' } }
`,
    )
    for (let i = 0; i < 2; i++) {
      const worker = new Worker(env.app.engine, silentLogger, { concurrency: 8, pollMs: 10, routePollMs: 2 })
      workers.push(worker)
      worker.start()
    }
    const order = (i: number): CanonicalEvent => {
      const parsed = parseEvent(
        { id: `paid-${i}`, type: 'order.paid', data: { id: `o${i}`, currency: 'USD', total_price: '10.00', customer: { id: 'c1', email: 'c1@example.com' } } },
        { store: 'default', now: env.clock.now() },
      )
      if (!parsed.ok) throw new Error('bad fixture')
      return parsed.event
    }
    for (let burst = 0; burst < BURSTS; burst++) {
      // a burst's orders at once, from several clients
      await Promise.all(
        Array.from({ length: PER_BURST }, (_, i) => env.app.engine.ingest([order(burst * PER_BURST + i)], { historical: false, source: 'test' })),
      )
      await sleep(40 + burst * 15)
    }
    const db = env.app.handle.db
    const deadline = Date.now() + 60_000
    for (;;) {
      // the backlog first: an event routed between the two reads has its run seen by the second
      // (the other way round, a run started just after the runs were read would be missed)
      const backlog = await env.app.engine.storage.routerBacklog()
      const active = await db.selectFrom('runs').select('id').where('status', 'in', ['running', 'waiting']).execute()
      if (backlog === 0 && active.length === 0) break
      if (Date.now() > deadline) throw new Error('runs still under way')
      await sleep(20)
    }

    const runs = await db.selectFrom('runs').select(['id', 'status']).execute()
    // a run that did not complete is named with its status and error, so a failure says why
    const unfinished = runs.filter((r) => r.status !== 'completed')
    if (unfinished.length > 0) {
      const steps = await db
        .selectFrom('run_steps')
        .select(['run_id', 'step_id', 'status', 'attempts', 'error'])
        .where(
          'run_id',
          'in',
          unfinished.map((r) => r.id),
        )
        .execute()
      expect({ unfinished, steps }).toEqual({ unfinished: [], steps: [] })
    }
    // the rule was put to work: more than one run, fewer than the orders
    expect(runs.length).toBeGreaterThan(1)
    expect(runs.length).toBeLessThan(BURSTS * PER_BURST)
    // each run made its two calls once, and no call of one run overlapped another run's
    expect(calls).toHaveLength(2 * runs.length)
    expect(new Set(calls.map((c) => c.key)).size).toBe(calls.length)
    const byRun = new Map<string, { start: number; end: number }>()
    for (const c of calls) {
      const run = c.key.split(':')[0]!
      const span = byRun.get(run) ?? { start: c.start, end: c.end }
      byRun.set(run, { start: Math.min(span.start, c.start), end: Math.max(span.end, c.end) })
    }
    expect(byRun.size).toBe(runs.length)
    const spans = [...byRun.values()].sort((a, b) => a.start - b.start)
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end)
  })

  it('a failed run is not retried while its customer has another active run of the workflow; once that one ends, it is', async () => {
    await installWorkflow(
      env.app,
      `
id: notify
name: Notify
trigger: { event: order.paid }
steps:
  - action: http_request
    id: tell
    with: { url: '${url}/{{ order.id }}', method: POST, body: { order: '{{ order.id }}' } }
  - wait: 1h
`,
    )
    const order = (id: string): CanonicalEvent => {
      const parsed = parseEvent(
        { id: `paid-${id}`, type: 'order.paid', data: { id, currency: 'USD', total_price: '10.00', customer: { id: 'c1', email: 'c1@example.com' } } },
        { store: 'default', now: env.clock.now() },
      )
      if (!parsed.ok) throw new Error('bad fixture')
      return parsed.event
    }
    const engine = env.app.engine
    const db = env.app.handle.db
    await engine.ingest([order('refused')], { historical: false, source: 'test' })
    await engine.drain()
    const failed = await db.selectFrom('runs').select(['id', 'status']).executeTakeFirstOrThrow()
    expect(failed.status).toBe('failed')
    // the failed run is not active: the customer's next order starts a run, which then waits
    await engine.ingest([order('fine')], { historical: false, source: 'test' })
    await engine.drain()
    expect(await db.selectFrom('runs').select('status').where('id', '!=', failed.id).execute()).toEqual([{ status: 'waiting' }])
    const retry = () => retryRun(engine.storage, env.clock, engine.cache, 'default', failed.id)
    await expect(retry()).rejects.toThrow(/another active run of workflow "notify"/)
    env.clock.advance(3_600_000)
    await engine.drain()
    await retry()
    expect((await db.selectFrom('runs').select('status').where('id', '=', failed.id).executeTakeFirstOrThrow()).status).toBe('running')
  })
})
