import type { Kysely, Selectable } from 'kysely'
import type { WorkerBeat } from '../engine/ports.ts'
import type { Database } from './tables.ts'

/** A worker process (migration 0025): written at start and on every heartbeat. */
export interface WorkersTable {
  id: string
  hostname: string
  pid: number
  version: string
  started_at: string
  last_seen: string
  heartbeat_ms: number
  claimed_runs: number
  stopped_at: string | null
}

/** Monotonic figures beside the rows they count (migration 0025), e.g. `events_pruned`. */
export interface CountersTable {
  name: string
  value: number | string
}

/** A worker is lost once this many heartbeats passed without one. */
export const LOST_AFTER_HEARTBEATS = 3

export type WorkerState = 'running' | 'stopped' | 'lost'

export interface WorkerRow extends Selectable<WorkersTable> {
  state: WorkerState
}

/** One upsert: the worker's row, created at its first beat and refreshed by every later one. */
export async function beatWorker(db: Kysely<Database>, beat: WorkerBeat): Promise<void> {
  const row = {
    id: beat.id,
    hostname: beat.hostname,
    pid: beat.pid,
    version: beat.version,
    started_at: beat.startedAt.toISOString(),
    last_seen: beat.at.toISOString(),
    heartbeat_ms: beat.heartbeatMs,
    claimed_runs: beat.claimedRuns,
    stopped_at: null,
  }
  await db
    .insertInto('workers')
    .values(row)
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ last_seen: row.last_seen, claimed_runs: row.claimed_runs, heartbeat_ms: row.heartbeat_ms, stopped_at: null }),
    )
    .execute()
}

/** A graceful stop: the worker holds nothing any more. */
export async function stopWorker(db: Kysely<Database>, id: string, at: Date): Promise<void> {
  await db.updateTable('workers').set({ stopped_at: at.toISOString(), last_seen: at.toISOString(), claimed_runs: 0 }).where('id', '=', id).execute()
}

export function workerState(row: Selectable<WorkersTable>, now: Date): WorkerState {
  if (row.stopped_at !== null) return 'stopped'
  return Date.parse(row.last_seen) + LOST_AFTER_HEARTBEATS * row.heartbeat_ms < now.getTime() ? 'lost' : 'running'
}

/** Every worker row (a handful: rows gone for over a day are pruned), the newest start first. */
export async function listWorkers(db: Kysely<Database>, now: Date): Promise<WorkerRow[]> {
  const rows = await db.selectFrom('workers').selectAll().orderBy('started_at', 'desc').orderBy('id').execute()
  return rows.map((row) => ({
    ...row,
    pid: Number(row.pid),
    heartbeat_ms: Number(row.heartbeat_ms),
    claimed_runs: Number(row.claimed_runs),
    state: workerState(row, now),
  }))
}

/** Deletes workers stopped, or not seen, since before `cutoff`. */
export async function pruneGoneWorkers(db: Kysely<Database>, cutoff: Date): Promise<number> {
  const result = await db.deleteFrom('workers').where('last_seen', '<', cutoff.toISOString()).executeTakeFirst()
  return Number(result.numDeletedRows)
}
