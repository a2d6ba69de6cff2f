import { isDatabaseUnavailable, isTransientDbError } from '../lib/db-errors.ts'
import type { Clock } from '../lib/clock.ts'
import type { Logger } from '../lib/logger.ts'
import type { LoggedEvent, Storage, StorageTx } from './ports.ts'
import { PendingRuns, routeEvent, type RouteDeps } from './route-event.ts'

export interface RouterOptions {
  /** events routed per transaction; default 500 */
  batch?: number
  /** how long a store's router lease lasts, ms; default 60 s */
  leaseMs?: number
  /** stores looked at per pass; default 64 */
  storesPerPass?: number
  /** how long one batch's transaction may route before it commits what it has, real ms; default 250 */
  budgetMs?: number
}

export interface RoutePass {
  /** events routed */
  routed: number
  /** runs the routed events started */
  runs: number
}

/**
 * Consumes the event log: per store, in log order, in batches, each batch one transaction that
 * does what its events cause (route-event.ts) and moves the store's router position past them.
 *
 * One router per store at a time: a lease on the store's router row says whose turn it is, and
 * the routing transaction locks that row and rechecks the lease, so a router whose lease lapsed
 * cannot route what its successor routes (the second waits for the first's commit and then reads
 * the moved position). Several routers share the stores between them.
 */
