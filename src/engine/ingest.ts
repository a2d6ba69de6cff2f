import type { CanonicalEvent } from '../contracts/events.ts'
import { evaluateCondition } from '../core/cel.ts'
import { parseDuration } from '../lib/durations.ts'
import { newId } from '../lib/ids.ts'
import type { Clock } from '../lib/clock.ts'
import type { Logger } from '../lib/logger.ts'
import { triggerMatches, type TriggerRegistry } from '../triggers/index.ts'
import { deriveEvents, MAX_DERIVED_DEPTH } from './derived.ts'
import type { CorrelationRecord, RunRecord, StorageTx, StoredEvent, WorkflowHead } from './ports.ts'
import { beginRun, exitGoalCorrelations, exitOnGoal, isActive, signalWait } from './run-lifecycle.ts'
import { buildScope } from './scope.ts'
import type { StoreCache } from './store-cache.ts'
import type { CompiledWorkflow, WorkflowCache } from './workflow-cache.ts'
import { holdoutShare, inHoldout } from './holdout.ts'

export interface IngestOptions {
  historical: boolean
  source: string
}

export interface IngestDeps {
  clock: Clock
  cache: WorkflowCache
  log: Logger
  stores: StoreCache
  /** derived triggers, asked about every event stored */
  triggers: TriggerRegistry
  heads?: Map<string, WorkflowHead[]>
  /** how many derived events led to this one (0: a shop's or a tick) */
  depth?: number
}

export interface IngestResult {
  id: string
  seq: number
  duplicate: boolean
  runs: string[]
}

/**
 * Everything an accepted event causes happens in the transaction that stores it: the store's
 * view, the waits it satisfies or ends, and the runs it starts. Once the commit returns, a
 * crash of any process loses none of it.
 */
export async function ingestInTx(tx: StorageTx, event: CanonicalEvent, options: IngestOptions, deps: IngestDeps): Promise<IngestResult> {
  const now = deps.clock.now()
  const { seq, duplicate } = await tx.insertEvent(event, { receivedAt: now.toISOString(), historical: options.historical, source: options.source })
  if (duplicate) return { id: event.id, seq, duplicate: true, runs: [] }
  const customerKey = await tx.applyToView(event, seq)
  await tx.setEventCustomer(seq, customerKey)
  if (options.historical) return { id: event.id, seq, duplicate: false, runs: [] }

  const stored: StoredEvent = { ...event, seq, received_at: now.toISOString(), customer_key: customerKey, historical: false }
  await resolveWaits(tx, stored, now, deps)
  const runs = await startRuns(tx, stored, now, deps)
  await reactDerived(tx, stored, options, now, deps)
  return { id: event.id, seq, duplicate: false, runs }
}

/** Derived triggers that react to this event's type derive their events now, in this transaction. */
async function reactDerived(tx: StorageTx, event: StoredEvent, options: IngestOptions, now: Date, deps: IngestDeps): Promise<void> {
  const triggers = deps.triggers.reactingTo(event.type)
  if (triggers.length === 0) return
  const depth = deps.depth ?? 0
  if (depth >= MAX_DERIVED_DEPTH) {
    deps.log.warn({ eventId: event.id, type: event.type, depth }, 'derived events nested too deep; not deriving further')
    return
  }
  const deeper = { ...deps, depth: depth + 1 }
  for (const trigger of triggers) {
    await deriveEvents(tx, trigger, { kind: 'event', event }, event.store, now, deps, (derived) =>
      ingestInTx(tx, derived, { ...options, source: 'derived' }, deeper),
    )
  }
}

/** Finds runs whose wait_for or exit_when listens for this event, through the correlation index. */
async function resolveWaits(tx: StorageTx, event: StoredEvent, now: Date, deps: { cache: WorkflowCache; stores: StoreCache; log: Logger }): Promise<void> {
  const keys = event.customer_key ? [event.customer_key, '*'] : ['*']
  const correlations = await tx.findCorrelations(event.store, event.type, keys)
  const done = new Set<string>()
  for (const corr of correlations) {
    if (done.has(corr.run_id)) continue
    // a worker may move the run between our read and our write (PostgreSQL runs them at once):
    // the versioned write then loses, and we read again rather than drop the event
    for (let attempt = 0; attempt < MAX_RESOLVE_ATTEMPTS; attempt++) {
      const outcome = await resolveOne(tx, corr, event, now, deps)
      if (outcome !== 'lost_race') {
        if (outcome === 'resolved') done.add(corr.run_id)
        break
      }
    }
  }
}

const MAX_RESOLVE_ATTEMPTS = 20

