import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LoadRequest, LoadResult } from '../loadgen.ts'

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url))
const LOADGEN = fileURLToPath(new URL('../loadgen.ts', import.meta.url))

/** Runs the load generator in a child process and returns its figures. */
export function runLoad(request: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(RUN_TS, [LOADGEN], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let settled = false
    child.once('message', (msg: { ok: boolean; result?: LoadResult; error?: string }) => {
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
