import { isStoreLevelEventType } from '../contracts/events.ts'
import { evaluateCondition } from '../core/cel.ts'
import { parseDuration } from '../lib/durations.ts'
import { newId } from '../lib/ids.ts'
import type { Clock } from '../lib/clock.ts'
import type { Logger } from '../lib/logger.ts'
import { triggerMatches, type TriggerRegistry } from '../triggers/index.ts'
import { deriveEvents, MAX_DERIVED_DEPTH } from './derived.ts'
import type { CorrelationRecord, LoggedEvent, RunRecord, StorageTx, StoredEvent, ViewSkips, WorkflowHead } from './ports.ts'
import { beginRun, exitGoalCorrelations, exitOnGoal, isActive, signalWait } from './run-lifecycle.ts'
import { buildScope } from './scope.ts'
import { updateSegmentsOnEvent } from './segments.ts'
import { updateInventoryOnEvent } from './inventory.ts'
import type { StoreCache } from './store-cache.ts'
import type { CompiledWorkflow, WorkflowCache } from './workflow-cache.ts'
import { holdoutShare, inHoldout } from './holdout.ts'

export interface IngestOptions {
  historical: boolean
  source: string
}

/** What accepting an event answers: its place in the log, or that it was a repeat. */
export interface IngestResult {
  id: string
  seq: number
  duplicate: boolean
}

export interface RouteDeps {
  clock: Clock
  cache: WorkflowCache
  log: Logger
  stores: StoreCache
  /** derived triggers, asked about every event routed */
  triggers: TriggerRegistry
  /** the active workflows per store and event type, read once per routed batch */
  heads: Map<string, WorkflowHead[]>
  /** the runs the batch starts, inserted together (flushPendingRuns) */
  pending: PendingRuns
  /** derivations a sandbox leaves out (EngineOptions.skipDerivations); live: none */
  skip?: SkipDerivations
}

/**
 * Per-event derivations a sandbox (backtest) may leave out when the workflow it replays cannot
 * observe them: segment membership (and its RFM recompute, segment.* events), stock alerts
 * (inventory state, inventory.* events), and the view's bookkeeping in ViewSkips. Never set in a
 * live process.
 */
export interface SkipDerivations extends ViewSkips {
  segments?: boolean
}

/**
 * The runs a routed batch starts, written together at its end (or earlier, when a later event of
 * the batch may be a goal of one of them): one multi-row insert instead of one per event. What the
 * batch's later events must know of them (one active run per customer, re-entry windows) is kept
 * here meanwhile.
 */
export class PendingRuns {
  runs: RunRecord[] = []
  goals = new Map<string, { storeId: string; items: Array<{ eventType: string; key: string; purpose: 'exit_when'; ref: number }> }>()
  /** event types a pending run's exit goal listens for */
  goalTypes = new Set<string>()
  /** `customer key \0 workflow id` of every run the batch started, with its start time */
  started = new Map<string, string>()

  add(run: RunRecord, goals: Array<{ eventType: string; key: string; purpose: 'exit_when'; ref: number }>): void {
    this.runs.push(run)
    if (run.customer_key) this.started.set(`${run.customer_key}\u0000${run.workflow_id}`, run.started_at)
    if (goals.length === 0) return
    this.goals.set(run.id, { storeId: run.store_id, items: goals })
    for (const g of goals) this.goalTypes.add(g.eventType)
  }

  startedInBatch(customerKey: string, workflowId: string): string | undefined {
    return this.started.get(`${customerKey}\u0000${workflowId}`)
  }

  async flush(tx: StorageTx): Promise<void> {
    if (this.runs.length === 0) return
    await tx.insertRuns(this.runs)
    for (const [runId, { storeId, items }] of this.goals) await tx.addCorrelations(storeId, runId, items)
    this.runs = []
    this.goals.clear()
    this.goalTypes.clear()
  }
}

/**
 * What an accepted event causes, done by its store's router in the transaction that moves the
 * router past it: the store's view, the waits it satisfies or ends, the runs it starts, and the
 * derived events it leads to (appended to the log, routed in their turn). A crash before that
 * commit leaves the router before the event, so the next router does all of it once.
 */
export async function routeEvent(tx: StorageTx, logged: LoggedEvent, deps: RouteDeps): Promise<string[]> {
  const { event: appended, source } = logged
  const now = deps.clock.now()
  const customerKey = await tx.applyToView(appended, appended.seq, deps.skip)
  // an event appended with its customer (a segment change) has it written already
  if (customerKey !== appended.customer_key) await tx.setEventCustomer(appended.seq, customerKey)
  const depth = derivedDepth(source)
  if (!deps.skip?.segments) await updateSegmentsOnEvent(tx, appended, customerKey, depth === 0 ? 'derived' : `derived:${depth + 1}`, now)
  if (!deps.skip?.inventory) await updateInventoryOnEvent(tx, appended, depth === 0 ? 'derived' : `derived:${depth + 1}`, now)
  if (appended.historical) return []
  // the shop echoing storeflow's own channel push is no change made in the shop (store/channel-sync.ts)
  if (appended.type === 'product.updated' && (await tx.isChannelEcho(appended, now))) return []

  const event: StoredEvent = { ...appended, customer_key: customerKey }
  // a run started earlier in this batch may be waiting for this very event: it goes in first
  if (deps.pending.goalTypes.has(event.type)) await deps.pending.flush(tx)
  await resolveWaits(tx, event, now, deps)
  const runs = await startRuns(tx, event, now, deps)
  await reactDerived(tx, event, derivedDepth(source), now, deps)
  return runs
}

