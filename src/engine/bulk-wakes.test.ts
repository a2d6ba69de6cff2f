import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { startHttpReceiver, type HttpReceiver } from '../../test/helpers/http-receiver.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { Engine } from './engine.ts'
import type { RunRecord, Storage } from './ports.ts'
import { cancelRun } from './run-lifecycle.ts'

/**
 * Runs that fall due together are woken as a batch whose writes go out set-based
 * (write-behind.ts): every run still resumes exactly once, with its own timeline, and a run that
 * changed under the batch keeps its change. Counted outside: the requests a webhook receiver got.
 */
const RUNS = 60

describe.each(DIALECTS)('runs falling due together on %s', { timeout: 120_000 }, (dialect) => {
  let env: TestEnv
  let hook: HttpReceiver

  beforeAll(async () => {
    hook = await startHttpReceiver()
  })
  afterAll(async () => {
    await hook.close()
  })
  beforeEach(async () => {
    hook.requests.length = 0
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    await installWorkflow(
      env.app,
      `
id: later
name: Later
trigger: { event: order.paid }
steps:
  - wait: 1h
  - action: log
    id: note
    with: { message: 'order {{ order.id }}' }
  - action: http_request
    id: notify
    with: { url: '${hook.url}/hook', method: POST, body: { order: '{{ order.id }}' } }
`,
    )
    const now = env.clock.now()
    const events = Array.from({ length: RUNS }, (_, i) => {
      const parsed = parseEvent(
        { id: `paid-${i}`, type: 'order.paid', data: { id: `o${i}`, currency: 'USD', total_price: '1.00', customer: { id: `c${i}` } } },
        { store: 'default', now },
      )
      if (!parsed.ok) throw new Error('bad fixture')
      return parsed.event
    })
    await env.app.engine.ingest(events, { historical: false, source: 'test' })
    await env.app.engine.drain()
    expect(await statuses()).toEqual({ waiting: RUNS })
    env.clock.advance(3_600_000)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  async function statuses(): Promise<Record<string, number>> {
    const rows = await env.app.handle.db.selectFrom('runs').select('status').execute()
    const out: Record<string, number> = {}
    for (const r of rows) out[r.status] = (out[r.status] ?? 0) + 1
    return out
  }

  /** Each run's timeline as `step_id:status`, by run id. */
  async function timelines(): Promise<Map<string, string[]>> {
    const rows = await env.app.handle.db.selectFrom('run_steps').select(['run_id', 'step_id', 'status', 'seq']).orderBy('run_id').orderBy('seq').execute()
    const out = new Map<string, string[]>()
    for (const r of rows) out.set(r.run_id, [...(out.get(r.run_id) ?? []), `${r.step_id}:${r.status}`])
    return out
  }

  function worker(storage: Storage): Engine {
    return new Engine({ storage, clock: env.clock, log: env.app.log, actions: env.app.actions })
  }

  /** The storage with a hook after each claim. */
  function claimHook(afterClaim: (runs: RunRecord[]) => Promise<void>): Storage {
    const storage = env.app.engine.storage
    return {
      ...storage,
      async claimDueRuns(owner, now, leaseMs, limit) {
        const runs = await storage.claimDueRuns(owner, now, leaseMs, limit)
        await afterClaim(runs)
        return runs
      },
    }
  }

  const expectedTimeline = ['s1:completed', 'note:completed', 'notify:completed']

  it('every run resumes once, with one timeline entry per step, and each webhook is sent once', async () => {
    expect(await env.app.engine.tick('one', RUNS, 4)).toBe(RUNS)
    expect(await statuses()).toEqual({ completed: RUNS })
    const steps = await timelines()
    expect(steps.size).toBe(RUNS)
    for (const timeline of steps.values()) expect(timeline).toEqual(expectedTimeline)
    const bodies = hook.requests.map((r) => (JSON.parse(r.body) as { order: string }).order).sort()
    expect(bodies).toEqual(Array.from({ length: RUNS }, (_, i) => `o${i}`).sort())
  })

  it('a run cancelled after the batch claimed it stays cancelled; the rest of the batch resumes once each', async () => {
    let victim: string | null = null
    const storage = claimHook(async (runs) => {
      if (victim || runs.length === 0) return
      victim = runs[Math.floor(runs.length / 2)]!.id
      await cancelRun(env.app.engine.storage, env.clock, 'default', victim)
    })
    await worker(storage).drain('racer')
    expect(await statuses()).toEqual({ completed: RUNS - 1, cancelled: 1 })
    const steps = await timelines()
    expect(steps.get(victim!)).toEqual(['s1:waiting'])
    for (const [id, timeline] of steps) if (id !== victim) expect(timeline).toEqual(expectedTimeline)
    expect(hook.requests).toHaveLength(RUNS - 1)
    expect(new Set(hook.requests.map((r) => r.key)).size).toBe(RUNS - 1)
  })

  it.runIf(dialect === 'postgres')('two workers split the due runs between them; none is advanced twice', async () => {
    const claimed = { a: [] as string[], b: [] as string[] }
    const b = worker(claimHook(async (runs) => void claimed.b.push(...runs.map((r) => r.id))))
    // worker a holds its first batch while worker b drains everything else, on its own connections
    let bDrained: Promise<number> | null = null
    const a = worker(
      claimHook(async (runs) => {
        claimed.a.push(...runs.map((r) => r.id))
        if (!bDrained && runs.length > 0) {
          bDrained = b.drain('b', 1000)
          await bDrained
        }
      }),
    )
    const tickA = a.tick('a', RUNS / 3, 4)
    await tickA
    await a.drain('a')
    expect(claimed.a.length).toBeGreaterThan(0)
    expect(claimed.b.length).toBeGreaterThan(0)
    expect(new Set([...claimed.a, ...claimed.b]).size).toBe(RUNS)
    expect(claimed.a.filter((id) => claimed.b.includes(id))).toEqual([])
    expect(await statuses()).toEqual({ completed: RUNS })
    for (const timeline of (await timelines()).values()) expect(timeline).toEqual(expectedTimeline)
    expect(hook.requests).toHaveLength(RUNS)
    expect(new Set(hook.requests.map((r) => r.key)).size).toBe(RUNS)
  })
})
