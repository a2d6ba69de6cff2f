import type { Instruction } from '../core/workflow/program.ts'
import type { Clock } from '../lib/clock.ts'
import type { Logger } from '../lib/logger.ts'
import type { ActionDefinition } from '../plugin-api/define-action.ts'
import type { EmittedEvent } from '../plugin-api/services.ts'
import type { RunRecord, RunState, Storage, StorageTx, StepRecord } from './ports.ts'
import { buildScope } from './scope.ts'
import type { StoreCache } from './store-cache.ts'
import type { CompiledWorkflow, WorkflowCache } from './workflow-cache.ts'

/**
 * What every step uses, control step or action: what advancing a run needs, the step's key
 * and scope, its record on the run's timeline, and moving the cursor past it.
 */
export interface ExecutorDeps {
  storage: Storage
  cache: WorkflowCache
  clock: Clock
  log: Logger
  actions: ReadonlyMap<string, ActionDefinition>
  /** ingests an event emitted by an action (emit_event), in the given transaction when there is one */
  emit(storeId: string, event: EmittedEvent, tx: StorageTx | null): Promise<{ id: string; duplicate: boolean }>
  stores: StoreCache
  /** simulate: external actions run with dryRun and must not touch the outside world */
  dryRun?: boolean
  /**
   * Whether this worker's lease on the run is surely its own long enough to begin an external
   * action, renewing it if need be (a worker's tick supplies it; ARCHITECTURE.md invariant 9)
   */
  holdLease?(runId: string): Promise<boolean>
  /** a step of `kind` took `seconds` (real time): the engine's step listeners hear of it */
  timed?(kind: string, seconds: number): void
}

/** A control step's view of its moment: one run, at one instruction, in the chain's transaction. */
export interface StepContext {
  deps: ExecutorDeps
  tx: StorageTx
  workflow: CompiledWorkflow
  run: RunRecord
  now: Date
}

export type ControlInstruction = Exclude<Instruction, { op: 'action' }>

/** How one kind of control instruction moves a run: its effect and the written run, in ctx.tx. */
export type ControlStep<Op extends ControlInstruction['op']> = (ctx: StepContext, instr: Extract<ControlInstruction, { op: Op }>) => Promise<RunRecord>

/** A step's key on the timeline: its id, and inside loops the iteration (`send#2.0`). */
export function stepKey(id: string, state: RunState): string {
  return state.loops.length === 0 ? id : `${id}#${state.loops.map((l) => l.index).join('.')}`
}

function locals(state: RunState): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const frame of state.loops) out[frame.as] = frame.items[frame.index] ?? null
  return out
}

/** What conditions and templates see at the run's cursor (`event`, `trigger`, `steps`, loop items). */
export async function scopeFor(deps: ExecutorDeps, tx: StorageTx, run: RunRecord): Promise<Record<string, unknown>> {
  const trigger = await tx.getEvent(run.trigger_event_seq)
  if (!trigger) throw new Error(`trigger event ${run.trigger_event_seq} of run ${run.id} is missing`)
  const current = run.state.eventSeq ? ((await tx.getEvent(run.state.eventSeq)) ?? trigger) : trigger
  // the run's own version: its vars are the ones it started with (a cache hit once compiled)
  const workflow = await deps.cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)
  return buildScope(
    tx,
    {
      storeId: run.store_id,
      event: current,
      trigger,
      customerKey: run.customer_key,
      outputs: run.state.outputs,
      locals: locals(run.state),
      vars: workflow?.file.vars,
      now: deps.clock.now(),
    },
    deps.stores,
  )
}

/** The step's row on the run's timeline, at the run's current sequence number. */
export function record(run: RunRecord, instr: { id: string }, type: string, fields: Partial<StepRecord> & Pick<StepRecord, 'status'>, now: Date): StepRecord {
  return {
    run_id: run.id,
    store_id: run.store_id,
    step_key: stepKey(instr.id, run.state),
    seq: run.state.seq,
    step_id: instr.id,
    type,
    attempts: 1,
    started_at: now.toISOString(),
    ended_at: fields.status === 'completed' || fields.status === 'skipped' || fields.status === 'failed' ? now.toISOString() : null,
    ...fields,
  }
}

/** Past a finished step: the cursor at `pc`, the timeline one on, the step's output kept. */
export function moveTo(run: RunRecord, pc: number, patch: Partial<RunState> = {}, output?: { id: string; value: unknown }): RunRecord {
  const outputs = output ? { ...run.state.outputs, [output.id]: output.value } : run.state.outputs
  return { ...run, status: 'running', state: { ...run.state, ...patch, pc, outputs, seq: run.state.seq + 1, current: null } }
}
