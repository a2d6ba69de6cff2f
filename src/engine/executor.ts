import type { CanonicalEvent } from '../contracts/events.ts'
import { evaluateCondition, evaluateValue } from '../core/cel.ts'
import { renderInput } from '../core/render-input.ts'
import type { Instruction } from '../core/workflow/program.ts'
import { backoffDelay } from '../lib/backoff.ts'
import type { Clock } from '../lib/clock.ts'
import { isDatabaseUnavailable } from '../lib/db-errors.ts'
import { StoreflowError, UserError, errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/logger.ts'
import type { ActionCustomer, ActionDefinition, ActionStoreInfo } from '../plugin-api/define-action.ts'
import { DeferStep, PermanentError, RetryableError, SkipStep } from '../plugin-api/errors.ts'
import type { EmittedEvent } from '../plugin-api/services.ts'
import { unitHash } from './holdout.ts'
import type { RunRecord, RunState, Storage, StorageTx, StoreRecord, StepRecord } from './ports.ts'
import { buildScope, eventView } from './scope.ts'
import type { StoreCache } from './store-cache.ts'
import type { CompiledWorkflow, WorkflowCache } from './workflow-cache.ts'
import { resolveUntil } from './until.ts'
import { retryWhileDatabaseAway } from './outage.ts'

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
}

/** Default attempts for an action that does not say; the first counts. */
export const DEFAULT_MAX_ATTEMPTS = 5
/** Default first retry delay for an action that does not say, milliseconds; it doubles each attempt. */
export const DEFAULT_BASE_DELAY_MS = 1000
/** A run may take this many instructions per claim before yielding its lease to others. */
const MAX_INSTRUCTIONS_PER_TURN = 200
/** Instructions one transaction may carry for a run (control steps and internal actions). */
export const MAX_CHAIN = 50

/** Thrown inside a transaction when the run changed under us (exited, cancelled): rolls it back. */
export class RunChanged extends Error {}

/** This worker's lease on the run may lapse (it could not renew it): it lets the run be, unacted on. */
export class LeaseLapsing extends RunChanged {}

/**
 * How long, in real ms, the begin and the outcome of an external action are retried while the
 * database is away. The outcome is worth the longer wait: until it is recorded, the next attempt
 * would act again (with the same idempotency key).
 */
const BEGIN_OUTAGE_WAIT_MS = 5_000
const OUTCOME_OUTAGE_WAIT_MS = 30_000

/**
 * Advances one leased run until it waits, ends, or schedules a retry. Control steps and
 * internal actions are chained in one transaction each turn (their effects and the cursor
 * commit together); an external action gets its own begin / act / commit (ARCHITECTURE.md).
 */
export async function advanceRun(deps: ExecutorDeps, leased: RunRecord): Promise<void> {
  let run = leased
  let budget = MAX_INSTRUCTIONS_PER_TURN
  while (budget > 0) {
    const workflow = deps.cache.peek(run.store_id, run.workflow_id, run.workflow_version)
      ?? (await deps.storage.transaction((tx) => deps.cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)))
    let next: RunRecord | null
    try {
      if (!workflow) {
        next = await deps.storage.transaction((tx) => finish(tx, run, 'failed', deps.clock.now(), `workflow ${run.workflow_id} version ${run.workflow_version} not found`))
      } else if (isExternalAction(deps, workflow.program[run.state.pc])) {
        next = await runExternalAction(deps, run, workflow.program[run.state.pc] as ActionInstruction)
        budget -= 1
      } else {
        const chained = await runChain(deps, workflow, run, Math.min(MAX_CHAIN, budget))
        next = chained.run
        budget -= chained.steps
      }
    } catch (err) {
      if (err instanceof RunChanged) return
      throw err
    }
    if (!next || next.status === 'waiting' || isEnded(next) || (next.due_at !== null && next.due_at > deps.clock.now().toISOString())) return
    run = next
  }
  // yielded: let another claim continue it
  await deps.storage.transaction(async (tx) => {
    const fresh = await tx.getRun(run.id)
    if (fresh && !isEnded(fresh)) await tx.updateRun({ ...fresh, lease_owner: null, due_at: deps.clock.now().toISOString() }, fresh.version)
  })
}