async function resolveOne(
  tx: StorageTx,
  corr: CorrelationRecord,
  event: StoredEvent,
  now: Date,
  deps: { cache: WorkflowCache; stores: StoreCache; log: Logger },
): Promise<'resolved' | 'no_match' | 'lost_race'> {
  const run = await tx.getRun(corr.run_id)
  if (!run || !isActive(run)) return 'no_match'
  const workflow = await deps.cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)
  if (!workflow) return 'no_match'
  const trigger = await tx.getEvent(run.trigger_event_seq)
  if (!trigger) return 'no_match'
  const scope = await buildScope(tx, { storeId: run.store_id, event, trigger, customerKey: run.customer_key, outputs: run.state.outputs, now }, deps.stores)

  if (corr.purpose === 'exit_when') {
    const goal = workflow.file.exit_when?.[corr.ref]
    if (!goal || (goal.match && !evaluateCondition(workflow.cel(goal.match), scope))) return 'no_match'
    if (!(await exitOnGoal(tx, run, now, `exit_when: ${goal.event}`, event))) return 'lost_race'
    deps.log.info({ runId: run.id, eventId: event.id }, 'run exited on goal')
    return 'resolved'
  }
  const instr = workflow.program[corr.ref]
  if (instr?.op !== 'wait_for' || run.state.pc !== corr.ref || run.signal_event_seq !== null) return 'no_match'
  if (instr.match && !evaluateCondition(workflow.cel(instr.match), scope)) return 'no_match'
  if (!(await signalWait(tx, run, event.seq, now))) return 'lost_race'
  return 'resolved'
}

/** The active workflows for a store and event type, read once per ingest transaction. */
async function activeWorkflows(tx: StorageTx, event: StoredEvent, memo: Map<string, WorkflowHead[]> | undefined): Promise<WorkflowHead[]> {
  const key = `${event.store}\u0000${event.type}`
  const hit = memo?.get(key)
  if (hit) return hit
  const heads = await tx.activeWorkflows(event.store, event.type)
  memo?.set(key, heads)
  return heads
}

async function startRuns(
  tx: StorageTx,
  event: StoredEvent,
  now: Date,
  deps: { cache: WorkflowCache; stores: StoreCache; log: Logger; heads?: Map<string, WorkflowHead[]> },
): Promise<string[]> {
  const heads = await activeWorkflows(tx, event, deps.heads)
  if (heads.length === 0) return []
  let scope: Record<string, unknown> | null = null
  const runs: RunRecord[] = []
  const goalsOf = new Map<string, Array<{ eventType: string; key: string; purpose: 'exit_when'; ref: number }>>()
  // one look at the customer's active runs serves every workflow this event may start
  let active: Set<string> | null = null
  for (const head of heads) {
    const workflow = await deps.cache.get(tx, event.store, head.id, head.version)
    if (!workflow) continue
    scope ??= await buildScope(tx, { storeId: event.store, event, trigger: event, customerKey: event.customer_key, now }, deps.stores)
    if (!passesConditions(workflow, event, scope)) continue
    if (event.customer_key && !(workflow.file.reentry?.concurrent ?? false)) {
      active ??= await tx.activeRunWorkflows(event.store, event.customer_key)
      if (active.has(workflow.id)) continue
    }
    if (!(await reentryAllows(tx, workflow, event, now))) continue
    const run = newRun(workflow, event, scope, now)
    runs.push(run)
    const goals = exitGoalCorrelations(workflow, event.customer_key)
    if (!run.holdout && goals.length > 0) goalsOf.set(run.id, goals)
  }
  // the event's runs go in together: one statement however many workflows it starts
  await tx.insertRuns(runs)
  for (const [runId, goals] of goalsOf) await tx.addCorrelations(event.store, runId, goals)
  return runs.map((r) => r.id)
}

function passesConditions(workflow: CompiledWorkflow, event: StoredEvent, scope: Record<string, unknown>): boolean {
  const { trigger: spec, when } = workflow.file
  const condition = (source: string) => evaluateCondition(workflow.cel(source), scope)
  // the trigger's declaration says whether this event starts this workflow (triggers/)
  if (!triggerMatches(spec, { workflowId: workflow.id, event, condition })) return false
  return !when || condition(when)
}

/** per_customer: always (default), once, or once_per a window; the one-active-run rule is checked by the caller */
async function reentryAllows(tx: StorageTx, workflow: CompiledWorkflow, event: StoredEvent, now: Date): Promise<boolean> {
  const { reentry } = workflow.file
  const customerKey = event.customer_key
  if (!customerKey) return true
  const policy = reentry?.per_customer ?? 'always'
  if (policy === 'always') return true
  const last = await tx.lastRunStartedAt(event.store, workflow.id, customerKey)
  if (!last) return true
  if (policy === 'once') return false
  return now.getTime() - new Date(last).getTime() >= parseDuration(reentry?.window ?? '0s')
}

function newRun(workflow: CompiledWorkflow, event: StoredEvent, scope: Record<string, unknown>, now: Date): RunRecord {
  const id = newId('run_')
  const customer = scope.customer as Record<string, unknown> | null
  return beginRun(
    {
      id,
      store_id: event.store,
      workflow_id: workflow.id,
      workflow_version: workflow.version,
      trigger_event_seq: event.seq,
      trigger_event_id: event.id,
      customer_key: event.customer_key,
      customer_id: (customer?.id as string | null) ?? null,
      customer_email: (customer?.email as string | null) ?? null,
      holdout: inHoldout(event.customer_key ?? id, workflow.id, holdoutShare(workflow.file.holdout)),
    },
    now,
  )
}
