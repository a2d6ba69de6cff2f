import { cronProblem, latestTickAtOrBefore, nextTickAfter, timeZoneProblem, type CronSchedule } from '../core/cron.ts'
import { isDatabaseUnavailable } from '../lib/db-errors.ts'
import type { Logger } from '../lib/logger.ts'
import type { DerivedTriggerDefinition } from '../plugin-api/define-trigger.ts'
import { scheduleTrigger } from '../triggers/index.ts'
import { deriveEvents } from './derived.ts'
import type { Engine } from './engine.ts'
import type { ScheduleRecord, StorageTx } from './ports.ts'
import { StoreCache } from './store-cache.ts'

export interface SchedulerOptions {
  /** how often a worker looks at the schedules, real ms; default 1000 (0: every call of poll) */
  everyMs?: number
  /**
   * Which schedules pass() counts in its answer, by key (`workflow:<id>`, `trigger:<type>`);
   * default all. All due schedules fire either way: tests about workflow schedules count theirs
   * apart from the built-in sweeps that tick beside them.
   */
  counts?: (key: string) => boolean
}

/** A schedule as the workflows and derived triggers declare it right now. */
interface DesiredSchedule extends ScheduleRecord {
  /** ticks of a new (or changed) schedule count from this time */
  since: Date
}

/**
 * Fires schedules: every active workflow with a `cron:` trigger, and every derived trigger with a
 * `reactsTo.schedule` (once per store). Each worker runs one; any number may run at once.
 *
 * Each pass first brings the `schedules` table in line with what is declared: a schedule appears
 * with its first tick after the workflow was saved or activated, changes when its cron or time
 * zone does (counting from now), and goes when its workflow is deactivated, deleted or moved to
 * an event trigger. Then every schedule whose `next_at` has come is fired:
 *
 * - **Exactly once.** In one transaction, the worker moves `next_at` past the tick with an
 *   `UPDATE … WHERE next_at = <what it read>` and stores the tick's event through the engine's
 *   ingest (which starts the workflow's run in that same transaction). Of several workers, one
 *   update wins; the others find `next_at` moved and fire nothing. A crash before the commit
 *   leaves both undone, so the tick is fired by the next pass. The tick's event id is derived
 *   from the workflow and the time, so even a repeat would be stored once (`duplicate`).
 * - **Caught up once.** After downtime, a schedule whose `next_at` lies several ticks back fires
 *   one tick, at the latest time that has passed, and `next_at` moves to the first tick after
 *   now: no burst of runs for every tick missed.
 *
 * Time is the engine's clock: tests move a ManualClock across a DST change in a millisecond.
 */
