import type { DerivedViewReads } from '../plugin-api/define-trigger.ts'
import type { CanonicalEvent } from '../contracts/events.ts'
import type { SegmentChange } from '../core/segments.ts'
import type { InventoryChange } from '../core/inventory.ts'
import type { ActionServices } from '../plugin-api/services.ts'
import type { RunStatus } from './run-status.ts'

/**
 * What the engine needs from storage. The engine never imports store/ or http/: it reaches
 * the database only through these ports, implemented by store/storage.ts for both dialects.
 *
 * Glossary: the words used in code, API, dashboard and docs alike.
 * - **store**: one shop's tenant. Every row belongs to one; nothing crosses from one store to another.
 * - **event**: something that happened in a store (`order.created`), canonical shape, immutable once
 *   accepted; idempotent on (store, event id). Derived events are ones storeflow emits itself.
 * - **event log**: the `events` table read in order: accepting an event appends it there, nothing more.
 * - **router**: what consumes a store's event log (router.ts), one per store at a time under a lease:
 *   it updates the view, resolves waits and starts runs for each event, and moves its **position**.
 * - **customer**: the store's view of a person, keyed by the shop's id or, before one is known, the email.
 * - **workflow**: trigger → condition → steps, written as a file; each save is a new immutable **version**.
 * - **trigger**: what starts a run of a workflow: an event type, a schedule (`cron:`), or a derived event
 *   (src/triggers/).
 * - **run**: one workflow version carried out for one triggering event; pins its version.
 * - **step**: one instruction of a run's compiled program: an action or a control step (if, wait, wait_for,
 *   split, for_each, exit). Its **step key** (step id plus loop indices) names it within the run.
 * - **attempt**: one try of an action step; retries are attempts, scheduled as rows, not sleeps.
 * - **action**: a step that does something (send_email, tag_customer); declared with defineAction,
 *   `internal` (inside the step's transaction) or `external` (outside, at most once per step).
 * - **wait**: a run parked until a time (`wait`) or an event (`wait_for`, `exit_when`, via a correlation).
 * - **holdout**: the control group: runs that are started and counted but take no actions.
 * - **outbox**: the message rows send_email, send_sms and notify_team write before sending, one per step.
 * - **lease**: a worker's time-limited claim on a run it is advancing.
 * - **segment**: a named CEL condition over the customer (built in, or the store's own); who is in it is kept
 *   current, each entry and exit a `segment.entered` / `segment.exited` event (segments.ts).
 */
export interface StoredEvent extends CanonicalEvent {
  seq: number
  received_at: string
  customer_key: string | null
  historical: boolean
}

export interface RunRecord {
  id: string
  store_id: string
  workflow_id: string
  workflow_version: number
  status: RunStatus
  trigger_event_seq: number
  trigger_event_id: string
  customer_key: string | null
  customer_id: string | null
  customer_email: string | null
  holdout: boolean
  state: RunState
  due_at: string | null
  signal_event_seq: number | null
  lease_owner: string | null
  version: number
  started_at: string
  ended_at: string | null
}

export type { RunStatus } from './run-status.ts'
export type { SegmentChange } from '../core/segments.ts'

export interface LoopFrame {
  /** pc of the for_each instruction */
  at: number
  items: unknown[]
  index: number
  as: string
}

export interface RunState {
  pc: number
  loops: LoopFrame[]
  /** outputs of finished steps by step id (`steps.<id>` in conditions and templates) */
  outputs: Record<string, unknown>
  /** next timeline sequence number */
  seq: number
  /** the step key currently in progress, if any (an external action that may have started) */
  current?: { key: string; attempts: number; startedAt: string; settled?: boolean } | null
  /** when the current wait_for times out */
  waitUntil?: string | null
  /** the event a wait_for received (shown to the received branch as `event`) */
  eventSeq?: number | null
  /** events earlier wait_for steps received: a later wait's look-back does not take them again */
  consumed?: number[]
  exitReason?: string
}

export type StepStatus = 'running' | 'waiting' | 'retrying' | 'completed' | 'skipped' | 'failed' | 'cancelled'

