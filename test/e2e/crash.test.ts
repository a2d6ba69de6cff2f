import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEvent } from '../../src/contracts/events.ts'
import { systemClock } from '../../src/lib/clock.ts'
import { DIALECTS, TEST_DATABASE_URL, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { startStoreflow, waitFor, type StoreflowProcess } from '../helpers/processes.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * Real processes, real SIGKILL. A batch of runs is executed by `storeflow worker`; the worker
 * is killed mid-batch and restarted; every run must complete and no action's effect may
 * happen twice for the same step.
 */
const RUNS = 150

const workflow = (port: number) => `
id: crash-proof
name: Crash proof
trigger: { event: order.paid }
steps:
  - action: send_email
    id: confirm
    with: { category: transactional, subject: 'Order {{ order.number }}', html: '<p>Thanks for order {{ order.number }}</p>' }
  - action: emit_event
    id: emitted
    with: { type: raw.test.step_done, data: { order: '{{ order.id }}' } }
  - action: http_request
    id: notify
    with: { url: 'http://127.0.0.1:${port}/hook', body: { order: '{{ order.id }}' }, timeout: 5s }
  - action: tag_customer
    with: { tags: ['confirmed'] }
`

describe.each(DIALECTS)('kill -9 of workers on %s', { timeout: 180_000 }, (dialect) => {
  let env: TestEnv
  let hook: Server
  const received: string[] = []
  let workers: StoreflowProcess[] = []

  beforeAll(async () => {
    hook = createServer((req, res) => {
      received.push(String(req.headers['idempotency-key']))
      // slow enough that kills land mid-step
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 15)
    })
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
    env = await createTestEnv(dialect, { clock: systemClock as never })
  })
  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    hook.close()
    await env.cleanup()
  })

  it('every run completes after SIGKILL and restart, and no step acts twice', async () => {
    const port = (hook.address() as AddressInfo).port
    await installWorkflow(env.app, workflow(port))
    const events = Array.from({ length: RUNS }, (_, i) => {
      const parsed = parseEvent({ id: `paid-${i}`, type: 'order.paid', data: { id: `o${i}`, number: `#${1000 + i}`, currency: 'USD', total_price: '10.00', customer: { id: `c${i}`, email: `c${i}@example.com` } } }, { store: 'default', now: new Date() })
      if (!parsed.ok) throw new Error('bad fixture')
      return parsed.event
    })
    await env.app.engine.ingest(events, { historical: false, source: 'test' })

    const schema = dialect === 'postgres' ? await currentSchema(env) : null
    const workerEnv: Record<string, string> = {
      STOREFLOW_DATA_DIR: env.config.dataDir,
      STOREFLOW_SECRET_KEY: 'test-secret-key',
      STOREFLOW_ALLOW_PRIVATE_HTTP: '1',
      STOREFLOW_LEASE_MS: '1500',
      ...(dialect === 'postgres' ? { DATABASE_URL: `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}` } : {}),
    }
    let completedSoFar = 0
    const completed = async () => (completedSoFar = Number((await env.app.handle.db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'completed').executeTakeFirstOrThrow()).n))

    // PostgreSQL: two workers at once; SQLite: one
    const spawnWorkers = () => (dialect === 'postgres' ? [0, 1] : [0]).map(() => startStoreflow(['worker', '--concurrency', '4'], workerEnv))
    workers = spawnWorkers()
    await waitFor('some runs to complete', async () => (await completed()) >= RUNS / 5, 60_000, 20).catch((err) => {
      throw new Error(`${err.message}: ${completedSoFar} completed; worker output:\n${workers.map((w) => w.output()).join('\n').slice(-3000)}`)
    })
    const before = await completed()
    expect(before).toBeLessThan(RUNS) // the kill lands mid-batch
    for (const w of workers) await w.kill9()

    workers = spawnWorkers()
    await waitFor('all runs to complete', async () => (await completed()) === RUNS, 90_000, 100).catch((err) => {
      throw new Error(`${err.message}: ${completedSoFar} completed; worker output:\n${workers.map((w) => w.output()).join('\n').slice(-3000)}`)
    })
    for (const w of workers) expect(await w.stop()).toBe(0)

    const db = env.app.handle.db
    // transactional outbox: exactly one message per run step
    const messages = await db.selectFrom('messages').select(['run_id', 'idempotency_key']).execute()
    expect(messages).toHaveLength(RUNS)
    expect(new Set(messages.map((m) => m.run_id)).size).toBe(RUNS)
    // emit_event: exactly one emitted event per run
    const emitted = await db.selectFrom('events').select('id').where('type', '=', 'raw.test.step_done').execute()
    expect(emitted).toHaveLength(RUNS)
    // every step of every run on the timeline once, completed
    const steps = await db.selectFrom('run_steps').select(['run_id', 'step_id', 'status']).execute()
    expect(steps).toHaveLength(RUNS * 4)
    expect(steps.every((s) => s.status === 'completed')).toBe(true)
    // HTTP: every step's request arrived; a repeat can only be a step interrupted by the kill
    // mid-request, and it carries the same Idempotency-Key so the receiver can drop it
    const keys = new Set(received)
    expect(keys.size).toBe(RUNS)
    const repeats = received.length - keys.size
    expect(repeats).toBeLessThanOrEqual(dialect === 'postgres' ? 8 : 4)
    // the tag was applied once per customer
    const tagged = await db.selectFrom('customers').select('tags').execute()
    expect(tagged.filter((c) => JSON.parse(c.tags).join() === 'confirmed')).toHaveLength(RUNS)
  })
})

async function currentSchema(env: TestEnv): Promise<string> {
  const { sql } = await import('kysely')
  const row = await sql<{ s: string }>`select current_schema() as s`.execute(env.app.handle.db)
  return row.rows[0]!.s
}
