/**
 * A run's statuses and which of them are still under way. Pure data, next to the ports: store/
 * reads it too (its queries select active runs), while what each transition writes is decided by
 * run-lifecycle.ts. The API shows these names as they are (docs/http-api.md).
 */
export const RUN_STATUSES = ['running', 'waiting', 'completed', 'exited', 'failed', 'cancelled'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

/** Under way: a worker may advance it, an event may signal or end it, the API may cancel it. */
export const ACTIVE_RUN_STATUSES = ['running', 'waiting'] as const satisfies readonly RunStatus[]
/** Over: nothing moves the run again, except a retry of a failed one. */
export const ENDED_RUN_STATUSES = ['completed', 'exited', 'failed', 'cancelled'] as const satisfies readonly RunStatus[]

export type ActiveRunStatus = (typeof ACTIVE_RUN_STATUSES)[number]
export type EndedRunStatus = (typeof ENDED_RUN_STATUSES)[number]

export function isActiveStatus(status: string): status is ActiveRunStatus {
  return (ACTIVE_RUN_STATUSES as readonly string[]).includes(status)
}

export function isEndedStatus(status: string): status is EndedRunStatus {
  return (ENDED_RUN_STATUSES as readonly string[]).includes(status)
}

/**
 * The columns every ended run holds, however it ended: no wake time, no lease, no pending signal,
 * the time it ended. run-lifecycle.ts writes them through the versioned run write; the erasure
 * (store/privacy.ts) writes them in its own statement when it cancels an erased customer's run.
 */
export function endedColumns<S extends EndedRunStatus>(
  status: S,
  at: string,
): { status: S; due_at: null; ended_at: string; lease_owner: null; signal_event_seq: null } {
  return { status, due_at: null, ended_at: at, lease_owner: null, signal_event_seq: null }
}
