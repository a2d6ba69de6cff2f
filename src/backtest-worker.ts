import { parentPort, workerData } from 'node:worker_threads'
import { pino } from 'pino'
import { createApp } from './main.ts'
import { openReplay, type ReplayItem, type ReplayPort, type ReplaySetup } from './services/backtest-replay.ts'

/**
 * The thread of one sandbox of a backtest split by customer (backtest-partition.ts is the other
 * side): opens the sandbox on the setup it was started with, answers the opening as call 0, then
 * each call in turn. Its log (warnings only, as any sandbox's, or what the process's level allows)
 * goes to stderr, so a command's JSON on stdout stays whole.
 */
type Call = { id: number; op: 'history' | 'period' | 'finish' | 'close'; items?: ReplayItem[] }

const port = parentPort
if (!port) throw new Error('backtest-worker.ts runs as a worker thread (backtest-partition.ts starts it)')
const { setup, logLevel } = workerData as { setup: ReplaySetup; logLevel: string }
// written at once: the thread may be ended right after its last answer
const log = pino({ level: logLevel, base: { service: 'storeflow', backtest: true } }, pino.destination({ dest: 2, sync: true }))

const failure = (err: unknown) => ({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
const answer = (id: number, work: () => Promise<unknown>) =>
  work().then(
    (result) => {
      try {
        port.postMessage({ id, ok: true, result })
      } catch (err) {
        // an answer that cannot be sent (not plain data) is a failure of the call, not of the thread
        port.postMessage({ id, ...failure(err) })
      }
    },
    (err: unknown) => port.postMessage({ id, ...failure(err) }),
  )

let replay: ReplayPort | null = null
// the calls one after another, in the order they came
let turn: Promise<unknown> = answer(0, async () => {
  replay = await openReplay(setup, (config, options) => createApp(config, { log, ...options }))
})
port.on('message', (call: Call) => {
  turn = turn.then(() =>
    answer(call.id, async () => {
      if (!replay) throw new Error('the sandbox did not open')
      if (call.op === 'history') return replay.history(call.items ?? [])
      if (call.op === 'period') return replay.period(call.items ?? [])
      if (call.op === 'finish') return replay.finish()
      // the other side ends the thread once this is answered
      await replay.close()
      replay = null
    }),
  )
})