export class Scheduler {
  private lastPass = Number.NEGATIVE_INFINITY
  private readonly stores = new StoreCache()
  /** problems already logged: a pass every second must not repeat them */
  private readonly said = new Set<string>()

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly options: SchedulerOptions = {},
  ) {}

  /**
   * A pass if the last one is `everyMs` ago (real time: the throttle decides nothing about ticks).
   * A database outage is thrown, for the worker loop to weather; any other failure is logged and
   * the schedules are looked at again next pass.
   */
  async poll(): Promise<number> {
    const everyMs = this.options.everyMs ?? 1000
    if (Date.now() - this.lastPass < everyMs) return 0
    this.lastPass = Date.now()
    try {
      return await this.pass()
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err
      this.log.error({ err }, 'schedules pass failed')
      return 0
    }
  }

  /** Reconciles the schedules and fires those due; returns how many ticks this worker fired (of those `counts` names). */
  async pass(): Promise<number> {
    const { storage, clock } = this.engine
    const schedules = await storage.transaction((tx) => this.reconcile(tx, clock.now()))
    let fired = 0
    for (const schedule of schedules) {
      if (schedule.next_at === null || schedule.next_at > clock.now().toISOString()) continue
      try {
        if ((await this.fire(schedule)) && (this.options.counts?.(schedule.key) ?? true)) fired++
      } catch (err) {
        if (isDatabaseUnavailable(err)) throw err
        // the transaction rolled back, tick included: the next pass fires it
        this.log.error({ err, storeId: schedule.store_id, schedule: schedule.key }, 'schedule tick failed')
      }
    }
    return fired
  }

  /** Makes the table match the declarations; returns the schedules as they now stand. */
  private async reconcile(tx: StorageTx, now: Date): Promise<ScheduleRecord[]> {
    const desired = await this.desired(tx, now)
    const current = new Map((await tx.listSchedules()).map((s) => [`${s.store_id}\u0000${s.key}`, s]))
    const result: ScheduleRecord[] = []
    // always in (store, key) order, so two workers reconciling at once take row locks in one order
    for (const want of desired) {
      const have = current.get(`${want.store_id}\u0000${want.key}`)
      current.delete(`${want.store_id}\u0000${want.key}`)
      if (have && have.cron === want.cron && have.timezone === want.timezone) {
        result.push(have)
        continue
      }
      const next = nextTickAfter(want, have ? now : want.since)
      const schedule: ScheduleRecord = {
        store_id: want.store_id,
        key: want.key,
        workflow_id: want.workflow_id,
        cron: want.cron,
        timezone: want.timezone,
        next_at: next?.toISOString() ?? null,
      }
      await tx.putSchedule(schedule, now)
      result.push(schedule)
      this.log.info(
        { storeId: want.store_id, schedule: want.key, cron: want.cron, timezone: want.timezone, nextAt: schedule.next_at },
        have ? 'schedule changed' : 'schedule added',
      )
    }
    for (const stale of current.values()) {
      await tx.deleteSchedule(stale.store_id, stale.key, scheduleTrigger.emits)
      this.log.info({ storeId: stale.store_id, schedule: stale.key }, 'schedule removed')
    }
    return result
  }

  /** Every schedule declared now, sorted by store and key. */
  private async desired(tx: StorageTx, now: Date): Promise<DesiredSchedule[]> {
    const out: DesiredSchedule[] = []
    for (const head of await tx.scheduledWorkflows(scheduleTrigger.emits)) {
      const workflow = await this.engine.cache.get(tx, head.store_id, head.id, head.version)
      const spec = workflow?.file.trigger
      if (!spec || !scheduleTrigger.accepts(spec)) continue
      const schedule = { cron: spec.cron, timezone: spec.timezone ?? this.zoneOf(head.store_id, head.store_timezone) }
      // saved before the check existed, or a zone the runtime no longer knows: said, not fired
      const problem = cronProblem(schedule, now)
      if (problem) {
        this.sayOnce(`${head.store_id}\u0000${head.id}\u0000${head.version}`, () =>
          this.log.warn({ storeId: head.store_id, workflowId: head.id, problem }, 'workflow schedule cannot fire'),
        )
        continue
      }
      out.push({ store_id: head.store_id, key: `workflow:${head.id}`, workflow_id: head.id, ...schedule, next_at: null, since: new Date(head.updated_at) })
    }
    const derived = this.engine.triggers.derived.filter((t) => t.reactsTo.schedule)
    if (derived.length > 0) {
      for (const store of await tx.storeTimeZones()) {
        for (const trigger of derived) {
          const { cron, timezone } = trigger.reactsTo.schedule!
          out.push({
            store_id: store.id,
            key: `trigger:${trigger.type}`,
            workflow_id: null,
            cron,
            timezone: timezone ?? this.zoneOf(store.id, store.timezone),
            next_at: null,
            since: now,
          })
        }
      }
    }
    return out.sort((a, b) => (a.store_id === b.store_id ? (a.key < b.key ? -1 : 1) : a.store_id < b.store_id ? -1 : 1))
  }

  /** A schedule without a zone is read in its store's, else UTC. */
  private zoneOf(storeId: string, timezone: string | null): string {
    if (!timezone) return 'UTC'
    if (!timeZoneProblem(timezone)) return timezone
    this.sayOnce(`zone\u0000${timezone}`, () => this.log.warn({ storeId, timezone }, 'store time zone unknown; schedules use UTC'))
    return 'UTC'
  }

  private sayOnce(key: string, say: () => void): void {
    if (this.said.has(key)) return
    this.said.add(key)
    say()
  }

  /** Fires one due schedule: false when another worker fired this tick first. */
  private async fire(schedule: ScheduleRecord): Promise<boolean> {
    const { storage, clock } = this.engine
    return storage.transaction(async (tx) => {
      const now = clock.now()
      const cron: CronSchedule = { cron: schedule.cron, timezone: schedule.timezone }
      // the latest tick that has come: one tick however many were missed
      const at = latestTickAtOrBefore(cron, now) ?? new Date(schedule.next_at!)
      const next = nextTickAfter(cron, now)
      if (!(await tx.advanceSchedule(schedule.store_id, schedule.key, schedule.next_at!, next?.toISOString() ?? null, at.toISOString(), now))) return false
      const missed = schedule.next_at! < at.toISOString()
      this.log.info(
        { storeId: schedule.store_id, schedule: schedule.key, at: at.toISOString(), ...(missed ? { missedSince: schedule.next_at } : {}) },
        'schedule tick',
      )
      if (schedule.workflow_id !== null) {
        const event = scheduleTrigger.tickEvent({
          storeId: schedule.store_id,
          workflowId: schedule.workflow_id,
          cron: schedule.cron,
          timezone: schedule.timezone,
          at,
        })
        await this.engine.ingestInTransaction(tx, event, { historical: false, source: 'schedule' })
        return true
      }
      const trigger = this.derivedTrigger(schedule.key)
      if (trigger) {
        const ingest = (event: Parameters<Engine['ingestInTransaction']>[1]) =>
          this.engine.ingestInTransaction(tx, event, { historical: false, source: 'derived' })
        await deriveEvents(tx, trigger, { kind: 'schedule', at }, schedule.store_id, now, { stores: this.stores, log: this.log }, ingest)
      }
      return true
    })
  }

  private derivedTrigger(key: string): DerivedTriggerDefinition | undefined {
    return this.engine.triggers.derived.find((t) => `trigger:${t.type}` === key)
  }
}
