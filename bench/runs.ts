import { runClaimLoop } from './lib/claim-loop.ts'
import { createBenchEnv, round, type Dialect } from './lib/env.ts'
import { countRuns, ingestOrders } from './lib/seed.ts'
import { installWorkflow, THREE_STEPS } from './lib/workflows.ts'

export interface RunsResult {
  runs: number
  runs_per_s: number
  seconds: number
  /** batched in-process ingest that created them (engine.ingest, 500 per call) */
  batched_ingest_events_per_s: number
}

/** Runs created by ingest, then completed by the engine's claim loop (Worker defaults: batch 100, concurrency 8). */
export async function benchRunsCompleted(dialect: Dialect, count: number, timeoutMs: number): Promise<RunsResult> {
  const env = await createBenchEnv(dialect)
  try {
    await installWorkflow(env.app, THREE_STEPS)
    const seeded = await ingestOrders(env.app, count, { tag: 'runs' })
    if (seeded.runs !== count) throw new Error(`expected ${count} runs, ingest started ${seeded.runs}`)
    const t0 = performance.now()
    await runClaimLoop(env.app.engine, { deadline: t0 + timeoutMs, until: async () => (await countRuns(env.app, 'completed')) >= count })
    const seconds = (performance.now() - t0) / 1000
    const done = await countRuns(env.app, 'completed')
    return {
      runs: done,
      runs_per_s: Math.round(done / seconds),
      seconds: round(seconds, 2),
      batched_ingest_events_per_s: Math.round(count / (seeded.ms / 1000)),
    }
  } finally {
    await env.cleanup()
  }
}
