import { renderInput } from '../core/render-input.ts'
import { withRunControl } from './run-control.ts'
import type { Instruction } from '../core/workflow/program.ts'
import { backoffDelay } from '../lib/backoff.ts'
import { isDatabaseUnavailable } from '../lib/db-errors.ts'
import { StoreflowError, UserError, errorMessage } from '../lib/errors.ts'
import type { ActionCustomer, ActionDefinition, ActionStoreInfo } from '../plugin-api/define-action.ts'
import { DeferStep, PermanentError, RetryableError, SkipStep } from '../plugin-api/errors.ts'
import { commitWithOthers } from './commit-group.ts'
import type { RunRecord, StorageTx } from './ports.ts'
import { RunChanged, endRun, isEnded, parked, retryLater, saveRun } from './run-lifecycle.ts'
import { moveTo, record, scopeFor, stepKey, type ExecutorDeps } from './step-kit.ts'

/**
 * The action protocol: how an action step is attempted, and its outcome recorded.
 * - An internal action (`effects: 'internal'`) runs inside the chain's transaction: its writes
 *   and the cursor commit together (invariant 10).
 * - An external action commits "attempt n started" first, acts outside any transaction, then
 *   commits its outcome; an attempt found started is repeated only when the action is safe to
 *   repeat, else its outcome is unknown (invariant 11).
 * - A transient failure schedules the next attempt as a row, with backoff (invariant 12).
 */

export type ActionInstruction = Extract<Instruction, { op: 'action' }>

/** Default attempts for an action that does not say; the first counts. */
export const DEFAULT_MAX_ATTEMPTS = 5
/** Default first retry delay for an action that does not say, milliseconds; it doubles each attempt. */
export const DEFAULT_BASE_DELAY_MS = 1000

/** This worker's lease on the run may lapse (it could not renew it): it lets the run be, unacted on. */
export class LeaseLapsing extends RunChanged {}

/**
 * How long, in real ms, the begin and the outcome of an external action are retried while the
 * database is away. The outcome is worth the longer wait: until it is recorded, the next attempt
 * would act again (with the same idempotency key).
 */
const BEGIN_OUTAGE_WAIT_MS = 5_000
const OUTCOME_OUTAGE_WAIT_MS = 30_000

type Outcome =
  | { kind: 'done'; output: unknown; input: unknown }
  | { kind: 'skip'; reason: string; output: unknown; input: unknown }
  | { kind: 'defer'; until: Date; reason: string; input: unknown }
  | { kind: 'error'; err: unknown; input: unknown }

export function isExternalAction(deps: ExecutorDeps, instr: Instruction | undefined): boolean {
  return instr?.op === 'action' && deps.actions.get(instr.action)?.effects === 'external'
}

/**
 * An internal action failed unexpectedly and may have left partial writes in the chain's
 * transaction: the caller rolls it back and records the outcome alone (`recordAlone`).
 */
export class RetryOutside extends Error {
  constructor(
    readonly instr: ActionInstruction,
    readonly attempts: number,
    readonly outcome: Outcome,
  ) {
    super('unexpected error in an internal action')
  }
}

