import type { Instruction } from '../core/workflow/program.ts'
import { isDatabaseUnavailable } from '../lib/db-errors.ts'
import { RetryOutside, internalAction, isExternalAction, recordAlone } from './action-protocol.ts'
import { retryWhileDatabaseAway } from './outage.ts'
import type { RunRecord, StorageTx } from './ports.ts'
import { RunChanged, endRun, inIdOrder, isEnded } from './run-lifecycle.ts'
import type { ExecutorDeps } from './step-kit.ts'
import { runControlStep } from './steps/index.ts'
import type { CompiledWorkflow } from './workflow-cache.ts'
import { writeBehind } from './write-behind.ts'
import { batchReads } from './batch-reads.ts'

/**
 * A chain: a run's control steps and internal actions, one after another in one transaction,
 * until the run waits, ends, is due later or reaches an external action (invariant 7). A claimed
 * batch chains all its runs in one shared transaction (`chainTogether`); when that has to roll
 * back, each run chains in its own (`chainAlone`).
 */

/** Instructions one transaction may carry for a run. */
export const MAX_CHAIN = 50

/** How long a batch's shared transaction is retried while the database is away; real ms. */
const BATCH_OUTAGE_WAIT_MS = 5_000

/** A run after its chain; `moved` is false when it was already at an external action and left untouched. */
export interface Chained {
  run: RunRecord
  moved: boolean
}

/** Whether the run is done for this turn: waiting, ended, or due later. */
export function stops(run: RunRecord, now: Date): boolean {
  return run.status === 'waiting' || isEnded(run) || (run.due_at !== null && run.due_at > now.toISOString())
}

function workflowMissing(run: RunRecord): string {
  return `workflow ${run.workflow_id} version ${run.workflow_version} not found`
}

/**
 * The body of a chain, in a transaction the caller owns. Throws RunChanged or RetryOutside: the
 * caller must then roll back (and, for RetryOutside, record the failed action alone).
 */
export async function chainInTx(
  deps: ExecutorDeps,
  tx: StorageTx,
  workflow: CompiledWorkflow,
  leased: RunRecord,
  limit: number,
  options: { trusted?: boolean } = {},
): Promise<{ run: RunRecord; steps: number }> {
  // trusted: the caller has just read or written this run; if anyone changed it since, the
  // first versioned write fails with RunChanged, so re-reading it here would only cost time
  const fresh = options.trusted ? leased : await tx.getRun(leased.id)
  if (!fresh || fresh.version !== leased.version || isEnded(fresh)) throw new RunChanged()
  let run: RunRecord = fresh
  let steps = 0
  while (steps < limit) {
    const instr: Instruction | undefined = workflow.program[run.state.pc]
    if (!instr) return { run: await endRun(tx, run, 'failed', deps.clock.now(), `cursor ${run.state.pc} is outside the program`), steps: steps + 1 }
    if (isExternalAction(deps, instr)) break
    const started = performance.now()
    run = instr.op === 'action' ? await internalAction(deps, tx, run, instr) : await runControlStep({ deps, tx, workflow, run, now: deps.clock.now() }, instr)
    if (instr.op !== 'goto' && instr.op !== 'end') deps.timed?.(instr.op === 'action' ? instr.action : instr.op, (performance.now() - started) / 1000)
    steps += 1
    if (stops(run, deps.clock.now())) break
  }
  return { run, steps }
}

/**
 * Every run's chain in one transaction (group commit, as for ingest); runs are written in id
 * order. What the runs' steps read and write goes set-based: their trigger events, customers and
 * orders are read for the batch at once (batch-reads.ts), their writes sent together at the end
 * (write-behind.ts). Null when that transaction had to roll back (a race with ingest, a run
 * that changed under the batch, an unexpected error).
 */
export async function chainTogether(deps: ExecutorDeps, runs: RunRecord[]): Promise<Chained[] | null> {
  const order = inIdOrder(runs)
  try {
    // repeatable: if a cut-off COMMIT did land, the repeat's versioned writes lose to it
    const byId = await retryWhileDatabaseAway(
      () =>
        deps.storage.transaction(async (rawTx) => {
          const behind = writeBehind(rawTx, new Set(runs.map((r) => r.id)))
          const tx = await batchReads(behind.tx, runs)
          const out = new Map<string, Chained>()
          for (const run of order) {
            const workflow = await deps.cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)
            if (!workflow) out.set(run.id, { run: await endRun(tx, run, 'failed', deps.clock.now(), workflowMissing(run)), moved: true })
            else if (isExternalAction(deps, workflow.program[run.state.pc])) out.set(run.id, { run, moved: false })
            else out.set(run.id, { run: (await chainInTx(deps, tx, workflow, run, MAX_CHAIN, { trusted: true })).run, moved: true })
          }
          await behind.flush()
          return out
        }),
      BATCH_OUTAGE_WAIT_MS,
    )
    return runs.map((r) => byId.get(r.id)!)
  } catch (err) {
    // still away: the batch is left for a later tick, not chained run by run (each would wait again)
    if (isDatabaseUnavailable(err)) throw err
    deps.log.debug({ err: (err as Error).message, runs: runs.length }, 'batch rolled back; advancing runs one by one')
    return null
  }
}

/** One run's chain in its own transaction. Throws RunChanged when the run changed under us. */
export async function chainAlone(deps: ExecutorDeps, run: RunRecord): Promise<Chained> {
  const workflow =
    deps.cache.peek(run.store_id, run.workflow_id, run.workflow_version) ??
    (await deps.storage.transaction((tx) => deps.cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)))
  if (!workflow) return { run: await deps.storage.transaction((tx) => endRun(tx, run, 'failed', deps.clock.now(), workflowMissing(run))), moved: true }
  if (isExternalAction(deps, workflow.program[run.state.pc])) return { run, moved: false }
  return { run: await chainWithFallback(deps, workflow, run, MAX_CHAIN), moved: true }
}

/**
 * An internal action that fails unexpectedly may have left partial writes: the whole chain rolls
 * back and is redone one instruction at a time, so its failure is recorded alone.
 */
async function chainWithFallback(deps: ExecutorDeps, workflow: CompiledWorkflow, leased: RunRecord, limit: number): Promise<RunRecord> {
  try {
    return (await deps.storage.transaction((tx) => chainInTx(deps, tx, workflow, leased, limit))).run
  } catch (err) {
    if (!(err instanceof RetryOutside)) throw err
    if (limit > 1) return chainWithFallback(deps, workflow, leased, 1)
    // alone now: the failed instruction is at the cursor; record the failure in a fresh transaction
    return deps.storage.transaction(async (tx) => {
      const fresh = await tx.getRun(leased.id)
      if (!fresh || fresh.version !== leased.version || isEnded(fresh)) throw new RunChanged()
      return recordAlone(deps, tx, fresh, err)
    })
  }
}
