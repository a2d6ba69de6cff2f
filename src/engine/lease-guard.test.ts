import { z } from 'zod'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { defineAction } from '../plugin-api/define-action.ts'

/**
 * Invariant 9: a worker acts on a run only while its lease is surely its own. Here the first step
 * takes 50 of the lease's 60 seconds (the engine's clock), and no heartbeat renewed the lease
 * meanwhile (as when renewing fails: the database is away, or the statement failed). With 10 s
 * left, the worker must not begin the next external step: another worker may claim the run as
 * soon as the lease lapses, and would act on it too. Once the lease has lapsed, another worker
 * takes the run over and does the step, once.
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

  it('a worker whose lease was not renewed leaves the run before it may lapse; after it lapses another worker finishes it, each step once', async () => {
    await installWorkflow(env.app, `
id: two-calls
name: Two calls
trigger: { event: order.paid }
steps:
  - action: slow_call
    id: slow
  - action: outside_call
    id: after
`)
    const parsed = parseEvent(event('order.paid', 'e1', { id: 'o1', currency: 'USD', total_price: '1.00', customer: { id: 'c1', email: 'a@example.com' } }), { store: 'default', now: env.clock.now() })
    if (!parsed.ok) throw new Error('bad fixture')
    const [result] = await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    const runId = result!.runs[0]!

    expect(await env.app.engine.tick('worker-a')).toBe(1)
    // the slow step happened; with 10 s of an unrenewed lease left, the next one did not begin
    expect(calls.map((c) => c.step)).toEqual(['slow'])
    const steps = async () => env.app.handle.db.selectFrom('run_steps').select(['step_id', 'status', 'attempts']).where('run_id', '=', runId).orderBy('seq').execute()
    expect((await steps()).map((s) => [s.step_id, s.status])).toEqual([['slow', 'completed']])

    // nobody else may take the run while worker A's lease may still hold
    expect(await env.app.engine.tick('worker-b')).toBe(0)

    env.clock.advance(10_001)
    expect(await env.app.engine.tick('worker-b')).toBe(1)
    expect(calls.map((c) => c.step)).toEqual(['slow', 'after'])
    expect(new Set(calls.map((c) => c.key)).size).toBe(2)
    const run = await env.app.handle.db.selectFrom('runs').select('status').where('id', '=', runId).executeTakeFirstOrThrow()
    expect(run.status).toBe('completed')
    expect((await steps()).map((s) => [s.step_id, s.status, s.attempts])).toEqual([['slow', 'completed', 1], ['after', 'completed', 1]])
  })
})