export interface StepRecord {
  run_id: string
  store_id: string
  step_key: string
  seq: number
  step_id: string
  type: string
  status: StepStatus
  attempts: number
  input?: unknown
  output?: unknown
  error?: string | null
  started_at: string
  ended_at?: string | null
  wake_at?: string | null
}

export interface WorkflowHead {
  id: string
  version: number
}

export interface WorkflowVersionRecord {
  store_id: string
  workflow_id: string
  version: number
  source: string
  definition: unknown
}

export interface CorrelationRecord {
  run_id: string
  purpose: 'wait_for' | 'exit_when'
  ref: number
}

export interface StoreRecord {
  id: string
  name: string
  currency: string
  timezone: string
  settings: Record<string, unknown>
}

/** A schedule a worker fires: a workflow's `cron:` trigger, or a derived trigger's schedule. */
export interface ScheduleRecord {
  store_id: string
  /** `workflow:<workflow id>` or `trigger:<derived event type>` */
  key: string
  /** the workflow it starts; null for a derived trigger's */
  workflow_id: string | null
  cron: string
  /** the IANA zone the expression is read in */
  timezone: string
  /** the next tick, UTC ISO; null when the expression never fires again */
  next_at: string | null
}

/** An active workflow whose trigger is a schedule, with what its ticks are computed from. */
export interface ScheduledWorkflowHead extends WorkflowHead {
  store_id: string
  /** the store's zone, the default for a schedule without one */
  store_timezone: string
  /** when it was last saved or (de)activated: a new schedule counts its ticks from then */
  updated_at: string
}

/** A place in a store's event log: the appending transaction (PostgreSQL; 0 on SQLite) and the sequence number. */
export interface LogPosition {
  tx: number
  seq: number
}

/** An event to append to the log. */
export interface AppendItem {
  event: CanonicalEvent
  receivedAt: string
  historical: boolean
  /** api, a platform, schedule, workflow, derived (`derived:N` when N derived events led to it) */
  source: string
  /**
   * the customer the event is about, when storeflow knows it as it appends (an event it derives
   * from a customer's view); otherwise the router finds it and writes it when it routes the event
   */
  customerKey?: string | null
}

/** An event read from the log by its router, with its place in the log. */
export interface LoggedEvent {
  event: StoredEvent
  source: string
  position: LogPosition
}

/** One transaction's worth of storage operations. */
export interface StorageTx {
  /**
   * appends events to the log as multi-row inserts, deduplicated on (store, event id); a repeat
   * (of a stored event or of an earlier item) is answered `duplicate` with the first one's seq
   */
  appendEvents(items: AppendItem[]): Promise<Array<{ seq: number; duplicate: boolean }>>
  // the router (engine/router.ts)
  /** locks the store's router for this transaction; its position, or null if `owner` no longer holds its lease */
  lockRouter(storeId: string, owner: string): Promise<LogPosition | null>
  /** the next routable events after `position`, in log order */
  readLog(storeId: string, position: LogPosition, limit: number): Promise<LoggedEvent[]>
  advanceRouter(storeId: string, position: LogPosition, leaseUntil: Date): Promise<void>
  /** updates the store's view (customers, orders, carts, products, inventory); returns the customer key; `skip`: a sandbox's (ViewSkips) */
  applyToView(event: CanonicalEvent, seq: number, skip?: ViewSkips): Promise<string | null>
  /** whether a product.updated echoes storeflow's own sync_channels push (store/channel-sync.ts): it then starts no run */
  isChannelEcho(event: CanonicalEvent, now: Date): Promise<boolean>
  setEventCustomer(seq: number, customerKey: string | null): Promise<void>
  getEvent(seq: number): Promise<StoredEvent | null>
  /** the first event of `type` stored after `afterSeq` for this customer (or store-wide when null) */
  findEventsAfter(storeId: string, type: string, customerKey: string | null, afterSeq: number, limit: number): Promise<StoredEvent[]>

  getStore(storeId: string): Promise<StoreRecord | null>
  customerView(customerKey: string): Promise<Record<string, unknown> | null>
  orderView(storeId: string, orderId: string): Promise<Record<string, unknown> | null>
  cartView(storeId: string, cartId: string): Promise<Record<string, unknown> | null>
  productView(storeId: string, productId: string): Promise<Record<string, unknown> | null>

