import { hostname } from 'node:os'
import { backoffDelay } from '../lib/backoff.ts'
import { errorMessage } from '../lib/errors.ts'
import { STOREFLOW_VERSION } from '../lib/version.ts'
import { isDatabaseUnavailable, unavailableReason } from '../lib/db-errors.ts'
import type { Logger } from '../lib/logger.ts'
import { Engine } from './engine.ts'
import { Scheduler } from './scheduler.ts'

export interface WorkerOptions {
  /** runs advanced at once; default 8 */
  concurrency?: number
  /** how often to look for due runs when idle, ms; default 250 */
  pollMs?: number
  /**
   * runs claimed per look; default 100 on SQLite (a bigger batch holds the one writer longer, and
   * ingest waits), 500 on PostgreSQL (set-based wakes gain most from bigger batches there)
   */
  batch?: number
  /** how often to look at the schedules (cron triggers), real ms; default 1000 */
  scheduleEveryMs?: number
  /**
   * how soon the router looks again after a pass that found nothing, ms; default 25, doubling
   * while nothing comes up to 8 times that (an append in this process wakes it at once)
   */
  routePollMs?: number
  /**
   * how long, once a round of a tick has started its last external action, the round waits for
   * those still going before the tick's other runs go on without them, real ms; default 1000
   * (executor.ts, BatchWorker.lateAfterMs)
   */
  lateAfterMs?: number
  /**
   * how often the worker writes its row in the installation's list of workers (GET
   * /api/v1/workers, /metrics), real ms; default 10000. Not seen for 3 of these, it is lost.
   */
  heartbeatMs?: number
}

/** Default of WorkerOptions.heartbeatMs. */
export const WORKER_HEARTBEAT_MS = 10_000

/**
 * Routes accepted events (router.ts) and claims due runs with leases and advances them, in two
 * loops, so a slow batch of steps never holds up routing. Several workers (processes or machines) can
 * run at once: claims skip leased rows, and a crashed worker's runs are claimed again once its
 * lease expires. stop() lets in-flight steps finish; nothing is left half-done.
 *
 * The database going away (a restart, a failover) is weathered, not fatal: the loop looks again
 * with backoff (up to 5 s apart), says once that it is waiting, and once that it resumed.
 */
