import type { Clock } from '../lib/clock.ts'
import { errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/logger.ts'
import type { Storage } from './ports.ts'

/**
 * The leases one tick holds on its claimed runs (ARCHITECTURE.md, invariant 9): a heartbeat keeps
 * them alive, and the keeper knows, by the engine's clock, until when each is surely still this
 * worker's. A lease is renewed every third of its length; a failed renewal is tried again within a
 * second, not a third of a lease later. Before every external action the action protocol asks `ensure`:
 * with less than a third of the lease surely left, the lease is renewed on the spot, and if that
 * fails (the database is away, or another worker took the run after the lease lapsed) the worker
 * must not act on the run. Writes need no such check: they are versioned.
 */
export class LeaseKeeper {
  /** run id → ms (engine clock) until which the lease is surely ours */
  private readonly expiry = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private stopped = false

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly log: Logger,
  ) {}

  /** Runs just claimed at `claimedAt` (their lease_until is claimedAt + leaseMs); starts the heartbeat. */
  hold(runIds: string[], claimedAt: Date): void {
    for (const id of runIds) this.expiry.set(id, claimedAt.getTime() + this.leaseMs)
    this.schedule(this.period())
  }

  /** This tick is done with the run (it stopped, was let go, or is no longer ours): no more renewals. */
  letGo(runId: string): void {
    this.expiry.delete(runId)
  }

  /** Runs still held, e.g. abandoned when the database went away mid-tick. */
  held(): string[] {
    return [...this.expiry.keys()]
  }

  /**
   * True when at least a third of the lease is surely left — enough to begin an action, with the
   * heartbeat renewing it meanwhile — renewing this run's lease first if less is. False when it
   * could not be renewed: then another worker may claim the run once the lease lapses.
   */
  async ensure(runId: string): Promise<boolean> {
    if (this.enoughLeft(runId)) return true
    if (!this.expiry.has(runId)) return false
    const until = new Date(this.clock.now().getTime() + this.leaseMs)
    try {
      const renewed = await this.storage.extendLeases(this.owner, [runId], until)
      if (!renewed.includes(runId)) this.expiry.delete(runId)
      else if (this.expiry.has(runId)) this.expiry.set(runId, Math.max(this.expiry.get(runId)!, until.getTime()))
    } catch (err) {
      this.log.warn({ runId, err: errorMessage(err) }, 'lease renewal failed')
    }
    return this.enoughLeft(runId)
  }

  private enoughLeft(runId: string): boolean {
    const until = this.expiry.get(runId)
    return until !== undefined && until - this.clock.now().getTime() >= this.leaseMs / 3
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private period(): number {
    return Math.max(250, Math.floor(this.leaseMs / 3))
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.beat(), ms)
    this.timer.unref()
  }

  private async beat(): Promise<void> {
    this.timer = null
    const ids = this.held()
    if (ids.length === 0) return this.schedule(this.period())
    // the lease written is measured from before the statement is sent, so our knowledge of it
    // never runs ahead of what the database holds
    const until = new Date(this.clock.now().getTime() + this.leaseMs)
    try {
      const renewed = new Set(await this.storage.extendLeases(this.owner, ids, until))
      for (const id of ids) {
        if (!this.expiry.has(id)) continue
        // not renewed: let go meanwhile, or no longer ours; either way, hands off
        if (renewed.has(id)) this.expiry.set(id, Math.max(this.expiry.get(id)!, until.getTime()))
        else this.expiry.delete(id)
      }
      this.schedule(this.period())
    } catch (err) {
      this.log.warn({ err: errorMessage(err), runs: ids.length }, 'lease heartbeat failed; retrying')
      this.schedule(Math.max(100, Math.min(1000, Math.floor(this.leaseMs / 10))))
    }
  }
}