  activeWorkflows(storeId: string, triggerType: string): Promise<WorkflowHead[]>
  getWorkflowVersion(storeId: string, workflowId: string, version: number): Promise<WorkflowVersionRecord | null>

  /** ids of the workflows this customer has a running or waiting run of */
  activeRunWorkflows(storeId: string, customerKey: string): Promise<Set<string>>
  lastRunStartedAt(storeId: string, workflowId: string, customerKey: string): Promise<string | null>
  /** the customer's running and waiting runs (cancel_runs) */
  activeRunsOfCustomer(storeId: string, customerKey: string): Promise<RunRecord[]>
  insertRuns(runs: RunRecord[]): Promise<void>
  getRun(runId: string): Promise<RunRecord | null>
  /** writes the run if its version is still `expectedVersion`; returns false when someone else changed it */
  updateRun(run: RunRecord, expectedVersion: number): Promise<boolean>
  upsertStep(step: StepRecord): Promise<void>
  /** counts a run's ending (completed, exited, failed) for insight, in the transaction of its ending write; `undo` takes it back (a failed run retried) (store/workflow-stats.repo.ts) */
  countRunEnded(run: RunRecord, undo?: boolean): Promise<void>

  addCorrelations(
    storeId: string,
    runId: string,
    items: Array<{ eventType: string; key: string; purpose: 'wait_for' | 'exit_when'; ref: number }>,
  ): Promise<void>
  /** the correlations of `eventType` under one of `keys`, or under any key when `keys` is null (a store-level event) */
  findCorrelations(storeId: string, eventType: string, keys: string[] | null): Promise<CorrelationRecord[]>
  deleteCorrelations(runId: string, purpose?: 'wait_for' | 'exit_when'): Promise<void>

  /** services for actions, bound to this transaction */
  services(storeId: string, emit: ActionServices['events']['emit']): ActionServices

  // segments (store/segments.repo.ts, engine/segments.ts)
  /** re-scores one customer's RFM against the store's last cuts and re-evaluates their segments; returns what changed */
  refreshSegments(storeId: string, customerKey: string, now: Date): Promise<SegmentChange[]>
  /** recomputes the store's RFM and re-evaluates every customer's segments; returns what changed */
  sweepSegments(storeId: string, now: Date): Promise<SegmentChange[]>

  /** brings the stock alert state of `skus` up to date (store/inventory.repo.ts, engine/inventory.ts); returns the crossings */
  refreshInventory(storeId: string, skus: string[], now: Date, historical: boolean): Promise<InventoryChange[]>

  // schedules (engine/scheduler.ts, store/schedules.repo.ts)
  /** active workflows, of every store, whose trigger type is `triggerType` */
  scheduledWorkflows(triggerType: string): Promise<ScheduledWorkflowHead[]>
  /** every store's id and time zone */
  storeTimeZones(): Promise<Array<{ id: string; timezone: string }>>
  /** what the time-based derived triggers read of a store's view (plugin-api DerivedViewReads) */
  derivedView(storeId: string): DerivedViewReads
  listSchedules(): Promise<ScheduleRecord[]>
  /** creates the schedule, or replaces it when its cron or time zone changed (else leaves it) */
  putSchedule(schedule: ScheduleRecord, now: Date): Promise<void>
  /** removes a schedule nothing declares; a workflow's only while that workflow is not active on a schedule */
  deleteSchedule(storeId: string, key: string, scheduleTriggerType: string): Promise<void>
  /**
   * moves the schedule past a tick: only if its next tick is still `expectedNextAt`, so of several
   * workers exactly one wins; false when another got there first (or the schedule changed)
   */
  advanceSchedule(storeId: string, key: string, expectedNextAt: string, nextAt: string | null, firedAt: string, now: Date): Promise<boolean>