export class Worker {
  readonly id = Engine.workerId()
  private running = false
  private wake: (() => void) | null = null
  private wakeRouter: (() => void) | null = null
  /** appended while the router was busy: look again at once */
  private appendedMeanwhile = false
  private loop: Promise<void> | null = null
  private routing: Promise<void> | null = null
  private unsubscribe: Array<() => void> = []
  private heartbeat: NodeJS.Timeout | null = null
  private startedAt = new Date(0)
  /** the heartbeat's write under way, awaited before the stop is written */
  private beating: Promise<void> = Promise.resolve()
  private beatFailed = false
  /** every worker fires due schedules too: the schedules table makes each tick one worker's */
  private readonly scheduler: Scheduler

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly options: WorkerOptions = {},
  ) {
    this.scheduler = new Scheduler(engine, log, options.scheduleEveryMs === undefined ? {} : { everyMs: options.scheduleEveryMs })
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.unsubscribe = [
      this.engine.onRunsDue(() => this.wake?.()),
      this.engine.onAppended(() => {
        this.appendedMeanwhile = true
        this.wakeRouter?.()
      }),
    ]
    this.loop = this.run()
    this.routing = this.route()
    this.startedAt = this.engine.clock.now()
    const heartbeatMs = this.options.heartbeatMs ?? WORKER_HEARTBEAT_MS
    let inFlight = false
    const beat = () => {
      // a beat still waiting for the database (away, or slow to answer) is not joined by more
      if (inFlight) return
      inFlight = true
      this.beating = this.beat(heartbeatMs).finally(() => {
        inFlight = false
      })
    }
    beat()
    this.heartbeat = setInterval(beat, heartbeatMs)
    this.heartbeat.unref()
    this.log.info({ workerId: this.id }, 'worker started')
  }

  /**
   * One upsert of this worker's row: alive now, and the runs it holds under lease. A failure
   * (the database away) is said once; the next beat tries again.
   */
  private async beat(heartbeatMs: number): Promise<void> {
    try {
      await this.engine.storage.beatWorker({
        id: this.id,
        hostname: hostname(),
        pid: process.pid,
        version: STOREFLOW_VERSION,
        startedAt: this.startedAt,
        at: this.engine.clock.now(),
        heartbeatMs,
        claimedRuns: this.engine.claimedBy(this.id),
      })
      this.beatFailed = false
    } catch (err) {
      if (!this.beatFailed) this.log.warn({ workerId: this.id, err: errorMessage(err) }, 'worker heartbeat failed; trying again at the next')
      this.beatFailed = true
    }
  }

  private async run(): Promise<void> {
    const pollMs = this.options.pollMs ?? 250
    let outage: { since: number; attempts: number } | null = null
    while (this.running) {
      let claimed = 0
      let pause = 0
      try {
        await this.scheduler.poll()
        claimed = await this.engine.tick(
          this.id,
          this.options.batch ?? (this.engine.storage.dialect === 'postgres' ? 500 : 100),
          this.options.concurrency ?? 8,
          this.options.lateAfterMs === undefined ? {} : { lateAfterMs: this.options.lateAfterMs },
        )
        if (outage) {
          this.log.info({ workerId: this.id, awayMs: Date.now() - outage.since }, 'database reachable again; worker resumed')
          outage = null
        }
      } catch (err) {
        if (isDatabaseUnavailable(err)) {
          if (!outage) {
            outage = { since: Date.now(), attempts: 0 }
            this.log.warn({ workerId: this.id, reason: unavailableReason(err) }, 'database unavailable; worker waiting for it')
          }
          pause = backoffDelay(++outage.attempts, { baseMs: 250, maxMs: 5_000 })
        } else {
          this.log.error({ err }, 'worker tick failed')
          pause = pollMs
        }
      }
      // better-sqlite3 answers synchronously: without a turn of the event loop between ticks, an
      // embedded worker with runs due would starve the HTTP server sharing its process
      await new Promise<void>((resolve) => setImmediate(resolve))
      if ((claimed === 0 || pause > 0) && this.running) {
        await this.pause(pause, pollMs, (wake) => {
          this.wake = wake
        })
      }
    }
  }

  private async route(): Promise<void> {
    const pollMs = this.options.routePollMs ?? 25
    // an idle router backs off: every look is a probe per store (many stores on one installation)
    let idlePollMs = pollMs
    let outage: { since: number; attempts: number } | null = null
    while (this.running) {
      let routed = 0
      let pause = 0
      this.appendedMeanwhile = false
      try {
        routed = (await this.engine.route(this.id)).routed
        outage = null
      } catch (err) {
        if (isDatabaseUnavailable(err)) {
          outage ??= { since: Date.now(), attempts: 0 }
          pause = backoffDelay(++outage.attempts, { baseMs: 250, maxMs: 5_000 })
        } else {
          // a race with another writer (SQLite busy, a PostgreSQL serialization failure) or a bug:
          // nothing of the batch committed, the next pass routes it again
          this.log.warn({ err }, 'routing pass failed; trying again')
          pause = pollMs
        }
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (routed > 0 || this.appendedMeanwhile) idlePollMs = pollMs
      if (routed > 0 && pause === 0) continue
      if (this.appendedMeanwhile && pause === 0) continue
      if (!this.running) break
      await this.pause(pause, idlePollMs, (wake) => {
        this.wakeRouter = wake
      })
      idlePollMs = Math.min(idlePollMs * 2, pollMs * 8)
    }
    await this.engine.router.release(this.id).catch(() => undefined)
  }

  /**
   * Waits out a backoff (`backoffMs`), or idles for `pollMs`; new work cuts an idle wait short, not
   * a backoff (stop() always does). `setWake` is handed what cuts it short, and null after.
   */
  private async pause(backoffMs: number, pollMs: number, setWake: (wake: (() => void) | null) => void): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, backoffMs || pollMs)
      setWake(() => {
        if (backoffMs > 0 && this.running) return
        clearTimeout(timer)
        resolve()
      })
    })
    setWake(null)
  }

  async stop(): Promise<void> {
    this.running = false
    for (const unsubscribe of this.unsubscribe) unsubscribe()
    this.wake?.()
    this.wakeRouter?.()
    await this.routing
    await this.loop
    if (this.heartbeat) {
      clearInterval(this.heartbeat)
      this.heartbeat = null
      await this.beating
      await this.engine.storage.stopWorker(this.id, this.engine.clock.now()).catch((err) => {
        this.log.warn({ workerId: this.id, err: errorMessage(err) }, 'could not mark the worker stopped; it will show as lost')
      })
    }
    this.log.info({ workerId: this.id }, 'worker stopped')
  }
}
