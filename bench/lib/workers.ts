import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { processCpuMs } from './cpu.ts'
import type { BenchEnv } from './env.ts'

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url))
const WORKER_SCRIPT = new URL('../worker-process.ts', import.meta.url)

/** Forks a bench worker script (`bench/<script>`) over the bench's database, with IPC to report back. */
export function forkBenchWorker(script: URL, env: BenchEnv): ChildProcess {
  return fork(RUN_TS, [fileURLToPath(script)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_WORKER_DATABASE_URL: env.databaseUrl,
      BENCH_WORKER_DATA_DIR: env.dir,
      ...(env.schema ? { BENCH_WORKER_SCHEMA: env.schema } : {}),
    },
  })
}

export interface WorkerProcesses {
  /** the worker runs in this process, beside the API, as `storeflow serve` embeds one */
  embedded: boolean
  pids: number[]
  /** CPU ms each worker process used so far (user + system, from /proc) */
  cpuMs(): number[]
  stop(): Promise<void>
}

/** `count` worker processes over the bench's database, as `storeflow worker` would be started beside an API node. */
export async function startWorkers(env: BenchEnv, count: number): Promise<WorkerProcesses> {
  const children: ChildProcess[] = []
  const ready: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const child = forkBenchWorker(WORKER_SCRIPT, env)
    children.push(child)
    ready.push(
      new Promise((resolve, reject) => {
        child.once('message', () => resolve())
        child.once('exit', (code) => reject(new Error(`worker process exited with ${code} before it was ready`)))
      }),
    )
  }
  await Promise.all(ready)
  return {
    embedded: false,
    pids: children.map((c) => c.pid!),
    cpuMs: () => children.map((c) => processCpuMs(c.pid!)),
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve()
              c.removeAllListeners('exit')
              c.once('exit', () => resolve())
              c.send('stop')
            }),
        ),
      )
    },
  }
}

/**
 * The worker `storeflow serve` embeds: in this process, sharing the API's event loop and its
 * database connection. On SQLite that is how one machine runs (one writer process: no lock
 * handed between processes, whose busy waits would be the harness's artefact).
 */
export function startEmbeddedWorker(env: BenchEnv): WorkerProcesses {
  const worker = env.app.services.workers.create()
  worker.start()
  return { embedded: true, pids: [process.pid], cpuMs: () => [], stop: () => worker.stop() }
}