export type ActionInstruction = Extract<Instruction, { op: 'action' }>

/**
 * The body of a chain, in a transaction the caller owns (the worker runs the chains of a whole
 * claimed batch in one transaction). Throws RunChanged or RetryOutside: the caller must then
 * roll back and fall back to advancing runs one by one.
 */
export async function chainInTx(deps: ExecutorDeps, tx: StorageTx, workflow: CompiledWorkflow, leased: RunRecord, limit: number, options: { trusted?: boolean } = {}): Promise<{ run: RunRecord; steps: number }> {
  // trusted: the caller has just read or written this run; if anyone changed it since, the
  // first versioned write fails with RunChanged, so re-reading it here would only cost time
  const fresh = options.trusted ? leased : await tx.getRun(leased.id)
  if (!fresh || fresh.version !== leased.version || isEnded(fresh)) throw new RunChanged()
  let run: RunRecord = fresh
  let steps = 0
  while (steps < limit) {
    const instr: Instruction | undefined = workflow.program[run.state.pc]
    if (!instr) return { run: await finish(tx, run, 'failed', deps.clock.now(), `cursor ${run.state.pc} is outside the program`), steps: steps + 1 }
    if (isExternalAction(deps, instr)) break
    run = instr.op === 'action' ? await internalAction(deps, tx, run, instr) : await controlStep(deps, tx, workflow, run, instr)
    steps += 1
    if (stops(run, deps.clock.now())) break
  }
  return { run, steps }
}

export function isExternalAction(deps: ExecutorDeps, instr: Instruction | undefined): boolean {
  return instr?.op === 'action' && deps.actions.get(instr.action)?.effects === 'external'
}

export function stops(run: RunRecord, now: Date): boolean {
  return run.status === 'waiting' || isEnded(run) || (run.due_at !== null && run.due_at > now.toISOString())
}

/**
 * Runs instructions in one transaction while they are control steps or internal actions, up to
 * `limit`. An internal action that fails unexpectedly may have left partial writes: the whole
 * chain rolls back and is redone one instruction at a time, so its failure is recorded alone.
 */
async function runChain(deps: ExecutorDeps, workflow: CompiledWorkflow, leased: RunRecord, limit: number): Promise<{ run: RunRecord; steps: number }> {
  try {
    return await deps.storage.transaction((tx) => chainInTx(deps, tx, workflow, leased, limit))
  } catch (err) {
    if (!(err instanceof RetryOutside)) throw err
    if (limit > 1) return runChain(deps, workflow, leased, 1)
    // alone now: the failed instruction is at the cursor; record the failure in a fresh transaction
    return deps.storage.transaction(async (tx) => {
      const fresh = await tx.getRun(leased.id)
      if (!fresh || fresh.version !== leased.version || isEnded(fresh)) throw new RunChanged()
      return { run: await commitActionOutcome(deps, tx, fresh, err.instr, err.attempts, err.outcome), steps: 1 }
    })
  }
}

export function isEnded(run: RunRecord): boolean {
  return run.status === 'completed' || run.status === 'exited' || run.status === 'failed' || run.status === 'cancelled'
}

function stepKey(id: string, state: RunState): string {
  return state.loops.length === 0 ? id : `${id}#${state.loops.map((l) => l.index).join('.')}`
}

function locals(state: RunState): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const frame of state.loops) out[frame.as] = frame.items[frame.index] ?? null
  return out
}

async function scopeFor(deps: ExecutorDeps, tx: StorageTx, run: RunRecord): Promise<Record<string, unknown>> {
  const trigger = await tx.getEvent(run.trigger_event_seq)
  if (!trigger) throw new Error(`trigger event ${run.trigger_event_seq} of run ${run.id} is missing`)
  const current = run.state.eventSeq ? ((await tx.getEvent(run.state.eventSeq)) ?? trigger) : trigger
  return buildScope(tx, {
    storeId: run.store_id,
    event: current,
    trigger,
    customerKey: run.customer_key,
    outputs: run.state.outputs,
    locals: locals(run.state),
    now: deps.clock.now(),
  }, deps.stores)
}