  // set-based forms of the run reads and writes above, for a claimed batch (engine/batch-reads.ts, engine/write-behind.ts)
  /**
   * updateRun for many runs: each written only if its version is still `expectedVersion`, its
   * version then `version` (several writes of a run in one transaction, sent as one); returns the ids written
   */
  updateRuns(writes: Array<{ run: RunRecord; expectedVersion: number; version: number }>): Promise<string[]>
  /** upsertStep for many rows, at most one per (run, step key) */
  upsertSteps(steps: StepRecord[]): Promise<void>
  /** deleteCorrelations for many runs */
  deleteCorrelationsOf(runIds: string[], purpose?: 'wait_for' | 'exit_when'): Promise<void>
  /** stored events by seq, in one read; seqs not stored are left out */
  getEvents(seqs: number[]): Promise<StoredEvent[]>
  /** customerView for many customers, in one read: key → view (keys not stored are left out) */
  customerViews(customerKeys: string[]): Promise<Map<string, Record<string, unknown>>>
  /** orderView for many orders of a store, in one read: order id → view (ids not stored are left out) */
  orderViews(storeId: string, orderIds: string[]): Promise<Map<string, Record<string, unknown>>>
}

/**
 * The StorageTx operations that only read the event log, stores, the store's view and workflow
 * versions: they write nothing and read no run, step or correlation. The batch wrappers of the
 * executor let them through untouched (batch-reads.ts, write-behind.ts); a new operation not
 * listed here takes their careful path (views read afresh, held-back writes sent first).
 */
export const VIEW_AND_LOG_READS: ReadonlyArray<keyof StorageTx> = [
  'getEvent',
  'getEvents',
  'findEventsAfter',
  'getStore',
  'customerView',
  'orderView',
  'cartView',
  'productView',
  'customerViews',
  'orderViews',
  'getWorkflowVersion',
]

export interface Storage {
  dialect: 'sqlite' | 'postgres'
  transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T>
  /** stores with routable events whose router lease is free, lapsed or `owner`'s, in id order (after `after`, when given) */
  pendingRouterStores(owner: string, now: Date, limit: number, after?: string): Promise<string[]>
  /** takes or renews a store's router lease; false while another live router holds it */
  takeRouterLease(storeId: string, owner: string, now: Date, until: Date): Promise<boolean>
  releaseRouterLeases(owner: string): Promise<void>
  /** events accepted and not routed yet, over every store */
  routerBacklog(): Promise<number>
  /** whether the store's router has routed every event of the store up to `seq` (not only that one) */
  isRouted(storeId: string, seq: number): Promise<boolean>
  /** the store's last accepted event's seq, or null */
  logHead(storeId: string): Promise<number | null>
  /** leases up to `limit` runs due at `now`, skipping runs leased by live workers */
  claimDueRuns(owner: string, now: Date, leaseMs: number, limit: number): Promise<RunRecord[]>
  releaseLease(runId: string, owner: string): Promise<void>
  /**
   * keeps runs this worker is still advancing leased (heartbeat); returns the ids renewed (a run
   * missing is no longer this worker's). Must not deadlock with a transaction writing those runs.
   */
  extendLeases(owner: string, runIds: string[], until: Date): Promise<string[]>
  /** services outside any transaction, for external actions */
  services(storeId: string, emit: ActionServices['events']['emit']): ActionServices
  /** a worker's heartbeat: its row in the installation's list of workers, created by the first */
  beatWorker(beat: WorkerBeat): Promise<void>
  /** a worker stopped gracefully */
  stopWorker(id: string, at: Date): Promise<void>
}

/** What a worker process says of itself on each heartbeat (GET /api/v1/workers, /metrics). */
export interface WorkerBeat {
  id: string
  hostname: string
  pid: number
  version: string
  startedAt: Date
  at: Date
  /** how often it beats, ms: a worker not seen for 3 of these is lost */
  heartbeatMs: number
  /** runs it holds under lease now */
  claimedRuns: number
}

/**
 * Bookkeeping of the view a sandbox (backtest) may leave out when its workflow cannot observe it
 * (route-event.ts SkipDerivations); never set live. demand: the daily demand per SKU forecasts
 * read; attribution: orders attributed to messages, and message touches (analytics).
 */
export interface ViewSkips {
  /** the stock a live order takes from its SKUs in the view (and, in route-event.ts, stock alerts) */
  inventory?: boolean
  demand?: boolean
  attribution?: boolean
  /**
   * the workflows' daily counters and insight cohorts (workflow_stats_daily, workflow_entries),
   * which only the analytics reports read: a backtest's sandbox reports from its runs and steps
   */
  analytics?: boolean
}
