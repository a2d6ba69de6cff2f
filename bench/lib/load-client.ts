import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LoadRequest, LoadResult } from '../loadgen.ts'

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url))
const LOADGEN = fileURLToPath(new URL('../loadgen.ts', import.meta.url))

/**
 * Runs the load generator in a child process and returns its figures. onPhase hears when the
 * measured window starts and ends, on the generator's own clock (its start-up is not in it).
 */
export function runLoad(request: LoadRequest, onPhase?: (phase: 'measuring' | 'ended') => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(RUN_TS, [LOADGEN], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let settled = false
    child.on('message', (msg: { phase?: 'measuring' | 'ended'; ok?: boolean; result?: LoadResult; error?: string }) => {
      if (msg.phase) {
        onPhase?.(msg.phase)
        return
      }
      settled = true
      if (msg.ok && msg.result) resolve(msg.result)
      else reject(new Error(`load generator failed: ${msg.error}`))
    })
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited with ${code}`))
    })
    child.send(request)
  })
}
