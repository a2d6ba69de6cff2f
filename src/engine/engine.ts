import { hostname } from 'node:os'
import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import type { Clock } from '../lib/clock.ts'
import { DatabaseUnavailableError, isDatabaseUnavailable, isTransientDbError } from '../lib/db-errors.ts'
import { OperationalError, UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import type { Logger } from '../lib/logger.ts'
import type { ActionDefinition } from '../plugin-api/define-action.ts'
import type { EmittedEvent } from '../plugin-api/services.ts'
import { advanceBatch } from './executor.ts'
import type { IngestOptions, IngestResult, SkipDerivations } from './route-event.ts'
import { Router, type RoutePass } from './router.ts'
import { LeaseKeeper } from './lease-keeper.ts'
import { sleep } from './outage.ts'
import type { Storage, StorageTx } from './ports.ts'
import type { ExecutorDeps } from './step-kit.ts'
import { WorkflowCache } from './workflow-cache.ts'
import { StoreCache } from './store-cache.ts'
import { createTriggerRegistry, type TriggerRegistry } from '../triggers/index.ts'

export interface EngineOptions {
  storage: Storage
  clock: Clock
  log: Logger
  actions: ReadonlyMap<string, ActionDefinition>
  /** how long a claimed run stays leased to a worker, ms; default 60 s */
  leaseMs?: number
  /** simulate: external actions compute their output but touch nothing outside */
  dryRun?: boolean
  /** a sandbox (backtest): per-event derivations the replayed workflow cannot observe, left out (route-event.ts) */
  skipDerivations?: SkipDerivations
  /** derived triggers; default the built-in ones */
  triggers?: TriggerRegistry
  /** events routed per transaction; default 500 */
  routeBatch?: number
  /** how long one routing transaction may run before it commits what it has, real ms; default 15 on SQLite, 250 on PostgreSQL */
  routeBudgetMs?: number
  /** stores a routing pass takes a batch of; default 64 */
  routeStoresPerPass?: number
}

/**
 * How long an ingest request waits for an unreachable database before it is answered 503 (the
 * client sends it again); real ms.
 */
const INGEST_OUTAGE_WAIT_MS = 5_000

/** The longest a store's router lease lasts; ms of the engine's clock. */
const MAX_ROUTER_LEASE_MS = 10_000

/** How long one routing transaction may run on SQLite before it commits what it has; real ms. */
const SQLITE_ROUTE_BUDGET_MS = 15

/** How long catchUp() waits for the store's router; real ms. */
const CATCH_UP_WAIT_MS = 30_000

/** How long settle() waits for accepted events it cannot route yet; real ms. */
const SETTLE_WAIT_MS = 10_000

interface PendingIngest {
  events: CanonicalEvent[]
  options: IngestOptions
  resolve(results: IngestResult[]): void
  reject(err: unknown): void
}

/**
 * The engine's front: ingest (append to the event log, group-committed), the router that does
 * what accepted events cause, and the worker's claim-and-advance loop.
 */
export class Engine {
  readonly cache = new WorkflowCache()
  readonly storage: Storage
  readonly clock: Clock
  readonly log: Logger
  readonly actions: ReadonlyMap<string, ActionDefinition>
  readonly leaseMs: number
  readonly dryRun: boolean
  private readonly skipDerivations: SkipDerivations | undefined
  readonly triggers: TriggerRegistry
  private readonly stores = new StoreCache()
  private pending: PendingIngest[] = []
  private flushing = false
  private readonly dueListeners = new Set<() => void>()
  private readonly appendListeners = new Set<() => void>()
  readonly router: Router
  /** per worker: runs still leased when the database went away mid-tick, to let go once it is back */
  private readonly abandoned = new Map<string, Set<string>>()
  /** per worker: the leases of its tick under way */
  private readonly holding = new Map<string, LeaseKeeper>()
  private readonly stepListeners = new Set<(kind: string, seconds: number) => void>()

  constructor(options: EngineOptions) {
    this.storage = options.storage
    this.clock = options.clock
    this.log = options.log
    this.actions = options.actions
    this.leaseMs = options.leaseMs ?? 60_000
    this.dryRun = options.dryRun ?? false
    this.skipDerivations = options.skipDerivations
    this.triggers = options.triggers ?? createTriggerRegistry()
    // a dead router's stores wait for its lease to lapse: at most 10 s (or STOREFLOW_LEASE_MS when
    // shorter). A short lease is safe here, unlike a run's: the routing transaction locks the router
    // row and rechecks the owner, so a router that lost its lease mid-batch cannot route twice
    this.router = new Router(this.storage, this.clock, this.log, () => this.routeDeps(), {
      leaseMs: Math.min(this.leaseMs, MAX_ROUTER_LEASE_MS),
      // SQLite has one writer, shared with the API's appends: short transactions keep their wait short
      budgetMs: options.routeBudgetMs ?? (this.storage.dialect === 'sqlite' ? SQLITE_ROUTE_BUDGET_MS : 250),
      ...(options.routeBatch === undefined ? {} : { batch: options.routeBatch }),
      ...(options.routeStoresPerPass === undefined ? {} : { storesPerPass: options.routeStoresPerPass }),
    })
  }

  /** Forget cached store settings (after PUT /settings). */
  invalidateStore(storeId: string): void {
    this.stores.invalidate(storeId)
  }

  /** Called when routing creates or wakes runs, so an embedded worker can look at once. */
  onRunsDue(listener: () => void): () => void {
    this.dueListeners.add(listener)
    return () => this.dueListeners.delete(listener)
  }

  /**
   * Called after each step this process carried out, with its kind (the action's name, or the
   * control step's: `wait`, `if`, …) and how long it took in real seconds (/metrics' histogram).
   */
  onStepTimed(listener: (kind: string, seconds: number) => void): () => void {
    this.stepListeners.add(listener)
    return () => this.stepListeners.delete(listener)
  }

  /** Runs the worker `owner` holds under lease in this process now (its heartbeat reports it). */
  claimedBy(owner: string): number {
    return this.holding.get(owner)?.held().length ?? 0
  }

  /** Called when events were appended to the log, so an embedded router can route them at once. */
  onAppended(listener: () => void): () => void {
    this.appendListeners.add(listener)
    return () => this.appendListeners.delete(listener)
  }

  /**
   * Accepts events: appends them to the event log, deduplicated on (store, event id). What they
   * cause is done by the router (router.ts), after the commit. Concurrent callers share one
   * transaction (group commit, multi-row inserts): each promise resolves only after the commit
   * that holds its events.
   */
  ingest(events: CanonicalEvent[], options: IngestOptions): Promise<IngestResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ events, options, resolve, reject })
      if (!this.flushing) setImmediate(() => void this.flush())
    })
  }

  private async flush(): Promise<void> {
    if (this.flushing) return
    this.flushing = true
    try {
      while (this.pending.length > 0) {
        // bound a group so one commit stays short
        const group: PendingIngest[] = []
        let size = 0
        while (this.pending.length > 0 && size < 2000) {
          const next = this.pending.shift()!
          group.push(next)
          size += next.events.length
        }
        try {
          const results = await this.ingestGroup(group)
          for (const [i, p] of group.entries()) p.resolve(results[i]!)
        } catch (err) {
          // the database is away: every request of the group gets the same answer (503), none
          // is tried alone (that would only wait again)
          if (group.length === 1 || err instanceof DatabaseUnavailableError) {
            for (const p of group) p.reject(err)
            continue
          }
          // one bad request must not fail its neighbours: retry each in its own transaction
          for (const p of group) {
            try {
              p.resolve((await this.ingestGroup([p]))[0]!)
            } catch (e) {
              p.reject(e)
            }
          }
        }
        this.notifyAppended()
      }
    } finally {
      this.flushing = false
    }
  }

  private async ingestGroup(group: PendingIngest[]): Promise<IngestResult[][]> {
    // two API nodes creating the same customer at once, or a deadlock, fail one transaction:
    // it is safe to run again, and the second time sees what the first one committed
    let conflicts = 0
    const deadline = Date.now() + INGEST_OUTAGE_WAIT_MS
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ingestGroupOnce(group)
      } catch (err) {
        if (isDatabaseUnavailable(err)) {
          // the transaction rolled back, or its COMMIT was cut off and may have landed: running
          // the group again is safe either way (a stored event is then answered as a duplicate).
          // Nobody is answered before a commit: after the wait, a 503 and the client sends again.
          const left = deadline - Date.now()
          if (left <= 0)
            throw new DatabaseUnavailableError(
              'the database is unavailable; the events were not stored: send them again (a repeat of a stored event is answered as a duplicate)',
              err,
            )
          await sleep(Math.min(left, 100 * 2 ** Math.min(attempt, 4)))
          continue
        }
        if (++conflicts >= 3 || !isTransientDbError(err)) throw err
      }
    }
  }

  private async ingestGroupOnce(group: PendingIngest[]): Promise<IngestResult[][]> {
    const receivedAt = this.clock.now().toISOString()
    const items = group.flatMap((p) => p.events.map((event) => ({ event, receivedAt, historical: p.options.historical, source: p.options.source })))
    const appended = await this.storage.transaction((tx) => tx.appendEvents(items))
    let at = 0
    return group.map((p) => p.events.map((event) => ({ id: event.id, ...appended[at++]! })))
  }

  private routeDeps() {
    return {
      clock: this.clock,
      cache: this.cache,
      log: this.log,
      stores: this.stores,
      triggers: this.triggers,
      ...(this.skipDerivations ? { skip: this.skipDerivations } : {}),
    }
  }

  private notifyDue(): void {
    for (const listener of this.dueListeners) listener()
  }

  private notifyAppended(): void {
    for (const listener of this.appendListeners) listener()
  }

  /** Appends an event inside an existing transaction (emit_event, a schedule's tick); routed after that commit. */
  async ingestInTransaction(tx: StorageTx, event: CanonicalEvent, options: IngestOptions): Promise<IngestResult> {
    const [appended] = await tx.appendEvents([{ event, receivedAt: this.clock.now().toISOString(), historical: options.historical, source: options.source }])
    return { id: event.id, ...appended! }
  }

  /** One routing pass over the stores with accepted events this process may route (router.ts). */
  async route(owner: string): Promise<RoutePass> {
    const pass = await this.router.pass(owner)
    if (pass.routed > 0) this.notifyDue()
    return pass
  }

  /**
   * Routes until every accepted event is routed (commands that ingest, tests). Events a router
   * may not read yet (a transaction still running holds them back on PostgreSQL, or another
   * process's router holds the store) are waited for, up to `waitMs` of real time.
   */
  async settle(owner = 'settle', waitMs = SETTLE_WAIT_MS): Promise<number> {
    let total = 0
    const deadline = Date.now() + waitMs
    try {
      for (;;) {
        const { routed } = await this.route(owner)
        total += routed
        if (routed > 0) continue
        if ((await this.storage.routerBacklog()) === 0 || Date.now() > deadline) return total
        await sleep(5)
      }
    } finally {
      await this.router.release(owner)
    }
  }

  private executorDeps(): ExecutorDeps {
    return {
      storage: this.storage,
      cache: this.cache,
      clock: this.clock,
      log: this.log,
      actions: this.actions,
      stores: this.stores,
      dryRun: this.dryRun,
      emit: (storeId, event, tx) => this.emit(storeId, event, tx),
      timed: (kind, seconds) => {
        for (const listener of this.stepListeners) listener(kind, seconds)
      },
    }
  }

  private async emit(storeId: string, emitted: EmittedEvent, tx: StorageTx | null): Promise<{ id: string; duplicate: boolean }> {
    const parsed = parseEvent(
      { id: emitted.id ?? newId('evt_'), type: emitted.type, occurred_at: emitted.occurred_at, store: storeId, data: emitted.data },
      { store: storeId, now: this.clock.now() },
    )
    if (!parsed.ok)
      throw new UserError(`emitted event is invalid: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { code: 'validation_failed' })
    const options = { historical: false, source: 'workflow' }
    const result = tx ? await this.ingestInTransaction(tx, parsed.event, options) : (await this.ingest([parsed.event], options))[0]!
    return { id: result.id, duplicate: result.duplicate }
  }

  /**
   * Claims due runs and advances each; returns how many were claimed. `lateAfterMs`: how long a
   * round's external actions may hold its other runs (executor.ts, BatchWorker).
   */
  async tick(owner: string, limit = 50, concurrency = 8, options: { lateAfterMs?: number } = {}): Promise<number> {
    await this.letGoOfAbandoned(owner)
    const claimedAt = this.clock.now()
    const runs = await this.storage.claimDueRuns(owner, claimedAt, this.leaseMs, limit)
    if (runs.length === 0) return 0
    // heartbeat: a slow step (an HTTP call, a long batch) must not let the lease lapse, or a
    // second worker would take the run over while this one still acts on it; and where renewing
    // fails, this worker stops acting on the run before the lease may lapse (invariant 9)
    const leases = new LeaseKeeper(this.storage, this.clock, owner, this.leaseMs, this.log)
    leases.hold(
      runs.map((r) => r.id),
      claimedAt,
    )
    const deps: ExecutorDeps = { ...this.executorDeps(), holdLease: (runId) => leases.ensure(runId) }
    this.holding.set(owner, leases)
    try {
      await advanceBatch(deps, runs, { owner, concurrency, leases, ...(options.lateAfterMs === undefined ? {} : { lateAfterMs: options.lateAfterMs }) })
    } catch (err) {
      // the database went away mid-batch: nothing of this tick is in flight any more; the runs it
      // still holds are let go once the database answers, rather than after their leases lapse
      if (isDatabaseUnavailable(err)) this.abandon(owner, leases.held())
      throw err
    } finally {
      leases.stop()
      this.holding.delete(owner)
    }
    return runs.length
  }

  private abandon(owner: string, runIds: string[]): void {
    if (runIds.length === 0) return
    const set = this.abandoned.get(owner) ?? new Set<string>()
    for (const id of runIds) set.add(id)
    this.abandoned.set(owner, set)
  }

  /** Clears the leases of runs an outage cut off (only where still ours): any worker may take them now. */
  private async letGoOfAbandoned(owner: string): Promise<void> {
    const set = this.abandoned.get(owner)
    if (!set) return
    for (const id of [...set].sort()) {
      await this.storage.releaseLease(id, owner)
      set.delete(id)
    }
    this.abandoned.delete(owner)
  }

  /**
   * Waits until an accepted event is routed (a page that shows what the event changed), routing
   * itself when no other router holds the store; false after `waitMs` of real time.
   */
  async awaitRouted(storeId: string, seq: number, waitMs: number, owner = `await:${process.pid}`): Promise<boolean> {
    const deadline = Date.now() + waitMs
    try {
      for (;;) {
        if (await this.storage.isRouted(storeId, seq)) return true
        if (Date.now() > deadline) return false
        const { routed } = await this.route(owner)
        if (routed === 0) await sleep(5)
      }
    } finally {
      await this.router.release(owner)
    }
  }

  /**
   * Brings the store's router up to the events accepted so far (erasure and exports must see every
   * accepted event in the view, or a late-routed event would bring erased data back).
   */
  async catchUp(storeId: string, waitMs = CATCH_UP_WAIT_MS): Promise<void> {
    const head = await this.storage.logHead(storeId)
    if (head === null || (await this.awaitRouted(storeId, head, waitMs))) return
    throw new OperationalError(`events of store "${storeId}" are still being routed; try again in a moment`)
  }

  /**
   * Routes and runs ticks until nothing is routable or due (tests and simulate use this with a
   * manual clock); returns the runs claimed.
   */
  async drain(owner = 'drain', maxTicks = 10_000): Promise<number> {
    let total = 0
    for (let i = 0; i < maxTicks; i++) {
      const routed = await this.settle(owner)
      const n = await this.tick(owner, 100)
      if (n === 0 && routed === 0) return total
      total += n
    }
    return total
  }

  static workerId(): string {
    return `${hostname()}:${process.pid}:${newId().slice(-6)}`
  }
}
