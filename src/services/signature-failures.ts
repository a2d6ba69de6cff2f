import type { Kysely } from 'kysely'
import type { Logger } from '../lib/logger.ts'
import { recordSignatureFailure } from '../store/connectors.repo.ts'
import type { ConnectorHealth } from '../store/deliveries.repo.ts'
import type { Database } from '../store/tables.ts'

/**
 * Webhook deliveries refused for their signature, counted in memory and written to the
 * connector's hourly counter row at most once per flush (every minute, and when the server
 * closes). A refused delivery is unauthenticated: if each one wrote to the database, anyone could
 * turn a flood of junk into disk and WAL growth. Memory is bounded by the connectors that exist
 * (only a store's own connectors are counted) times the hours a flush spans, with a hard cap.
 *
 * Health reads the database rows plus what this process has not written yet; other processes'
 * unwritten counts show up within a flush interval.
 */

export const FLUSH_EVERY_MS = 60_000
/** far above connectors × hours in practice; past it new keys are logged, not counted */
const MAX_PENDING = 10_000

interface Pending {
  connectorId: string
  count: number
  lastAt: Date
  lastReason: string
}

export class SignatureFailureTally {
  private pending = new Map<string, Pending>()
  private flushing: Promise<void> = Promise.resolve()
  private warnedFull = false

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
  ) {}

  /**
   * Counts one refused delivery against each connector it was tried with. True when it is the
   * first for these connectors since the last flush: the caller logs that one, and the flush logs
   * the count, so a flood is a few log lines a minute, not one per delivery.
   */
  record(connectorIds: string[], reason: string, now: Date): boolean {
    const hour = now.toISOString().slice(0, 13)
    let first = false
    for (const connectorId of connectorIds) {
      const key = `${connectorId} ${hour}`
      const entry = this.pending.get(key)
      if (entry) {
        entry.count += 1
        entry.lastAt = now
        entry.lastReason = reason
      } else if (this.pending.size < MAX_PENDING) {
        first = true
        this.pending.set(key, { connectorId, count: 1, lastAt: now, lastReason: reason })
      } else if (!this.warnedFull) {
        this.warnedFull = true
        this.log.warn({ pending: this.pending.size }, 'signature failure tally full until the next flush')
      }
    }
    return first
  }

  /** Adds this process's unwritten failures since `since` to a health answer read from the database. */
  addPending(health: ConnectorHealth, since: Date): ConnectorHealth {
    const sinceHour = since.toISOString().slice(0, 13)
    let count = 0
    let newest: Pending | null = null
    for (const [key, p] of this.pending) {
      if (p.connectorId !== health.connector_id || key.slice(-13) < sinceHour) continue
      count += p.count
      if (!newest || p.lastAt > newest.lastAt) newest = p
    }
    if (!newest) return health
    const newer = health.last_signature_failure_at === null || newest.lastAt.toISOString() >= health.last_signature_failure_at
    return {
      ...health,
      signature_failures_24h: health.signature_failures_24h + count,
      ...(newer ? { last_signature_failure_at: newest.lastAt.toISOString(), last_signature_failure_reason: newest.lastReason.slice(0, 300) } : {}),
    }
  }

  /** Drops a removed connector's unwritten failures (its counter rows are deleted with it). */
  forget(connectorId: string): void {
    for (const [key, p] of this.pending) if (p.connectorId === connectorId) this.pending.delete(key)
  }

  /** Writes what is pending, one row update per connector and hour; flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write())
    return this.flushing
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    this.warnedFull = false
    for (const [key, p] of batch) {
      try {
        await recordSignatureFailure(this.db, [p.connectorId], p.lastReason, p.lastAt, p.count)
        this.log.warn({ connectorId: p.connectorId, count: p.count, lastReason: p.lastReason }, 'webhook signatures refused')
      } catch (err) {
        // kept for the next flush (the database may be restarting); merged with what came since
        const since = this.pending.get(key)
        this.pending.set(key, since ? { ...since, count: since.count + p.count } : p)
        this.log.error({ err, connectorId: p.connectorId }, 'signature failures not written; kept for the next flush')
      }
    }
  }
}
