import type { Clock } from '../lib/clock.ts'
import { UserError } from '../lib/errors.ts'
import type { RunRecord, Storage, StorageTx, StoredEvent } from './ports.ts'
import { endedColumns, isActiveStatus, isEndedStatus, type EndedRunStatus } from './run-status.ts'
import type { CompiledWorkflow, WorkflowCache } from './workflow-cache.ts'

/**
 * A run's life: how it is written, parked, woken, let go of, ended (completed, failed, exited,
 * cancelled) and retried. Every transition is a versioned write (ARCHITECTURE.md, invariant 8):
 * it commits only if the run is still at the version its writer read, so a worker, ingest and
 * the API racing for one run cannot both win. The statuses themselves are in run-status.ts.
 */

/** Thrown inside a transaction when the run changed under us (exited, cancelled): rolls it back. */
export class RunChanged extends Error {}

export function isActive(run: Pick<RunRecord, 'status'>): boolean {
  return isActiveStatus(run.status)
}

export function isEnded(run: Pick<RunRecord, 'status'>): boolean {
  return isEndedStatus(run.status)
}

/** Who and what a run is about, fixed when it begins. */
export type RunIdentity = Pick<
  RunRecord,
  | 'id'
  | 'store_id'
  | 'workflow_id'
  | 'workflow_version'
  | 'trigger_event_seq'
  | 'trigger_event_id'
  | 'customer_key'
  | 'customer_id'
  | 'customer_email'
  | 'holdout'
>

/**
 * A run as its trigger starts it: due at once at the first instruction. A run in the holdout
 * (the control group) gets no actions: it is recorded (for lift) and ends at once, completed.
 */
export function beginRun(identity: RunIdentity, now: Date): RunRecord {
  const at = now.toISOString()
  const run: RunRecord = {
    ...identity,
    status: 'running',
    state: { pc: 0, loops: [], outputs: {}, seq: 0, current: null },
    due_at: at,
    signal_event_seq: null,
    lease_owner: null,
    version: 0,
    started_at: at,
    ended_at: null,
  }
  return identity.holdout ? { ...run, ...endedColumns('completed', at) } : run
}

/** Writes the run if it is still at the version it was read at; throws RunChanged if not. */
export async function saveRun(tx: StorageTx, run: RunRecord): Promise<RunRecord> {
  if (!(await tx.updateRun(run, run.version))) throw new RunChanged()
  return { ...run, version: run.version + 1 }
}

/** The run waits until `wakeAt` (a wait, a wait_for's timeout, quiet hours), its lease let go. */
export function parked(run: RunRecord, wakeAt: string, state = run.state): RunRecord {
  return { ...run, status: 'waiting', due_at: wakeAt, lease_owner: null, state }
}

/** The run is due again at `wakeAt` to retry a step (still running, not waiting), its lease let go. */
export function retryLater(run: RunRecord, wakeAt: string, state: RunRecord['state']): RunRecord {
  return { ...run, status: 'running', due_at: wakeAt, lease_owner: null, state }
}

/** The run as it ends; `seqStep` moves the timeline on when the ending is itself a step. */
function ended(run: RunRecord, status: EndedRunStatus, now: Date, reason?: string, seqStep = 0): RunRecord {
  return {
    ...run,
    ...endedColumns(status, now.toISOString()),
    state: { ...run.state, current: null, seq: run.state.seq + seqStep, ...(reason ? { exitReason: reason } : {}) },
  }
}

/** Ends the run and drops whatever it listened for (waits, exit goals). False when it lost a race. */
async function tryEnd(tx: StorageTx, next: RunRecord): Promise<boolean> {
  if (!(await tx.updateRun(next, next.version))) return false
  await tx.deleteCorrelations(next.id)
  await tx.countRunEnded(next)
  return true
}

/** A worker ends the run it advances: at `end` (completed), an `exit` step, or a failed step. */
export async function endRun(tx: StorageTx, run: RunRecord, status: 'completed' | 'failed' | 'exited', now: Date, reason?: string): Promise<RunRecord> {
  const next = ended(run, status, now, reason)
  if (!(await tryEnd(tx, next))) throw new RunChanged()
  return { ...next, version: next.version + 1 }
}

/**
 * An event met one of the run's exit goals (in the ingest transaction): the run exits, and its
 * timeline says why. False when a worker moved the run meanwhile: the caller reads it again.
 */
export async function exitOnGoal(tx: StorageTx, run: RunRecord, now: Date, reason: string, event?: StoredEvent): Promise<boolean> {
  if (!(await tryEnd(tx, ended(run, 'exited', now, reason, 1)))) return false
  const at = now.toISOString()
  await tx.upsertStep({
    run_id: run.id,
    store_id: run.store_id,
    step_key: `exit#${run.state.seq}`,
    seq: run.state.seq,
    step_id: 'exit_when',
    type: 'exit',
    status: 'completed',
    attempts: 1,
    output: { reason, ...(event ? { event_id: event.id, event_type: event.type } : {}) },
    started_at: at,
    ended_at: at,
  })
  return true
}

/**
 * An event a run's wait_for listens for arrived (in the ingest transaction): the run is due now
 * and takes the event on its next step. False when a worker moved the run meanwhile.
 */
