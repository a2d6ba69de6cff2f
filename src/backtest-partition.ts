import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { ReplayItem, ReplayPort, ReplayResult, ReplaySetup } from './services/backtest-replay.ts'

/**
 * One sandbox of a backtest split by customer (services/backtest.ts partitionCount), in a worker
 * thread of its own: the thread (backtest-worker.ts) opens the sandbox app on `setup` and replays
 * what it is handed, one call at a time; this side is its ReplayPort. Opened from the composition
 * root (main.ts), which is the only layer that may start the app the thread needs.
 */
export async function openBacktestPartition(setup: ReplaySetup, options: { logLevel: string }): Promise<ReplayPort> {
  // run from the TypeScript sources (tests, benchmarks), the thread compiles them as this process
  // does; the built package runs its JavaScript
  const fromSources = import.meta.url.endsWith('.ts')
  const entry = new URL(fromSources ? './backtest-worker.ts' : './backtest-worker.js', import.meta.url)
  const worker = new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { entry: entry.href, tsx: fromSources ? tsxEsmApi() : null, setup, logLevel: options.logLevel },
  })
  const port = new PartitionPort(worker)
  try {
    await port.call('open')
  } catch (err) {
    await worker.terminate()
    throw err
  }
  return port
}

/** tsx's ESM API (its `import` export: resolving from here gives the `require` one, the same file as .cjs). */
function tsxEsmApi(): string {
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api')
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href
}

/** The thread's first code: compile TypeScript when run from the sources, then the worker's module. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads')
;(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register()
  await import(workerData.entry)
})().catch((err) => { process.nextTick(() => { throw err }) })
`

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void }

/** The calls to one thread: each answered in turn, by id; a thread that fails or exits fails what is pending. */
class PartitionPort implements ReplayPort {
  private next = 0
  private readonly pending = new Map<number, Pending>()
  private failure: Error | null = null

  constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.ok) p.resolve(m.result)
      else p.reject(new Error(`backtest partition: ${m.error ?? 'failed'}`))
    })
    worker.on('error', (err) => this.fail(err))
    worker.on('exit', (code) => this.fail(new Error(`backtest partition: its thread exited (code ${code})`)))
  }

  call(op: 'open' | 'finish' | 'close'): Promise<unknown>
  call(op: 'history' | 'period', items: ReplayItem[]): Promise<unknown>
  call(op: string, items?: ReplayItem[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure)
    const id = this.next++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      // the opening call is answered without being asked: the thread opens on start
      if (op !== 'open') this.worker.postMessage({ id, op, items })
    })
  }

  history(items: ReplayItem[]): Promise<void> {
    return this.call('history', items).then(() => undefined)
  }

  period(items: ReplayItem[]): Promise<void> {
    return this.call('period', items).then(() => undefined)
  }

  finish(): Promise<ReplayResult> {
    return this.call('finish') as Promise<ReplayResult>
  }

  async close(): Promise<void> {
    try {
      if (!this.failure) await this.call('close')
    } finally {
      await this.worker.terminate()
    }
  }

  async abort(): Promise<void> {
    // its database is in memory: nothing is lost by not closing it
    await this.worker.terminate()
  }

  private fail(err: Error): void {
    this.failure ??= err
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }
}
