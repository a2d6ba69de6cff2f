import type { AddressInfo } from 'node:net'
import { sql } from 'kysely'
import { buildServer } from '../src/http/server.ts'
import { createKey } from '../src/store/stores.repo.ts'
import { ownCpuMs, postgresCpuMs } from './lib/cpu.ts'
import { BENCH_DATABASE_URL, BENCH_PG_APPLICATION, createBenchEnv, round, type Dialect } from './lib/env.ts'
import { runLoad } from './lib/load-client.ts'
import { countRuns } from './lib/seed.ts'
import { startEmbeddedWorker, startWorkers } from './lib/workers.ts'
import { installWorkflow, ONE_STEP } from './lib/workflows.ts'

export interface EndToEndResult {
  workers: number
  /** the worker ran inside the API process (`storeflow serve`) */
  embedded: boolean
  /** runs that reached `completed` in the measured window, per second */
  completed_per_s: number
  /** runs created in the window, per second */
  started_per_s: number
  /** events accepted over HTTP in the window, per second */
  ingest_events_per_s: number
  /** runs started but not completed when the window closed */
  backlog_at_end: number
  window_s: number
  /** CPU in the window as a share of one core: the API process, each worker, PostgreSQL's processes */
  cpu: { api: number; workers: number[]; postgres?: number }
}

interface Snapshot {
  at: number
  completed: number
  started: number
  api: number
  workers: number[]
  pg: number
}

/**
 * End to end: a closed-loop HTTP load of order.paid (96 connections) with one active one-step
 * workflow. SQLite with one worker: `storeflow serve` with its embedded worker, in this process;
 * otherwise an API node (`serve --no-worker`, in this process) and `workers` worker processes.
 * The figure is how many runs completed during the measured window, counted in the database at
 * its start and end (the load generator says when those are, on its own clock). Under a saturating load it is what ingest, routing and the
 * workers sustain together; its ceiling is the rate events arrive at.
 */
export async function benchEndToEnd(
  dialect: Dialect,
  workerCount: number,
  sizes: { warmupMs: number; durationMs: number; concurrency: number },
): Promise<EndToEndResult> {
  const env = await createBenchEnv(dialect)
  try {
    await installWorkflow(env.app, ONE_STEP)
    const { key } = await createKey(env.app.handle.db, 'default', 'ingest', new Date())
    const server = await buildServer(env.app)
    await server.listen({ port: 0, host: '127.0.0.1' })
    const port = (server.server.address() as AddressInfo).port
    const workers = dialect === 'sqlite' && workerCount === 1 ? startEmbeddedWorker(env) : await startWorkers(env, workerCount)
    try {
      const snapshot = async (): Promise<Snapshot> => {
        const cpu = {
          api: ownCpuMs(),
          workers: workers.cpuMs(),
          pg: dialect === 'postgres' ? await postgresCpuMs(BENCH_DATABASE_URL, BENCH_PG_APPLICATION) : Number.NaN,
        }
        const at = performance.now()
        const completed = await countRuns(env.app, 'completed')
        const all = await sql<{ n: number | string }>`select count(*) as n from runs`.execute(env.app.handle.db)
        return { at, completed, started: Number(all.rows[0]!.n), ...cpu }
      }
      const marks: { first?: Promise<Snapshot>; last?: Promise<Snapshot> } = {}
      const load = await runLoad(
        {
          mode: 'closed',
          port,
          path: '/api/v1/events',
          token: key,
          concurrency: sizes.concurrency,
          warmupMs: sizes.warmupMs,
          durationMs: sizes.durationMs,
          tag: `e2e-${dialect}-${workerCount}`,
          customers: 20_000,
        },
        (phase) => {
          if (phase === 'measuring') marks.first = snapshot()
          else marks.last = snapshot()
        },
      )
      if (!marks.first || !marks.last) throw new Error('the load generator did not report its measured window')
      const a = await marks.first
      const b = await marks.last
      const s = (b.at - a.at) / 1000
      const share = (x: number, y: number) => round((y - x) / (b.at - a.at), 2)
      return {
        workers: workerCount,
        embedded: workers.embedded,
        completed_per_s: Math.round((b.completed - a.completed) / s),
        started_per_s: Math.round((b.started - a.started) / s),
        ingest_events_per_s: Math.round(load.perSecond),
        backlog_at_end: b.started - b.completed,
        window_s: round(s, 2),
        cpu: {
          api: share(a.api, b.api),
          workers: a.workers.map((w, i) => share(w, b.workers[i]!)),
          ...(dialect === 'postgres' ? { postgres: share(a.pg, b.pg) } : {}),
        },
      }
    } finally {
      await workers.stop()
      await server.close()
    }
  } finally {
    await env.cleanup()
  }
}
