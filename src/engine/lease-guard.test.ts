import { z } from 'zod'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { silentLogger } from '../lib/logger.ts'
import { defineAction } from '../plugin-api/define-action.ts'
import { Engine } from './engine.ts'
import type { Storage } from './ports.ts'

/**
 * Invariant 9: a worker acts on a run only while its lease is surely its own. Here the first step
 * takes 50 of the lease's 60 seconds (the engine's clock) and no heartbeat has renewed the lease
 * meanwhile. With 10 s left, before the next external step the worker renews the lease; if that
 * fails (the statement fails, as when the database is away: test/e2e/pg-restart.test.ts shows the
 * real thing) it must not begin the step, since another worker may claim the run as soon as the
 * lease lapses and would act on it too. Once the lease has lapsed, another worker takes the run
 * over and does the step, once.
 */
const LEASE_MS = 60_000

const calls: Array<{ step: string; key: string }> = []
let clockOf: TestEnv['clock'] | null = null

const slowCall = defineAction({
  type: 'slow_call',
  title: 'Slow call',
  description: 'Stands in for a slow outside call: takes 50 s of the engine clock.',
  input: z.object({}),
  output: z.object({}),
  effects: 'external',
  retry: { safe: true },
  async run({ idempotencyKey }) {
    calls.push({ step: 'slow', key: idempotencyKey })
    clockOf!.advance(50_000)
    return {}
  },
})

const outsideCall = defineAction({
  type: 'outside_call',
  title: 'Outside call',
  description: 'An outside call, counted.',
  input: z.object({}),
  output: z.object({}),
  effects: 'external',
  retry: { safe: true },
  async run({ idempotencyKey }) {
    calls.push({ step: 'after', key: idempotencyKey })
    return {}
  },
})

describe.each(DIALECTS)('lease guard on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    calls.length = 0
    env = await createTestEnv(dialect, { extraActions: [slowCall, outsideCall], env: { STOREFLOW_LEASE_MS: String(LEASE_MS) } })
    clockOf = env.clock
  })
  afterEach(async () => {
    await env.cleanup()
  })

  const WORKFLOW = `
id: two-calls
name: Two calls
trigger: { event: order.paid }
steps:
  - action: slow_call
    id: slow
  - action: outside_call
    id: after
`

  async function startRun(): Promise<string> {
    await installWorkflow(env.app, WORKFLOW)
    const parsed = parseEvent(event('order.paid', 'e1', { id: 'o1', currency: 'USD', total_price: '1.00', customer: { id: 'c1', email: 'a@example.com' } }), {
      store: 'default',
      now: env.clock.now(),
    })
    if (!parsed.ok) throw new Error('bad fixture')
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.settle()
    return (await env.app.handle.db.selectFrom('runs').select('id').where('trigger_event_id', '=', parsed.event.id).executeTakeFirstOrThrow()).id
  }

  const steps = (runId: string) =>
    env.app.handle.db.selectFrom('run_steps').select(['step_id', 'status', 'attempts']).where('run_id', '=', runId).orderBy('seq').execute()
  const statusOf = async (runId: string) =>
    (await env.app.handle.db.selectFrom('runs').select('status').where('id', '=', runId).executeTakeFirstOrThrow()).status

  it('a worker that cannot renew its lease leaves the run before the lease may lapse; after it lapses another worker finishes it, each step once', async () => {
    const runId = await startRun()
    // worker A's lease renewals fail; everything else is the real storage
    const real = env.app.engine.storage
    const failing: Storage = {
      ...real,
      extendLeases: async () => {
        throw new Error('Connection terminated unexpectedly')
      },
    }
    const workerA = new Engine({ storage: failing, clock: env.clock, log: silentLogger, actions: env.app.actions, leaseMs: LEASE_MS })

    expect(await workerA.tick('worker-a')).toBe(1)
    // the slow step happened; with 10 s of a lease it could not renew, the next one did not begin
    expect(calls.map((c) => c.step)).toEqual(['slow'])
    expect((await steps(runId)).map((s) => [s.step_id, s.status])).toEqual([['slow', 'completed']])

    // nobody else may take the run while worker A's lease may still hold
    expect(await env.app.engine.tick('worker-b')).toBe(0)

    env.clock.advance(10_001)
    expect(await env.app.engine.tick('worker-b')).toBe(1)
    expect(calls.map((c) => c.step)).toEqual(['slow', 'after'])
    expect(new Set(calls.map((c) => c.key)).size).toBe(2)
    expect(await statusOf(runId)).toBe('completed')
    expect((await steps(runId)).map((s) => [s.step_id, s.status, s.attempts])).toEqual([
      ['slow', 'completed', 1],
      ['after', 'completed', 1],
    ])
  })

  it('a worker that renews its lease when little is left goes on at once', async () => {
    const runId = await startRun()
    expect(await env.app.engine.tick('worker-a')).toBe(1)
    expect(calls.map((c) => c.step)).toEqual(['slow', 'after'])
    expect(await statusOf(runId)).toBe('completed')
    const lease = await env.app.handle.db.selectFrom('runs').select(['lease_owner', 'lease_until']).where('id', '=', runId).executeTakeFirstOrThrow()
    expect(lease).toEqual({ lease_owner: null, lease_until: null })
  })
})