export async function signalWait(tx: StorageTx, run: RunRecord, eventSeq: number, now: Date): Promise<boolean> {
  if (!(await tx.updateRun({ ...run, signal_event_seq: eventSeq, due_at: now.toISOString() }, run.version))) return false
  await tx.deleteCorrelations(run.id, 'wait_for')
  return true
}

/**
 * Runs in id order: every transaction that writes several runs writes them in this order, so two
 * writing overlapping runs wait for each other instead of deadlocking (invariant 9).
 */
export function inIdOrder<R extends { id: string }>(runs: readonly R[]): R[] {
  return [...runs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * Lets go of runs a worker did not finish (its turn is used up): due again at once, for any
 * worker. A run that ended meanwhile is left as it is, and one that changed loses the write.
 */
export async function releaseRuns(tx: StorageTx, runIds: string[], now: Date): Promise<void> {
  for (const runId of [...runIds].sort()) {
    const fresh = await tx.getRun(runId)
    if (fresh && !isEnded(fresh)) await tx.updateRun({ ...fresh, lease_owner: null, due_at: now.toISOString() }, fresh.version)
  }
}

/** The exit goals of a workflow as correlations for a run of this customer (`*`: no customer). */
export function exitGoalCorrelations(
  workflow: CompiledWorkflow,
  customerKey: string | null,
): Array<{ eventType: string; key: string; purpose: 'exit_when'; ref: number }> {
  return (workflow.file.exit_when ?? []).map((g, i) => ({ eventType: g.event, key: customerKey ?? '*', purpose: 'exit_when' as const, ref: i }))
}

async function runOfStore(tx: StorageTx, storeId: string, runId: string): Promise<RunRecord> {
  const run = await tx.getRun(runId)
  if (!run || run.store_id !== storeId) throw new UserError(`run "${runId}" not found`, { code: 'not_found' })
  return run
}

/**
 * Cancel from the API. An ordinary versioned update, so a worker that holds the run at that
 * moment finds its version changed and lets go.
 */
export async function cancelRun(storage: Storage, clock: Clock, storeId: string, runId: string): Promise<void> {
  await storage.transaction(async (tx) => {
    const run = await runOfStore(tx, storeId, runId)
    if (!isActive(run)) throw new UserError(`run "${runId}" has already ended (${run.status})`, { code: 'conflict' })
    if (!(await tryEnd(tx, ended(run, 'cancelled', clock.now()))))
      throw new UserError(`run "${runId}" changed while cancelling; try again`, { code: 'conflict' })
  })
}

/**
 * cancel_runs: ends the customer's active runs that `filter` names, in id order (invariant 9), each
 * with the same versioned write as a cancel from the API. A run that changed meanwhile is left
 * to whoever moved it. Answers how many were cancelled.
 */
export async function cancelCustomerRuns(
  tx: StorageTx,
  storeId: string,
  customerKey: string,
  filter: { workflowIds?: string[]; exceptWorkflowId?: string; exceptRunId: string },
  now: Date,
): Promise<number> {
  let cancelled = 0
  for (const run of inIdOrder(await tx.activeRunsOfCustomer(storeId, customerKey))) {
    if (run.id === filter.exceptRunId) continue
    if (filter.workflowIds ? !filter.workflowIds.includes(run.workflow_id) : run.workflow_id === filter.exceptWorkflowId) continue
    if (await tryEnd(tx, ended(run, 'cancelled', now))) cancelled += 1
  }
  return cancelled
}

/**
 * A failed run continues from the step that failed, with a fresh attempt count. Its exit goals
 * listen again (they were dropped when it failed). Like a start, it makes no second active run of
 * its workflow for its customer (unless the workflow is `reentry.concurrent`): the store's router
 * row is locked first, as routing does, so a run the router starts meanwhile is seen.
 */
export async function retryRun(storage: Storage, clock: Clock, cache: WorkflowCache, storeId: string, runId: string): Promise<void> {
  await storage.transaction(async (tx) => {
    // taken for its lock only (routing takes it before it starts runs); the owner does not matter
    await tx.lockRouter(storeId, '')
    const run = await runOfStore(tx, storeId, runId)
    if (run.status !== 'failed') throw new UserError(`only failed runs can be retried; run "${runId}" is ${run.status}`, { code: 'conflict' })
    const compiled = await cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)
    if (run.customer_key && !(compiled?.file.reentry?.concurrent ?? false) && (await tx.activeRunWorkflows(storeId, run.customer_key)).has(run.workflow_id))
      throw new UserError(
        `run "${runId}" cannot be retried while its customer has another active run of workflow "${run.workflow_id}"; retry it once that run ends`,
        {
          code: 'conflict',
        },
      )
    const now = clock.now().toISOString()
    const ok = await tx.updateRun(
      { ...run, status: 'running', due_at: now, ended_at: null, lease_owner: null, state: { ...run.state, current: null, exitReason: undefined } },
      run.version,
    )
    if (!ok) throw new UserError(`run "${runId}" changed while retrying; try again`, { code: 'conflict' })
    await tx.countRunEnded(run, true)
    const workflow = await cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)
    await tx.deleteCorrelations(run.id, 'exit_when')
    await tx.addCorrelations(run.store_id, run.id, workflow ? exitGoalCorrelations(workflow, run.customer_key) : [])
  })
}