export class Router {
  private readonly batch: number
  private readonly leaseMs: number
  private readonly storesPerPass: number
  private readonly budgetMs: number
  /** per store and seq: how many passes in a row the event failed when routed alone */
  private readonly loneFailures = new Map<string, number>()
  /** per owner and store: until when that owner surely holds the lease (by the engine's clock) */
  private readonly held = new Map<string, number>()
  /** per owner: the last store of its last full pass; the next pass starts after it */
  private readonly nextAfter = new Map<string, string>()

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly deps: () => Omit<RouteDeps, 'heads' | 'pending'>,
    options: RouterOptions = {},
  ) {
    this.batch = options.batch ?? 500
    this.leaseMs = options.leaseMs ?? 60_000
    this.storesPerPass = options.storesPerPass ?? 64
    this.budgetMs = options.budgetMs ?? 250
  }

  /**
   * One pass: a batch (at most `batch` events, or what the time budget allows) for each store
   * with routable events this router may take, up to `storesPerPass` stores. So one store's flood
   * delays another store's events by one batch per pass, not by its backlog. With more stores
   * than that waiting, a pass starts after the last store the previous pass routed and goes round
   * (wrapping at the end of the store ids), so every store's turn comes within a few passes.
   */
  async pass(owner: string): Promise<RoutePass> {
    const now = this.clock.now()
    const after = this.nextAfter.get(owner)
    let stores = await this.storage.pendingRouterStores(owner, now, this.storesPerPass, after)
    if (after !== undefined && stores.length < this.storesPerPass) {
      // wrapped round: the stores from the start, up to (and including) where this pass began
      const wrapped = await this.storage.pendingRouterStores(owner, now, this.storesPerPass - stores.length)
      stores = [...stores, ...wrapped.filter((s) => s <= after && !stores.includes(s))]
    }
    if (stores.length < this.storesPerPass) this.nextAfter.delete(owner)
    else this.nextAfter.set(owner, stores[stores.length - 1]!)
    const total: RoutePass = { routed: 0, runs: 0 }
    for (const storeId of stores) {
      if (!(await this.lease(storeId, owner))) continue
      const done = await this.routeBatch(storeId, owner)
      total.routed += done.routed
      total.runs += done.runs
    }
    return total
  }

  /** Lets go of every store this router leases (on stop), so another takes them at once. */
  async release(owner: string): Promise<void> {
    for (const key of [...this.held.keys()]) if (key.startsWith(`${owner}\u0000`)) this.held.delete(key)
    await this.storage.releaseRouterLeases(owner)
  }

  private async lease(storeId: string, owner: string): Promise<boolean> {
    const now = this.clock.now()
    // a lease with more than half its time left needs no statement: each batch renews it anyway
    const key = heldKey(owner, storeId)
    if ((this.held.get(key) ?? 0) - now.getTime() > this.leaseMs / 2) return true
    const until = new Date(now.getTime() + this.leaseMs)
    const ok = await this.storage.takeRouterLease(storeId, owner, now, until)
    if (ok) this.held.set(key, until.getTime())
    else this.held.delete(key)
    return ok
  }

  private async routeBatch(storeId: string, owner: string): Promise<RoutePass> {
    try {
      return await this.routeTogether(storeId, owner, this.batch)
    } catch (err) {
      // the database away, or a race with another writer: the next pass routes the batch again
      if (isDatabaseUnavailable(err) || isTransientDbError(err)) throw err
      // something in the batch fails: route its events one by one, so one bad event cannot hold
      // up the store's log. An event that fails alone is tried again on the next passes; only
      // after MAX_LONE_FAILURES passes in a row is it passed over, logged (it stays stored)
      this.log.warn({ storeId, err }, 'routing a batch failed; routing its events one at a time')
      const total: RoutePass = { routed: 0, runs: 0 }
      for (let i = 0; i < this.batch; i++) {
        let done: RoutePass
        try {
          done = await this.routeTogether(storeId, owner, 1)
        } catch (one) {
          if (isDatabaseUnavailable(one) || isTransientDbError(one)) throw one
          done = await this.failedAlone(storeId, owner, one)
          if (done.routed === 0) break
        }
        if (done.routed === 0) break
        total.routed += done.routed
        total.runs += done.runs
      }
      return total
    }
  }

  /** Counts a lone failure of the store's next event; passes over it at the MAX_LONE_FAILURES-th pass in a row. */
  private async failedAlone(storeId: string, owner: string, err: unknown): Promise<RoutePass> {
    const next = await this.storage.transaction(async (tx) => {
      const position = await tx.lockRouter(storeId, owner)
      return position ? ((await tx.readLog(storeId, position, 1))[0] ?? null) : null
    })
    if (!next) return { routed: 0, runs: 0 }
    const key = `${storeId}\u0000${next.event.seq}`
    const failures = (this.loneFailures.get(key) ?? 0) + 1
    if (failures < MAX_LONE_FAILURES) {
      this.loneFailures.set(key, failures)
      this.log.error({ storeId, eventId: next.event.id, seq: next.event.seq, failures, err }, 'event could not be routed; trying again on the next pass')
      return { routed: 0, runs: 0 }
    }
    this.loneFailures.delete(key)
    return this.passOver(storeId, owner, err)
  }

  private async routeTogether(storeId: string, owner: string, limit: number): Promise<RoutePass> {
    return this.storage.transaction(async (tx) => {
      const position = await tx.lockRouter(storeId, owner)
      if (!position) {
        this.held.delete(heldKey(owner, storeId))
        return { routed: 0, runs: 0 }
      }
      const deps: RouteDeps = { ...this.deps(), heads: new Map(), pending: new PendingRuns() }
      let runs = 0
      const routed: LoggedEvent[] = []
      const started = performance.now()
      // the log is read a page at a time: a batch cut short by its time budget has not read (and
      // parsed) events it never routes
      let from = position
      let page = Math.min(limit, FIRST_PAGE)
      reading: while (routed.length < limit) {
        const events = await tx.readLog(storeId, from, Math.min(page, limit - routed.length))
        for (const logged of events) {
          runs += (await routeEvent(tx, logged, deps)).length
          routed.push(logged)
          // a batch that takes long commits what it has: the transaction holds SQLite's one
          // writer (and, in `serve`, the event loop the API answers on)
          if (performance.now() - started > this.budgetMs) break reading
        }
        if (events.length < page) break
        from = events[events.length - 1]!.position
        page *= 2
      }
      if (routed.length === 0) return { routed: 0, runs: 0 }
      await deps.pending.flush(tx)
      await this.advance(tx, storeId, owner, routed)
      return { routed: routed.length, runs }
    })
  }

  /** Moves past an event that cannot be routed. */
  private async passOver(storeId: string, owner: string, err: unknown): Promise<RoutePass> {
    return this.storage.transaction(async (tx) => {
      const position = await tx.lockRouter(storeId, owner)
      if (!position) return { routed: 0, runs: 0 }
      const [logged] = await tx.readLog(storeId, position, 1)
      if (!logged) return { routed: 0, runs: 0 }
      this.log.error({ storeId, eventId: logged.event.id, seq: logged.event.seq, err }, 'event could not be routed; passed over (it stays stored)')
      await this.advance(tx, storeId, owner, [logged])
      return { routed: 1, runs: 0 }
    })
  }

  private async advance(tx: StorageTx, storeId: string, owner: string, events: LoggedEvent[]): Promise<void> {
    const until = new Date(this.clock.now().getTime() + this.leaseMs)
    await tx.advanceRouter(storeId, events[events.length - 1]!.position, until)
    this.held.set(heldKey(owner, storeId), until.getTime())
  }
}

/** Events read in a batch's first page of the log; each further page is twice the last. */
const FIRST_PAGE = 32

/** Passes in a row an event must fail alone before the router moves past it. */
const MAX_LONE_FAILURES = 3

const heldKey = (owner: string, storeId: string) => `${owner}\u0000${storeId}`