/** An internal action inside the chain's transaction: its writes and the cursor commit together. */
export async function internalAction(deps: ExecutorDeps, tx: StorageTx, run: RunRecord, instr: ActionInstruction): Promise<RunRecord> {
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

/** After a RetryOutside rolled the chain back: the failed attempt's outcome, in a fresh transaction. */
export async function recordAlone(deps: ExecutorDeps, tx: StorageTx, run: RunRecord, failure: RetryOutside): Promise<RunRecord> {
  return commitActionOutcome(deps, tx, run, failure.instr, failure.attempts, failure.outcome)
}

/**
 * An external action: commit "attempt n started" before acting, so that a crash mid-call is
 * seen on restart; act outside any transaction; commit the outcome with the cursor.
 */
export async function runExternalAction(deps: ExecutorDeps, leased: RunRecord, instr: ActionInstruction): Promise<RunRecord | null> {
  const action = deps.actions.get(instr.action)!
  const key = stepKey(instr.id, leased.state)
  await checkLease(deps, leased, key)
  // shared with the other actions beginning now (group commit); repeatable: the begin re-reads the
  // run and writes it only at the version this worker holds, so if a cut-off COMMIT did land, the
  // repeat finds a newer version and gives up
  const begin = await commitWithOthers(
    deps.storage,
    leased.id,
    async (tx) => {
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
      const saved = await saveRun(tx, { ...run, status: 'running', state: { ...run.state, current: { key, attempts, startedAt } } })
      return { run: saved, scope, attempts }
    },
    BEGIN_OUTAGE_WAIT_MS,
  )
  if (!begin.scope) return begin.run
  const { run, scope, attempts } = begin
  // the begin may have waited out an outage during which the heartbeat failed: look again
  await checkLease(deps, run, key)
  const outcome = await attemptAction(deps, null, run, instr, action, scope, attempts)
  // shared and repeatable for the same reasons; and safe after the lease lapsed: if another worker
  // has moved the run since, the version differs and this outcome is not written over its work
  return commitWithOthers(
    deps.storage,
    run.id,
    async (tx) => {
      const fresh = await tx.getRun(run.id)
      if (!fresh || fresh.version !== run.version || isEnded(fresh)) {
        // the run ended meanwhile (exit goal, cancel): keep the record of what the action did
        if (outcome.kind === 'done')
          await tx.upsertStep({
            ...record(run, instr, instr.action, { status: 'completed', attempts }, deps.clock.now()),
            input: outcome.input,
            output: outcome.output,
          })
        throw new RunChanged()
      }
      return commitActionOutcome(deps, tx, fresh, instr, attempts, outcome)
    },
    OUTCOME_OUTAGE_WAIT_MS,
  )
}

/** Before acting outside: is the lease surely this worker's for long enough? (invariant 9) */
async function checkLease(deps: ExecutorDeps, run: RunRecord, key: string): Promise<void> {
  if (!deps.holdLease || (await deps.holdLease(run.id))) return
  deps.log.warn({ runId: run.id, step: key }, 'lease could not be renewed; leaving the run to the next claim')
  throw new LeaseLapsing()
}

async function attemptAction(
  deps: ExecutorDeps,
  tx: StorageTx | null,
  run: RunRecord,
  instr: ActionInstruction,
  action: ActionDefinition,
  scope: Record<string, unknown>,
  attempts: number,
): Promise<Outcome> {
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
    const services = withRunControl(
      tx ? tx.services(run.store_id, (e) => deps.emit(run.store_id, e, tx)) : deps.storage.services(run.store_id, (e) => deps.emit(run.store_id, e, null)),
      deps.storage,
      tx,
      run.store_id,
      deps.clock,
    )
    const store = (scope.store as ActionStoreInfo | null) ?? { id: run.store_id, name: run.store_id, currency: 'USD', timezone: 'UTC', settings: {} }
    const output = await action.run({
      input: parsed.data,
      idempotencyKey: `${run.id}:${key}`,
      run: {
        id: run.id,
        workflowId: run.workflow_id,
        workflowVersion: run.workflow_version,
        stepKey: key,
        attempt: attempts,
        maxAttempts: action.retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      },
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
async function commitActionOutcome(
  deps: ExecutorDeps,
  tx: StorageTx,
  current: RunRecord,
  instr: ActionInstruction,
  attempts: number,
  outcome: Outcome,
): Promise<RunRecord> {
  const action = deps.actions.get(instr.action)
  const key = stepKey(instr.id, current.state)
  const now = deps.clock.now()
  const startedAt = current.state.current?.key === key ? current.state.current.startedAt : now.toISOString()
  const base = { ...record(current, instr, instr.action, { status: 'completed', attempts }, now), started_at: startedAt, input: outcome.input }
  switch (outcome.kind) {
    case 'done':
      await tx.upsertStep({ ...base, status: 'completed', output: outcome.output, error: null })
      return saveRun(tx, moveTo(current, instr.next, {}, { id: instr.id, value: outcome.output }))
    case 'skip':
      await tx.upsertStep({ ...base, status: 'skipped', output: outcome.output, error: null })
      return saveRun(tx, moveTo(current, instr.next, {}, { id: instr.id, value: outcome.output }))
    case 'defer':
      // not a failure: the step waits (quiet hours) and is attempted afresh at `until`
      await tx.upsertStep({ ...base, status: 'waiting', attempts: attempts - 1, error: outcome.reason, wake_at: outcome.until.toISOString(), ended_at: null })
      return saveRun(tx, parked(current, outcome.until.toISOString(), { ...current.state, current: null }))
    case 'error': {
      const err = outcome.err
      const message = errorMessage(err)
      if (err instanceof PermanentError || attempts >= (action?.retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
        deps.log.warn({ runId: current.id, step: key, attempts, err: message }, 'step failed')
        return failStep(tx, current, instr, key, message, attempts, now, outcome.input, startedAt)
      }
      const delay =
        err instanceof RetryableError && err.retryAfterMs !== undefined
          ? err.retryAfterMs
          : // our own database was away, not the action's service: try again soon
            isDatabaseUnavailable(err)
            ? backoffDelay(attempts, { baseMs: 1000, maxMs: 30_000 })
            : backoffDelay(attempts, { baseMs: action?.retry.baseDelayMs ?? DEFAULT_BASE_DELAY_MS })
      const wake = new Date(now.getTime() + delay).toISOString()
      await tx.upsertStep({ ...base, status: 'retrying', error: message, wake_at: wake, ended_at: null })
      deps.log.info({ runId: current.id, step: key, attempts, wakeAt: wake }, 'step will retry')
      // settled: this attempt's outcome is known (it failed), so the next one is not a blind repeat
      return saveRun(tx, retryLater(current, wake, { ...current.state, current: { key, attempts, startedAt, settled: true } }))
    }
  }
}

/** The step failed for good: it is recorded failed, and the run fails with its message. */
async function failStep(
  tx: StorageTx,
  run: RunRecord,
  instr: { id: string; action: string },
  key: string,
  message: string,
  attempts: number,
  now: Date,
  input: unknown,
  startedAt?: string,
): Promise<RunRecord> {
  await tx.upsertStep({
    ...record(run, instr, instr.action, { status: 'failed', attempts }, now),
    step_key: key,
    input: input ?? undefined,
    error: message,
    started_at: startedAt ?? now.toISOString(),
  })
  return endRun(tx, { ...run, state: { ...run.state, seq: run.state.seq + 1 } }, 'failed', now, message)
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
