import { hostname } from 'node:os'
import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import type { Clock } from '../lib/clock.ts'
import { UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import type { Logger } from '../lib/logger.ts'
import type { ActionDefinition } from '../plugin-api/define-action.ts'
import type { EmittedEvent } from '../plugin-api/services.ts'
import { MAX_CHAIN, RunChanged, advanceRun, chainInTx, finish, isEnded, isExternalAction, runExternalAction, stops, type ActionInstruction, type ExecutorDeps } from './executor.ts'
import { ingestInTx, type IngestOptions, type IngestResult } from './ingest.ts'
import type { RunRecord, Storage, StorageTx, StoredEvent } from './ports.ts'
import { WorkflowCache } from './workflow-cache.ts'
import { StoreCache } from './store-cache.ts'

export interface EngineOptions {
  storage: Storage
  clock: Clock
  log: Logger
  actions: ReadonlyMap<string, ActionDefinition>
  /** how long a claimed run stays leased to a worker, ms; default 60 s */
  leaseMs?: number
  /** simulate: external actions compute their output but touch nothing outside */
  dryRun?: boolean
}

/** Rounds of chain + external actions one tick gives a claimed batch before letting go of it. */
const MAX_ROUNDS = 20

interface PendingIngest {
  events: CanonicalEvent[]
  options: IngestOptions
  resolve(results: IngestResult[]): void
  reject(err: unknown): void
}

/**
 * The engine's front: ingest (group-committed) and the worker's claim-and-advance loop.
 */
export class Engine {
  readonly cache = new WorkflowCache()
  readonly storage: Storage
  readonly clock: Clock
  readonly log: Logger
  readonly actions: ReadonlyMap<string, ActionDefinition>
  readonly leaseMs: number
  readonly dryRun: boolean
  private readonly stores = new StoreCache()
  private pending: PendingIngest[] = []
  private flushing = false
  private readonly dueListeners = new Set<() => void>()

  constructor(options: EngineOptions) {
    this.storage = options.storage
    this.clock = options.clock
    this.log = options.log
    this.actions = options.actions
    this.leaseMs = options.leaseMs ?? 60_000
    this.dryRun = options.dryRun ?? false
  }

  /** Forget cached store settings (after PUT /settings). */
  invalidateStore(storeId: string): void {
    this.stores.invalidate(storeId)
  }

  /** Called when ingest creates or wakes runs, so an embedded worker can look at once. */
  onRunsDue(listener: () => void): () => void {
    this.dueListeners.add(listener)
    return () => this.dueListeners.delete(listener)
  }

  /**
   * Stores events and everything they cause. Concurrent callers share one transaction (group
   * commit): each promise resolves only after the commit that holds its events.
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
          group.forEach((p, i) => p.resolve(results[i]!))
        } catch (err) {
          if (group.length === 1) {
            group[0]!.reject(err)
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
        if (group.some((p) => !p.options.historical)) this.notifyDue()
      }
    } finally {
      this.flushing = false
    }
  }

  private async ingestGroup(group: PendingIngest[]): Promise<IngestResult[][]> {
    // two API nodes creating the same customer at once, or a deadlock, fail one transaction:
    // it is safe to run again, and the second time sees what the first one committed
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ingestGroupOnce(group)
      } catch (err) {
        if (attempt >= 3 || !isTransientDbError(err)) throw err
      }
    }
  }

  private async ingestGroupOnce(group: PendingIngest[]): Promise<IngestResult[][]> {
    return this.storage.transaction(async (tx) => {
      const out: IngestResult[][] = []
      // one read of the active workflows per store and event type serves the whole group
      const deps = { ...this.ingestDeps(), heads: new Map() }
      for (const p of group) {
        const results: IngestResult[] = []
        for (const event of p.events) results.push(await ingestInTx(tx, event, p.options, deps))
        out.push(results)
      }
      return out
    })
  }

  private ingestDeps() {
    return { clock: this.clock, cache: this.cache, log: this.log, stores: this.stores }
  }

  private notifyDue(): void {
    for (const listener of this.dueListeners) listener()
  }

  /** Ingest inside an existing transaction (emit_event from an internal action). */
  async ingestInTransaction(tx: StorageTx, event: CanonicalEvent, options: IngestOptions): Promise<IngestResult> {
    return ingestInTx(tx, event, options, this.ingestDeps())
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
    }
  }

  private async emit(storeId: string, emitted: EmittedEvent, tx: StorageTx | null): Promise<{ id: string; duplicate: boolean }> {
    const parsed = parseEvent({ id: emitted.id ?? newId('evt_'), type: emitted.type, occurred_at: emitted.occurred_at, store: storeId, data: emitted.data }, { store: storeId, now: this.clock.now() })
    if (!parsed.ok) throw new UserError(`emitted event is invalid: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { code: 'validation_failed' })
    const options = { historical: false, source: 'workflow' }
    const result = tx ? await this.ingestInTransaction(tx, parsed.event, options) : (await this.ingest([parsed.event], options))[0]!
    return { id: result.id, duplicate: result.duplicate }
  }

  /** Claims due runs and advances each; returns how many were claimed. */
  async tick(owner: string, limit = 50, concurrency = 8): Promise<number> {
    const runs = await this.storage.claimDueRuns(owner, this.clock.now(), this.leaseMs, limit)
    if (runs.length === 0) return 0
    const deps = this.executorDeps()
    const pending = new Set(runs.map((r) => r.id))
    // heartbeat: a slow step (an HTTP call, a long batch) must not let the lease lapse, or a
    // second worker would take the run over while this one still acts on it
    const heartbeat = setInterval(() => {
      const until = new Date(this.clock.now().getTime() + this.leaseMs)
      this.storage.extendLeases(owner, [...pending], until).catch((err) => this.log.warn({ err }, 'lease heartbeat failed'))
    }, Math.max(250, Math.floor(this.leaseMs / 3)))
    heartbeat.unref()
    try {
      await this.advanceBatch(deps, runs, owner, concurrency, pending)
    } finally {
      clearInterval(heartbeat)
    }
    return runs.length
  }

  /**
   * Advances a claimed batch. The common case takes few transactions: one for every run's
   * control steps and internal actions together (group commit, as for ingest), then each
   * external action in its own begin / act / commit, in `concurrency` lanes, and round again.
   * If the shared transaction fails for any run (a race with ingest, an unexpected error), it
   * rolls back whole and those runs are advanced one by one, as before batching.
   */
  private async advanceBatch(deps: ExecutorDeps, claimed: RunRecord[], owner: string, concurrency: number, pending: Set<string>): Promise<void> {
    let active = claimed
    for (let round = 0; active.length > 0; round++) {
      const now = this.clock.now()
      if (round >= MAX_ROUNDS) {
        await this.releaseRuns(active)
        return
      }
      const chained = await this.chainBatch(deps, active)
      if (!chained) {
        await this.lanes(active, concurrency, async (run) => {
          await this.advanceSafely(deps, run, owner)
          pending.delete(run.id)
        })
        return
      }
      // a run already at an external action was not touched: it is due (claimed), whatever its status says
      const going = chained.filter((c) => c.run !== null && (!c.moved || !stops(c.run, now))).map((c) => c.run!)
      for (const c of chained) if (c.run && c.moved && stops(c.run, now)) pending.delete(c.run.id)
      const external: RunRecord[] = []
      const internal: RunRecord[] = []
      for (const run of going) {
        const workflow = this.cache.peek(run.store_id, run.workflow_id, run.workflow_version)
        if (workflow && isExternalAction(deps, workflow.program[run.state.pc])) external.push(run)
        else internal.push(run)
      }
      const afterExternal: RunRecord[] = []
      await this.lanes(external, concurrency, async (run) => {
        const workflow = this.cache.peek(run.store_id, run.workflow_id, run.workflow_version)!
        try {
          const next = await runExternalAction(deps, run, workflow.program[run.state.pc] as ActionInstruction)
          if (next && !stops(next, this.clock.now())) afterExternal.push(next)
          else pending.delete(run.id)
        } catch (err) {
          pending.delete(run.id)
          if (err instanceof RunChanged) return
          this.log.error({ runId: run.id, err }, 'run advance failed')
          await this.storage.extendLeases(owner, [run.id], new Date(this.clock.now().getTime() + 30_000)).catch(() => undefined)
        }
      })
      active = [...internal, ...afterExternal]
    }
  }

  /** Every run's chain in one transaction; null when that transaction had to roll back. */
  private async chainBatch(deps: ExecutorDeps, runs: RunRecord[]): Promise<Array<{ run: RunRecord | null; moved: boolean }> | null> {
    try {
      return await this.storage.transaction(async (rawTx) => {
        const tx = withEventMemo(rawTx)
        const out: Array<{ run: RunRecord | null; moved: boolean }> = []
        for (const run of runs) {
          const workflow = await this.cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)
          if (!workflow) {
            out.push({ run: await finish(tx, run, 'failed', this.clock.now(), `workflow ${run.workflow_id} version ${run.workflow_version} not found`), moved: true })
            continue
          }
          if (isExternalAction(deps, workflow.program[run.state.pc])) {
            out.push({ run, moved: false })
            continue
          }
          out.push({ run: (await chainInTx(deps, tx, workflow, run, MAX_CHAIN, { trusted: true })).run, moved: true })
        }
        return out
      })
    } catch (err) {
      this.log.debug({ err: (err as Error).message, runs: runs.length }, 'batch rolled back; advancing runs one by one')
      return null
    }
  }

  private async lanes<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
    let index = 0
    const lane = async () => {
      while (index < items.length) await fn(items[index++]!)
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane))
  }

  /** Lets go of runs this worker did not finish this tick: due again at once, for any worker. */
  private async releaseRuns(runs: RunRecord[]): Promise<void> {
    await this.storage.transaction(async (tx) => {
      for (const run of runs) {
        const fresh = await tx.getRun(run.id)
        if (fresh && !isEnded(fresh)) await tx.updateRun({ ...fresh, lease_owner: null, due_at: this.clock.now().toISOString() }, fresh.version)
      }
    })
  }

  private async advanceSafely(deps: ExecutorDeps, run: RunRecord, owner: string): Promise<void> {
    try {
      await advanceRun(deps, run)
    } catch (err) {
      // a bug or a database error: keep the run leased for a while so it is tried again later,
      // not at once in a hot loop
      this.log.error({ runId: run.id, err }, 'run advance failed')
      await this.storage.extendLeases(owner, [run.id], new Date(this.clock.now().getTime() + 30_000)).catch(() => undefined)
    }
  }

  /** Runs ticks until nothing is due (tests and simulate use this with a manual clock). */
  async drain(owner = 'drain', maxTicks = 10_000): Promise<number> {
    let total = 0
    for (let i = 0; i < maxTicks; i++) {
      const n = await this.tick(owner, 100)
      if (n === 0) return total
      total += n
    }
    return total
  }

  static workerId(): string {
    return `${hostname()}:${process.pid}:${newId().slice(-6)}`
  }
}

/** unique violation, serialization failure, deadlock (PostgreSQL); busy (SQLite) */
function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === '23505' || code === '40001' || code === '40P01' || code === 'SQLITE_BUSY'
}

/**
 * Stored events do not change, so within one transaction each is read once however many steps
 * of however many runs ask for it (every step's scope needs its run's trigger).
 */
function withEventMemo(tx: StorageTx): StorageTx {
  const events = new Map<number, Promise<StoredEvent | null>>()
  return Object.assign(Object.create(tx) as StorageTx, {
    getEvent(seq: number) {
      let hit = events.get(seq)
      if (!hit) {
        hit = tx.getEvent(seq)
        events.set(seq, hit)
      }
      return hit
    },
  })
}
