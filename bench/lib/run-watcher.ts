import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url))
const WATCHER = fileURLToPath(new URL('../run-watcher.ts', import.meta.url))

export interface Drained {
  /** when the last of the events got a visible run (performance.timeOrigin-based ms); 0 if none did */
  drainedAt: number
  /** events still without a run when the time was up */
  missing: number
  /** per requested index: when its first run became visible, 0 never */
  seen: number[]
  /** 99th percentile of the time between two polls since the last answer, ms: the resolution */
  stepP99: number
  /** when each poll since the last answer started, ascending */
  pollStarts: number[]
}

export interface RunWatcher {
  /** resolves once every event `evt-<tag>-<i>` of indices has a visible run, or after timeoutMs */
  drain(tag: string, indices: number[], timeoutMs: number): Promise<Drained>
  stop(): Promise<{ polls: number; pollMsAvg: number; pollMsMax: number }>
}

/** Starts the outside observer of runs (bench/run-watcher.ts) on a SQLite file. */
export async function watchRuns(file: string, intervalMs = 2): Promise<RunWatcher> {
  const child: ChildProcess = fork(RUN_TS, [WATCHER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_WATCH_FILE: file, BENCH_WATCH_INTERVAL_MS: String(intervalMs) },
  })
  const next = <T>(): Promise<T> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`run watcher exited with ${code}`))
      child.once('exit', onExit)
      child.once('message', (msg) => {
        child.off('exit', onExit)
        resolve(msg as T)
      })
    })
  await next<string>()
  return {
    drain(tag, indices, timeoutMs) {
      const answer = next<Drained>()
      child.send({ drain: { tag, indices, timeoutMs } })
      return answer
    },
    stop() {
      const answer = next<{ polls: number; pollMsAvg: number; pollMsMax: number }>()
      child.send('stop')
      return answer
    },
  }
}
