import { Worker, type WorkerOptions } from '../engine/worker.ts'
import type { ServiceContext } from './context.ts'

export type { Worker, WorkerOptions } from '../engine/worker.ts'

/** Workers that advance due runs in this process (`serve` embeds one, `worker` is one). */
export function createWorkersService(ctx: ServiceContext) {
  return {
    /** A worker, not started yet: start() begins claiming runs, stop() lets in-flight steps finish. */
    create(options: WorkerOptions = {}): Worker {
      return new Worker(ctx.engine, ctx.log, options)
    },
  }
}

export type WorkersService = ReturnType<typeof createWorkersService>
