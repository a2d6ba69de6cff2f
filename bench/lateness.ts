import { sql } from 'kysely'
import type { App } from '../src/main.ts'
import { runClaimLoop } from './lib/claim-loop.ts'
import { createBenchEnv, OffsetClock, percentile, round, type Dialect } from './lib/env.ts'
import { cloneRun, ingestOrders } from './lib/seed.ts'
import { installWorkflow, WAIT_ONE_HOUR } from './lib/workflows.ts'

export interface LatenessResult {
  waits: number
  resumed: number
  /** waits resumed per second, from the due time until the last run completed */
  runs_per_s: number
  /**
   * The ceiling: one set-based UPDATE of the same due runs, writing what a wake must write to each
   * run row at the least (status, state, due_at, version, ended_at), timed and rolled back; no
   * timeline rows, no claim, no commit
   */
  ceiling_runs_per_s: number
  ceiling_ms: number
  seed_seconds: number
  p50_ms: number
  p99_ms: number
  max_ms: number
  /** from the due time until the last run completed */
  drain_seconds: number
}

/**
 * `count` runs wait on `wait: 1h`, all due at the same instant. The clock runs at real speed
 * from an offset; it is moved to 0.5 s before the due time while the engine's claim loop polls, so a
 * wait's lateness (woke_at − wake_at on its timeline) is real milliseconds.
 */
export async function benchLateness(dialect: Dialect, count: number, timeoutMs: number): Promise<LatenessResult> {
  const clock = new OffsetClock()
  const env = await createBenchEnv(dialect, { clock })
  try {
    await installWorkflow(env.app, WAIT_ONE_HOUR)
    await ingestOrders(env.app, 1, { tag: 'late' })
    await env.app.engine.drain()
    const template = await env.app.handle.db.selectFrom('runs').select(['id', 'due_at']).where('status', '=', 'waiting').executeTakeFirstOrThrow()
    const seedMs = await cloneRun(env.app, template.id, count - 1, 'run_late_')
    const dueAt = new Date(template.due_at!)
    const ceilingMs = await setBasedWakeMs(env.app, dueAt)

    clock.setNow(new Date(dueAt.getTime() - 500))
    const t0 = performance.now()
    // "none left active" is an index probe; counting the completed ones cost the loop ~5 ms a look at 100k
    await runClaimLoop(env.app.engine, { deadline: t0 + timeoutMs, until: async () => !(await anyActive(env.app)) })
    const drainSeconds = (performance.now() - t0 - 500) / 1000

    const rows = await env.app.handle.db
      .selectFrom('run_steps')
      .select(['wake_at', 'output'])
      .where('type', '=', 'wait')
      .where('status', '=', 'completed')
      .execute()
    const late = Float64Array.from(rows.map((r) => Date.parse(wokeAt(r.output)) - Date.parse(r.wake_at!))).sort()
    // waits still pending at the timeout are at least this late
    const pendingLateness = performance.now() - t0 - 500
    const all = new Float64Array(count)
    all.set(late)
    all.fill(pendingLateness, late.length)
    all.sort()
    return {
      waits: count,
      resumed: late.length,
      runs_per_s: Math.round(late.length / Math.max(0.001, drainSeconds)),
      ceiling_runs_per_s: Math.round(count / (ceilingMs / 1000)),
      ceiling_ms: round(ceilingMs),
      seed_seconds: round(seedMs / 1000, 1),
      p50_ms: round(percentile(all, 50)),
      p99_ms: round(percentile(all, 99)),
      max_ms: round(all[all.length - 1]!),
      drain_seconds: round(drainSeconds, 2),
    }
  } finally {
    await env.cleanup()
  }
}

async function anyActive(app: App): Promise<boolean> {
  const row = await app.handle.db
    .selectFrom('runs')
    .select('id')
    .where('store_id', '=', 'default')
    .where('status', 'in', ['waiting', 'running'])
    .limit(1)
    .executeTakeFirst()
  return row !== undefined
}

/** The ceiling's statement over every run due at `dueAt`, in a transaction that is rolled back. */
async function setBasedWakeMs(app: App, dueAt: Date): Promise<number> {
  const at = dueAt.toISOString()
  let ms = 0
  await app.handle.db
    .transaction()
    .execute(async (trx) => {
      const t0 = performance.now()
      await sql`update runs set status = 'completed', state = state, due_at = null, version = version + 1, ended_at = ${at}, updated_at = ${at}
        where due_at <= ${at}`.execute(trx)
      ms = performance.now() - t0
      throw new RolledBack()
    })
    .catch((err: unknown) => {
      if (!(err instanceof RolledBack)) throw err
    })
  return ms
}

class RolledBack extends Error {}

function wokeAt(output: unknown): string {
  const value = (typeof output === 'string' ? JSON.parse(output) : output) as { woke_at: string }
  return value.woke_at
}
