import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { ping } from '../store/db.ts'
import { EMAIL_STATUSES, storedCounts, type StoredCounts } from '../store/metrics.repo.ts'
import type { ServiceContext } from './context.ts'

export type { StoredCounts } from '../store/metrics.repo.ts'

/** Buckets of storeflow_step_duration_seconds: a control step takes a millisecond, an HTTP call seconds. */
const STEP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** The age, in seconds, of a moment `now` is past; 0 for none (or one ahead). */
function ageSeconds(at: Date | null, now: Date): number {
  return at === null ? 0 : Math.max(0, (now.getTime() - at.getTime()) / 1000)
}

/**
 * The Prometheus figures of this process (GET /metrics, and `storeflow worker --metrics-port`):
 * what the database holds, the same from every process, and what this process measured itself
 * (the steps it carried out, Node.js's figures). docs/operating.md lists them.
 */
function createMetrics(ctx: ServiceContext) {
  const registry = new Registry()
  const registers = [registry]
  // this process's steps, from the start: a scrape sees every step carried out since
  const steps = new Histogram({
    name: 'storeflow_step_duration_seconds',
    help: 'Steps this process carried out, by kind (the action, or the control step: wait, if, …), and how long each took',
    labelNames: ['kind'],
    buckets: STEP_BUCKETS,
    registers,
  })
  ctx.engine.onStepTimed((kind, seconds) => steps.observe({ kind }, seconds))
  const runs = new Gauge({ name: 'storeflow_runs', help: 'Runs by status', labelNames: ['status'], registers })
  const due = new Gauge({ name: 'storeflow_runs_due', help: 'Runs due now and not yet taken by a worker', registers })
  const oldestDue = new Gauge({
    name: 'storeflow_runs_oldest_due_seconds',
    help: 'How long the oldest run due and leased by no worker has been due; 0 when none is',
    registers,
  })
  const events = new Gauge({ name: 'storeflow_events_total', help: 'Events stored', registers })
  const ingested = new Counter({
    name: 'storeflow_events_ingested_total',
    help: 'Events appended to the event log (received and derived; a repeat is not), those retention deleted included',
    registers,
  })
  const unrouted = new Gauge({
    name: 'storeflow_events_unrouted',
    help: 'Events accepted and not yet routed (what they cause is still to come): the routers lag',
    registers,
  })
  const routerLag = new Gauge({
    name: 'storeflow_router_lag_seconds',
    help: 'How long ago the oldest event not yet routed was received; 0 when every event is routed',
    registers,
  })
  const emails = new Gauge({ name: 'storeflow_emails', help: 'Outbox emails by status (result)', labelNames: ['result'], registers })
  const workers = new Gauge({ name: 'storeflow_workers', help: 'Worker processes by state: running, stopped, lost', labelNames: ['state'], registers })
  const claimed = new Gauge({
    name: 'storeflow_worker_claimed_runs',
    help: 'Runs a worker held under lease at its last heartbeat (running and lost workers)',
    labelNames: ['worker'],
    registers,
  })
  const lastSeen = new Gauge({
    name: 'storeflow_worker_last_seen_seconds',
    help: "A worker's last heartbeat, Unix time in seconds (running and lost workers)",
    labelNames: ['worker'],
    registers,
  })
  new Counter({
    name: 'storeflow_db_statements_total',
    help: 'SQL statements this process sent to the database (what routing an event or running a step costs is mostly how many it takes)',
    registers,
    collect() {
      this.reset()
      this.inc(ctx.handle.statements())
    },
  })
  let defaults = false

  const fill = (counts: StoredCounts, now: Date) => {
    runs.reset()
    for (const row of counts.runsByStatus) runs.set({ status: row.status }, row.count)
    due.set(counts.runsDue)
    oldestDue.set(ageSeconds(counts.oldestDueAt, now))
    events.set(counts.events)
    ingested.reset()
    ingested.inc(counts.eventsIngested)
    unrouted.set(counts.eventsUnrouted)
    routerLag.set(ageSeconds(counts.oldestUnroutedAt, now))
    emails.reset()
    for (const status of EMAIL_STATUSES) emails.set({ result: status }, 0)
    for (const row of counts.emailsByStatus) emails.set({ result: row.status }, row.count)
    workers.reset()
    claimed.reset()
    lastSeen.reset()
    const states = { running: 0, stopped: 0, lost: 0 }
    for (const worker of counts.workers) {
      states[worker.state] += 1
      if (worker.state === 'stopped') continue
      claimed.set({ worker: worker.id }, worker.claimed_runs)
      lastSeen.set({ worker: worker.id }, Date.parse(worker.last_seen) / 1000)
    }
    for (const [state, n] of Object.entries(states)) workers.set({ state }, n)
  }

  return {
    /** The Prometheus text exposition, read now. */
    async render(): Promise<{ contentType: string; text: string }> {
      if (!defaults) {
        // Node.js's and the process's own figures, once asked for (a test builds many apps)
        collectDefaultMetrics({ register: registry, prefix: 'storeflow_' })
        defaults = true
      }
      const now = ctx.clock.now()
      fill(await storedCounts(ctx.handle.db, now), now)
      return { contentType: registry.contentType, text: await registry.metrics() }
    },
  }
}

/** Readiness and the figures /metrics reports. */
export function createHealthService(ctx: ServiceContext) {
  const metrics = createMetrics(ctx)
  return {
    /**
     * Whether the database answers now (PostgreSQL: without waiting for it to come back). Why not
     * goes to the log only: a database error can name hosts, users and schemas.
     */
    async ready(): Promise<boolean> {
      try {
        await ping(ctx.handle)
        return true
      } catch (err) {
        ctx.log.warn({ err }, 'not ready: the database does not answer')
        return false
      }
    },

    counts(): Promise<StoredCounts> {
      return storedCounts(ctx.handle.db, ctx.clock.now())
    },

    /** GET /metrics: Prometheus text, the database's figures and this process's own. */
    metrics: () => metrics.render(),
  }
}

export type HealthService = ReturnType<typeof createHealthService>
