import { runClaimLoop } from './lib/claim-loop.ts'
import { createBenchEnv, OffsetClock, percentile, round, type Dialect } from './lib/env.ts'
import { cloneRun, countRuns, ingestOrders } from './lib/seed.ts'
import { installWorkflow, WAIT_ONE_HOUR } from './lib/workflows.ts'

export interface LatenessResult {
  waits: number
  resumed: number
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
    await cloneRun(env.app, template.id, count - 1, 'run_late_')
    const dueAt = new Date(template.due_at!)

    clock.setNow(new Date(dueAt.getTime() - 500))
    const t0 = performance.now()
    await runClaimLoop(env.app.engine, { deadline: t0 + timeoutMs, until: async () => (await countRuns(env.app, 'completed')) >= count })
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
      p50_ms: round(percentile(all, 50)),
      p99_ms: round(percentile(all, 99)),
      max_ms: round(all[all.length - 1]!),
      drain_seconds: round(drainSeconds, 2),
    }
  } finally {
    await env.cleanup()
  }
}

function wokeAt(output: unknown): string {
  const value = (typeof output === 'string' ? JSON.parse(output) : output) as { woke_at: string }
  return value.woke_at
}