/** How many derived events led to an event, from its source (`derived`, `derived:2`, …); 0 for a shop's or a tick. */
function derivedDepth(source: string): number {
  if (source === 'derived') return 1
  const match = /^derived:(\d+)$/.exec(source)
  return match ? Number(match[1]) : 0
}

/** Derived triggers that react to this event's type derive their events now, appended to the log in this transaction. */
async function reactDerived(tx: StorageTx, event: StoredEvent, depth: number, now: Date, deps: RouteDeps): Promise<void> {
  const triggers = deps.triggers.reactingTo(event.type)
  if (triggers.length === 0) return
  if (depth >= MAX_DERIVED_DEPTH) {
    deps.log.warn({ eventId: event.id, type: event.type, depth }, 'derived events nested too deep; not deriving further')
    return
  }
  const source = depth === 0 ? 'derived' : `derived:${depth + 1}`
  for (const trigger of triggers) {
    await deriveEvents(tx, trigger, { kind: 'event', event }, event.store, now, deps, (derived) =>
      tx.appendEvents([{ event: derived, receivedAt: now.toISOString(), historical: false, source }]),
    )
  }
}

/**
 * Finds runs whose wait_for or exit_when listens for this event, through the correlation index:
 * those of the customer it names (and of no customer); for a store-level event about no customer
 * (a SKU back in stock), every run listening for its type, each deciding by its match.
 */
async function resolveWaits(tx: StorageTx, event: StoredEvent, now: Date, deps: { cache: WorkflowCache; stores: StoreCache; log: Logger }): Promise<void> {
  const keys = event.customer_key ? [event.customer_key, '*'] : isStoreLevelEventType(event.type) ? null : ['*']
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
  const scope = await buildScope(
    tx,
    { storeId: run.store_id, event, trigger, customerKey: run.customer_key, outputs: run.state.outputs, vars: workflow.file.vars, now },
    deps.stores,
  )

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

/** The active workflows for a store and event type, read once per routed batch. */
async function activeWorkflows(tx: StorageTx, event: StoredEvent, memo: Map<string, WorkflowHead[]>): Promise<WorkflowHead[]> {
  const key = `${event.store}\u0000${event.type}`
  const hit = memo.get(key)
  if (hit) return hit
  const heads = await tx.activeWorkflows(event.store, event.type)
  memo.set(key, heads)
  return heads
}

async function startRuns(
  tx: StorageTx,
  event: StoredEvent,
  now: Date,
  deps: { cache: WorkflowCache; stores: StoreCache; log: Logger; heads: Map<string, WorkflowHead[]>; pending: PendingRuns },
): Promise<string[]> {
  const heads = await activeWorkflows(tx, event, deps.heads)
  if (heads.length === 0) return []
  let scope: Record<string, unknown> | null = null
  const runs: RunRecord[] = []
  // one look at the customer's active runs serves every workflow this event may start
  let active: Set<string> | null = null
  for (const head of heads) {
    const workflow = await deps.cache.get(tx, event.store, head.id, head.version)
    if (!workflow) continue
    scope ??= await buildScope(tx, { storeId: event.store, event, trigger: event, customerKey: event.customer_key, now }, deps.stores)
    if (!passesConditions(workflow, event, scope)) continue
    if (event.customer_key && !(workflow.file.reentry?.concurrent ?? false)) {
      // a run of this batch is not in the database yet, and it is active
      if (deps.pending.startedInBatch(event.customer_key, workflow.id)) continue
      active ??= await tx.activeRunWorkflows(event.store, event.customer_key)
      if (active.has(workflow.id)) continue
    }
    if (!(await reentryAllows(tx, workflow, event, now, deps.pending))) continue
    const run = newRun(workflow, event, scope, now)
    runs.push(run)
    const goals = exitGoalCorrelations(workflow, event.customer_key)
    deps.pending.add(run, run.holdout ? [] : goals)
  }
  return runs.map((r) => r.id)
}

function passesConditions(workflow: CompiledWorkflow, event: StoredEvent, scope: Record<string, unknown>): boolean {
  const { trigger: spec, when } = workflow.file
  // the scope is shared by the workflows an event may start; the vars are this one's
  const own = { ...scope, vars: workflow.file.vars ?? {} }
  const condition = (source: string) => evaluateCondition(workflow.cel(source), own)
  // the trigger's declaration says whether this event starts this workflow (triggers/)
  if (!triggerMatches(spec, { workflowId: workflow.id, event, condition })) return false
  return !when || condition(when)
}

/** per_customer: always (default), once, or once_per a window; the one-active-run rule is checked by the caller */
async function reentryAllows(tx: StorageTx, workflow: CompiledWorkflow, event: StoredEvent, now: Date, pending: PendingRuns): Promise<boolean> {
  const { reentry } = workflow.file
  const customerKey = event.customer_key
  if (!customerKey) return true
  const policy = reentry?.per_customer ?? 'always'
  if (policy === 'always') return true
  const last = pending.startedInBatch(customerKey, workflow.id) ?? (await tx.lastRunStartedAt(event.store, workflow.id, customerKey))
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
