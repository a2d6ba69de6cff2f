import { Worker } from '../src/engine/worker.ts'
import { silentLogger } from '../src/lib/logger.ts'
import { createBenchEnv, round, sleep, type Dialect } from './lib/env.ts'
import { countRuns, ingestOrders } from './lib/seed.ts'
import { installWorkflow, THREE_STEPS } from './lib/workflows.ts'

export interface RunsResult {
  runs: number
  runs_per_s: number
  seconds: number
  /** batched in-process ingest that created them (engine.ingest, 500 per call) */
  batched_ingest_events_per_s: number
}

/** Runs created by ingest, then completed by the engine's Worker (default batch and concurrency). */
export async function benchRunsCompleted(dialect: Dialect, count: number, timeoutMs: number): Promise<RunsResult> {
  const env = await createBenchEnv(dialect)
  try {
    await installWorkflow(env.app, THREE_STEPS)
    const seeded = await ingestOrders(env.app, count, { tag: 'runs' })
    if (seeded.runs !== count) throw new Error(`expected ${count} runs, ingest started ${seeded.runs}`)
    const worker = new Worker(env.app.engine, silentLogger)
    const t0 = performance.now()
    worker.start()
    let done = 0
    while (performance.now() - t0 < timeoutMs) {
      await sleep(100)
      done = await countRuns(env.app, 'completed')
      if (done >= count) break
    }
    const seconds = (performance.now() - t0) / 1000
    await worker.stop()
    return { runs: done, runs_per_s: Math.round(done / seconds), seconds: round(seconds, 2), batched_ingest_events_per_s: Math.round(count / (seeded.ms / 1000)) }
  } finally {
    await env.cleanup()
  }
}
