import { readFileSync } from 'node:fs'
import { createBenchEnv, round, type Dialect } from './lib/env.ts'
import { forkBenchWorker } from './lib/workers.ts'
import { cloneRun, countRuns, ingestOrders } from './lib/seed.ts'
import { installWorkflow, WAIT_ONE_HOUR } from './lib/workflows.ts'

export interface RssResult {
  waiting_runs: number
  seed_seconds: number
  polled_seconds: number
  rss_mb: number
  peak_rss_mb: number
  heap_used_mb: number
}

/** A process's memory as the kernel counts it: `VmRSS` now, `VmHWM` the peak; MB. */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)
  return m ? Number(m[1]) / 1024 : Number.NaN
}

/** `count` runs waiting (bulk copies of an engine-made one), then a worker process polls over them. */
export async function benchWorkerRss(dialect: Dialect, count: number, pollMs: number): Promise<RssResult> {
  const env = await createBenchEnv(dialect)
  try {
    await installWorkflow(env.app, WAIT_ONE_HOUR)
    await ingestOrders(env.app, 1, { tag: 'rss' })
    await env.app.engine.drain()
    const template = await env.app.handle.db.selectFrom('runs').select('id').where('status', '=', 'waiting').executeTakeFirstOrThrow()
    const seedMs = await cloneRun(env.app, template.id, count - 1, 'run_rss_')
    const waiting = await countRuns(env.app, 'waiting')

    const child = forkBenchWorker(new URL('./rss-worker.ts', import.meta.url), env)
    let last = { rss: 0, heapUsed: 0, polls: 0 }
    let peak = 0
    const t0 = performance.now()
    await new Promise<void>((resolve, reject) => {
      child.on('message', (msg: typeof last) => {
        last = msg
        peak = Math.max(peak, procStatusMb(child.pid!, 'VmHWM'))
        if (performance.now() - t0 >= pollMs) resolve()
      })
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))
    })
    child.removeAllListeners('exit')
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.send('stop')
    await exited
    return {
      waiting_runs: waiting,
      seed_seconds: round(seedMs / 1000, 1),
      polled_seconds: round((performance.now() - t0) / 1000, 1),
      rss_mb: round(last.rss / 2 ** 20),
      peak_rss_mb: round(peak),
      heap_used_mb: round(last.heapUsed / 2 ** 20),
    }
  } finally {
    await env.cleanup()
  }
}