async function save(tx: StorageTx, run: RunRecord, expectedVersion: number): Promise<RunRecord> {
  if (!(await tx.updateRun(run, expectedVersion))) throw new RunChanged()
  return { ...run, version: expectedVersion + 1 }
}

export async function finish(tx: StorageTx, run: RunRecord, status: 'completed' | 'failed' | 'exited', now: Date, reason?: string): Promise<RunRecord> {
  const ended = await save(tx, {
    ...run,
    status,
    due_at: null,
    ended_at: now.toISOString(),
    lease_owner: null,
    signal_event_seq: null,
    state: { ...run.state, current: null, ...(reason ? { exitReason: reason } : {}) },
  }, run.version)
  await tx.deleteCorrelations(run.id)
  return ended
}

function record(run: RunRecord, instr: { id: string }, type: string, fields: Partial<StepRecord> & Pick<StepRecord, 'status'>, now: Date): StepRecord {
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

function moveTo(run: RunRecord, pc: number, patch: Partial<RunState> = {}, output?: { id: string; value: unknown }): RunRecord {
  const outputs = output ? { ...run.state.outputs, [output.id]: output.value } : run.state.outputs
  return { ...run, status: 'running', state: { ...run.state, ...patch, pc, outputs, seq: run.state.seq + 1, current: null } }
}

async function controlStep(deps: ExecutorDeps, tx: StorageTx, workflow: CompiledWorkflow, run: RunRecord, instr: Exclude<Instruction, { op: 'action' }>): Promise<RunRecord> {
  const now = deps.clock.now()
  switch (instr.op) {
    case 'goto':
      return save(tx, { ...run, state: { ...run.state, pc: instr.to } }, run.version)
    case 'end':
      return finish(tx, run, 'completed', now)
    case 'exit': {
      await tx.upsertStep(record(run, instr, 'exit', { status: 'completed', output: { reason: instr.reason } }, now))
      return finish(tx, run, 'exited', now, instr.reason)
    }
    case 'if': {
      const result = evaluateCondition(workflow.cel(instr.cond), await scopeFor(deps, tx, run))
      await tx.upsertStep(record(run, instr, 'if', { status: 'completed', input: { condition: instr.cond }, output: { result, branch: result ? 'then' : 'else' } }, now))
      return save(tx, moveTo(run, result ? instr.then : instr.else), run.version)
    }
    case 'split': {
      // deterministic per run and step: a retried or resumed run takes the same branch
      const total = instr.variants.reduce((n, v) => n + v.weight, 0)
      let point = unitHash(`${run.id}:${stepKey(instr.id, run.state)}`) * total
      const chosen = instr.variants.find((v) => (point -= v.weight) < 0) ?? instr.variants[instr.variants.length - 1]!
      await tx.upsertStep(record(run, instr, 'split', { status: 'completed', output: { variant: chosen.id } }, now))
      return save(tx, moveTo(run, chosen.start, {}, { id: instr.id, value: { variant: chosen.id } }), run.version)
    }
    case 'for_each': {
      const value = evaluateValue(workflow.cel(instr.list), await scopeFor(deps, tx, run))
      const items = Array.isArray(value) ? value : []
      await tx.upsertStep(record(run, instr, 'for_each', { status: 'completed', input: { list: instr.list }, output: { count: items.length } }, now))
      if (items.length === 0) return save(tx, moveTo(run, instr.end), run.version)
      return save(tx, moveTo(run, instr.body, { loops: [...run.state.loops, { at: run.state.pc, items, index: 0, as: instr.as }] }), run.version)
    }
    case 'loop_next': {
      const loops = [...run.state.loops]
      const frame = loops.pop()
      const head = workflow.program[instr.start]
      if (!frame || !head || head.op !== 'for_each') throw new Error(`loop frame missing at ${run.state.pc}`)
      if (frame.index + 1 < frame.items.length) {
        return save(tx, { ...run, state: { ...run.state, pc: head.body, loops: [...loops, { ...frame, index: frame.index + 1 }] } }, run.version)
      }
      return save(tx, { ...run, state: { ...run.state, pc: head.end, loops } }, run.version)
    }
    case 'wait':
      return waitStep(deps, tx, run, instr, now)
    case 'wait_for':
      return waitForStep(deps, tx, workflow, run, instr, now)
  }
}

async function waitStep(deps: ExecutorDeps, tx: StorageTx, run: RunRecord, instr: Extract<Instruction, { op: 'wait' }>, now: Date): Promise<RunRecord> {
  if (!run.state.waitUntil) {
    const scope = await scopeFor(deps, tx, run)
    const wake = instr.duration !== undefined
      ? new Date(now.getTime() + instr.duration)
      : resolveUntil(instr.until!, instr.timezone, scope, now)
    await tx.upsertStep(record(run, instr, 'wait', { status: 'waiting', input: instr.duration !== undefined ? { duration_ms: instr.duration } : { until: instr.until }, wake_at: wake.toISOString() }, now))
    return save(tx, { ...run, status: 'waiting', due_at: wake.toISOString(), lease_owner: null, state: { ...run.state, waitUntil: wake.toISOString() } }, run.version)
  }
  if (now.toISOString() < run.state.waitUntil) {
    return save(tx, { ...run, status: 'waiting', due_at: run.state.waitUntil, lease_owner: null }, run.version)
  }
  await tx.upsertStep(record(run, instr, 'wait', { status: 'completed', wake_at: run.state.waitUntil, output: { woke_at: now.toISOString() } }, now))
  return save(tx, moveTo(run, instr.next, { waitUntil: null }), run.version)
}

async function waitForStep(deps: ExecutorDeps, tx: StorageTx, workflow: CompiledWorkflow, run: RunRecord, instr: Extract<Instruction, { op: 'wait_for' }>, now: Date): Promise<RunRecord> {
  const received = async (eventSeq: number): Promise<RunRecord> => {
    const event = await tx.getEvent(eventSeq)
    await tx.deleteCorrelations(run.id, 'wait_for')
    await tx.upsertStep(record(run, instr, 'wait_for', { status: 'completed', output: { received: true, event_id: event?.id ?? null, event_type: instr.event } }, now))
    const consumed = [...(run.state.consumed ?? []), eventSeq]
    return save(tx, { ...moveTo(run, instr.received, { waitUntil: null, eventSeq, consumed }, { id: instr.id, value: { received: true, event: event?.data ?? null } }), signal_event_seq: null }, run.version)
  }
  if (run.signal_event_seq !== null) return received(run.signal_event_seq)

  // look back: an event that raced ahead of this wait (arrived after the trigger) still counts
  const earlier = await lookBack(deps, tx, workflow, run, instr)
  if (earlier !== null) return received(earlier)

  if (!run.state.waitUntil) {
    const until = new Date(now.getTime() + instr.timeout).toISOString()
    await tx.addCorrelations(run.store_id, run.id, [{ eventType: instr.event, key: run.customer_key ?? '*', purpose: 'wait_for', ref: run.state.pc }])
    await tx.upsertStep(record(run, instr, 'wait_for', { status: 'waiting', input: { event: instr.event, match: instr.match ?? null }, wake_at: until }, now))
    return save(tx, { ...run, status: 'waiting', due_at: until, lease_owner: null, state: { ...run.state, waitUntil: until } }, run.version)
  }
  if (now.toISOString() < run.state.waitUntil) {
    return save(tx, { ...run, status: 'waiting', due_at: run.state.waitUntil, lease_owner: null }, run.version)
  }
  await tx.deleteCorrelations(run.id, 'wait_for')
  await tx.upsertStep(record(run, instr, 'wait_for', { status: 'completed', output: { received: false, timed_out: true }, wake_at: run.state.waitUntil }, now))
  return save(tx, moveTo(run, instr.timedOut, { waitUntil: null }, { id: instr.id, value: { received: false } }), run.version)
}

async function lookBack(deps: ExecutorDeps, tx: StorageTx, workflow: CompiledWorkflow, run: RunRecord, instr: Extract<Instruction, { op: 'wait_for' }>): Promise<number | null> {
  const candidates = await tx.findEventsAfter(run.store_id, instr.event, run.customer_key, run.trigger_event_seq, 100)
  if (candidates.length === 0) return null
  const base = await scopeFor(deps, tx, run)
  const consumed = new Set(run.state.consumed ?? [])
  for (const event of candidates) {
    if (consumed.has(event.seq)) continue
    if (!instr.match || evaluateCondition(workflow.cel(instr.match), { ...base, event: eventView(event) })) {
      return event.seq
    }
  }
  return null
}

type Outcome =
  | { kind: 'done'; output: unknown; input: unknown }
  | { kind: 'skip'; reason: string; output: unknown; input: unknown }
  | { kind: 'defer'; until: Date; reason: string; input: unknown }
  | { kind: 'error'; err: unknown; input: unknown }

/** An internal action inside the chain's transaction: its writes and the cursor commit together. */
async function internalAction(deps: ExecutorDeps, tx: StorageTx, run: RunRecord, instr: ActionInstruction): Promise<RunRecord> {
  const key = stepKey(instr.id, run.state)
  const attempts = (run.state.current?.key === key ? run.state.current.attempts : 0) + 1
  const action = deps.actions.get(instr.action)
  if (!action) return failStep(tx, run, instr, key, `unknown action "${instr.action}"`, attempts, deps.clock.now(), null)
  const scope = await scopeFor(deps, tx, run)
  const outcome = await attemptAction(deps, tx, run, instr, action, scope, attempts)
  // an unexpected error may have left partial writes in this transaction: roll it all back
  if (outcome.kind === 'error' && !(outcome.err instanceof StoreflowError)) throw new RetryOutside(instr, attempts, outcome)
  return commitActionOutcome(deps, tx, run, instr, attempts, outcome)
}

/**
 * An external action: commit "attempt n started" before acting, so that a crash mid-call is
 * seen on restart; act outside any transaction; commit the outcome with the cursor.
 */
export async function runExternalAction(deps: ExecutorDeps, leased: RunRecord, instr: ActionInstruction): Promise<RunRecord | null> {
  const action = deps.actions.get(instr.action)!
  const key = stepKey(instr.id, leased.state)
  await checkLease(deps, leased, key)
  // repeatable: the begin re-reads the run and writes it only at the version this worker holds,
  // so if a cut-off COMMIT did land, the repeat finds a newer version and gives up
  const begin = await retryWhileDatabaseAway(() => deps.storage.transaction(async (tx) => {
    const run = await tx.getRun(leased.id)
    if (!run || run.version !== leased.version || isEnded(run)) throw new RunChanged()
    const now = deps.clock.now()
    const interrupted = run.state.current?.key === key
    const attempts = (interrupted ? run.state.current!.attempts : 0) + 1
    if (interrupted && !action.retry.safe && !run.state.current?.settled) {
      const message = `interrupted during attempt ${run.state.current!.attempts}: the outcome is unknown and ${instr.action} is not safe to repeat`
      return { run: await failStep(tx, run, instr, key, message, attempts - 1, now, null), scope: null, attempts }
    }
    const scope = await scopeFor(deps, tx, run)
    const startedAt = run.state.current?.startedAt ?? now.toISOString()
    await tx.upsertStep({ ...record(run, instr, instr.action, { status: 'running', attempts }, now), started_at: startedAt })
    const saved = await save(tx, { ...run, status: 'running', state: { ...run.state, current: { key, attempts, startedAt } } }, run.version)
    return { run: saved, scope, attempts }
  }), BEGIN_OUTAGE_WAIT_MS)
  if (!begin.scope) return begin.run
  const { run, scope, attempts } = begin
  // the begin may have waited out an outage during which the heartbeat failed: look again
  await checkLease(deps, run, key)
  const outcome = await attemptAction(deps, null, run, instr, action, scope, attempts)
  // repeatable for the same reason; and safe after the lease lapsed: if another worker has moved
  // the run since, the version differs and this outcome is not written over its work
  return retryWhileDatabaseAway(() => deps.storage.transaction(async (tx) => {
    const fresh = await tx.getRun(run.id)
    if (!fresh || fresh.version !== run.version || isEnded(fresh)) {
      // the run ended meanwhile (exit goal, cancel): keep the record of what the action did
      if (outcome.kind === 'done') await tx.upsertStep({ ...record(run, instr, instr.action, { status: 'completed', attempts }, deps.clock.now()), input: outcome.input, output: outcome.output })
      throw new RunChanged()
    }
    return commitActionOutcome(deps, tx, fresh, instr, attempts, outcome)
  }), OUTCOME_OUTAGE_WAIT_MS)
}

/** Before acting outside: is the lease surely this worker's for long enough? (invariant 9) */
async function checkLease(deps: ExecutorDeps, run: RunRecord, key: string): Promise<void> {
  if (!deps.holdLease || (await deps.holdLease(run.id))) return
  deps.log.warn({ runId: run.id, step: key }, 'lease could not be renewed; leaving the run to the next claim')
  throw new LeaseLapsing()
}

async function attemptAction(deps: ExecutorDeps, tx: StorageTx | null, run: RunRecord, instr: ActionInstruction, action: ActionDefinition, scope: Record<string, unknown>, attempts: number): Promise<Outcome> {
  const key = stepKey(instr.id, run.state)
  let input: unknown = instr.with
  try {
    try {
      input = await renderInput(instr.with, scope, new Set(action.rawFields ?? []))
    } catch (err) {
      // the author's template failed or hit a limit: the same scope fails the same way again
      if (err instanceof UserError) throw new PermanentError(`input of ${instr.action} could not be rendered: ${err.message}`, { cause: err })
      throw err
    }
    const parsed = action.input.safeParse(input)
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${['with', ...i.path].join('.')}: ${i.message}`).join('; ')
      throw new PermanentError(`input of ${instr.action} is invalid: ${issues}`)
    }
    const services = tx ? tx.services(run.store_id, (e) => deps.emit(run.store_id, e, tx)) : deps.storage.services(run.store_id, (e) => deps.emit(run.store_id, e, null))
    const store = (scope.store as ActionStoreInfo | null) ?? { id: run.store_id, name: run.store_id, currency: 'USD', timezone: 'UTC', settings: {} }
    const output = await action.run({
      input: parsed.data,
      idempotencyKey: `${run.id}:${key}`,
      run: { id: run.id, workflowId: run.workflow_id, workflowVersion: run.workflow_version, stepKey: key, attempt: attempts, maxAttempts: action.retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS },
      store,
      customer: toActionCustomer(scope.customer as Record<string, unknown> | null),
      scope,
      clock: deps.clock,
      log: deps.log.child({ runId: run.id, step: key }),
      services,
      dryRun: deps.dryRun === true && action.effects === 'external',
    })
    return { kind: 'done', output: output ?? {}, input: parsed.data }
  } catch (err) {
    if (err instanceof SkipStep) return { kind: 'skip', reason: err.reason, output: { skipped: true, reason: err.reason, ...err.output }, input }
    if (err instanceof DeferStep) return { kind: 'defer', until: err.until, reason: err.reason, input }
    return { kind: 'error', err, input }
  }
}

/** Records an attempt's outcome on the timeline and moves the cursor (or schedules the retry). */
async function commitActionOutcome(deps: ExecutorDeps, tx: StorageTx, current: RunRecord, instr: ActionInstruction, attempts: number, outcome: Outcome): Promise<RunRecord> {
  const action = deps.actions.get(instr.action)
  const key = stepKey(instr.id, current.state)
  const now = deps.clock.now()
  const startedAt = current.state.current?.key === key ? current.state.current.startedAt : now.toISOString()
  const base = { ...record(current, instr, instr.action, { status: 'completed', attempts }, now), started_at: startedAt, input: outcome.input }
  switch (outcome.kind) {
    case 'done':
      await tx.upsertStep({ ...base, status: 'completed', output: outcome.output, error: null })
      return save(tx, moveTo(current, instr.next, {}, { id: instr.id, value: outcome.output }), current.version)
    case 'skip':
      await tx.upsertStep({ ...base, status: 'skipped', output: outcome.output, error: null })
      return save(tx, moveTo(current, instr.next, {}, { id: instr.id, value: outcome.output }), current.version)
    case 'defer':
      // not a failure: the step waits (quiet hours) and is attempted afresh at `until`
      await tx.upsertStep({ ...base, status: 'waiting', attempts: attempts - 1, error: outcome.reason, wake_at: outcome.until.toISOString(), ended_at: null })
      return save(tx, { ...current, status: 'waiting', due_at: outcome.until.toISOString(), lease_owner: null, state: { ...current.state, current: null } }, current.version)
    case 'error': {
      const err = outcome.err
      const message = errorMessage(err)
      if (err instanceof PermanentError || attempts >= (action?.retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
        deps.log.warn({ runId: current.id, step: key, attempts, err: message }, 'step failed')
        return failStep(tx, current, instr, key, message, attempts, now, outcome.input, startedAt)
      }
      const delay = err instanceof RetryableError && err.retryAfterMs !== undefined
        ? err.retryAfterMs
        // our own database was away, not the action's service: try again soon
        : isDatabaseUnavailable(err) ? backoffDelay(attempts, { baseMs: 1000, maxMs: 30_000 })
        : backoffDelay(attempts, { baseMs: action?.retry.baseDelayMs ?? DEFAULT_BASE_DELAY_MS })
      const wake = new Date(now.getTime() + delay).toISOString()
      await tx.upsertStep({ ...base, status: 'retrying', error: message, wake_at: wake, ended_at: null })
      deps.log.info({ runId: current.id, step: key, attempts, wakeAt: wake }, 'step will retry')
      // settled: this attempt's outcome is known (it failed), so the next one is not a blind repeat
      return save(tx, { ...current, status: 'running', due_at: wake, lease_owner: null, state: { ...current.state, current: { key, attempts, startedAt, settled: true } } }, current.version)
    }
  }
}

class RetryOutside extends Error {
  constructor(readonly instr: ActionInstruction, readonly attempts: number, readonly outcome: Outcome) {
    super('unexpected error in an internal action')
  }
}

async function failStep(tx: StorageTx, run: RunRecord, instr: { id: string; action: string }, key: string, message: string, attempts: number, now: Date, input: unknown, startedAt?: string): Promise<RunRecord> {
  await tx.upsertStep({
    ...record(run, instr, instr.action, { status: 'failed', attempts }, now),
    step_key: key,
    input: input ?? undefined,
    error: message,
    started_at: startedAt ?? now.toISOString(),
  })
  return finish(tx, { ...run, state: { ...run.state, seq: run.state.seq + 1 } }, 'failed', now, message)
}

function toActionCustomer(view: Record<string, unknown> | null): ActionCustomer | null {
  if (!view) return null
  return {
    ...view,
    key: String(view.key),
    id: (view.id as string | null) ?? null,
    email: (view.email as string | null) ?? null,
    phone: (view.phone as string | null) ?? null,
    first_name: (view.first_name as string | null) ?? null,
    last_name: (view.last_name as string | null) ?? null,
    accepts_marketing: view.accepts_marketing === true,
    unsubscribed_at: (view.unsubscribed_at as string | null) ?? null,
    timezone: (view.timezone as string | null) ?? null,
    tags: (view.tags as string[]) ?? [],
  }
}

export type { CanonicalEvent }
