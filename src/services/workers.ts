import { Worker, type WorkerOptions } from '../engine/worker.ts'
import { listWorkers, type WorkerRow } from '../store/workers.repo.ts'
import type { ServiceContext } from './context.ts'

export type { Worker, WorkerOptions } from '../engine/worker.ts'
export type { WorkerRow, WorkerState } from '../store/workers.repo.ts'

/** A worker process as GET /api/v1/workers shows it. */
export interface WorkerView {
  id: string
  hostname: string
  pid: number
  version: string
  /** running; stopped (a graceful stop); lost (not seen for 3 heartbeats: killed, hung, cut off) */
  state: WorkerRow['state']
  started_at: string
  last_seen: string
  stopped_at: string | null
  heartbeat_ms: number
  /** runs it held under lease at its last heartbeat */
  claimed_runs: number
}

/**
 * Workers that advance due runs in this process (`serve` embeds one, `worker` is one), and the
 * installation's list of them all, from their heartbeats.
 */
export function createWorkersService(ctx: ServiceContext) {
  return {
    /** A worker, not started yet: start() begins claiming runs, stop() lets in-flight steps finish. */
    create(options: WorkerOptions = {}): Worker {
      const heartbeatMs = options.heartbeatMs ?? ctx.config.workerHeartbeatMs
      return new Worker(ctx.engine, ctx.log, heartbeatMs === undefined ? options : { ...options, heartbeatMs })
    },

    /** Every worker of the installation seen within the last day (older rows are pruned), newest first. */
    async list(): Promise<WorkerView[]> {
      return (await listWorkers(ctx.handle.db, ctx.clock.now())).map((row) => ({
        id: row.id,
        hostname: row.hostname,
        pid: row.pid,
        version: row.version,
        state: row.state,
        started_at: row.started_at,
        last_seen: row.last_seen,
        stopped_at: row.stopped_at,
        heartbeat_ms: row.heartbeat_ms,
        claimed_runs: row.claimed_runs,
      }))
    },
  }
}

export type WorkersService = ReturnType<typeof createWorkersService>
