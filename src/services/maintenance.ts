import { pruneEndedRuns, pruneRoutedEvents } from '../store/retention.repo.ts'
import { pruneGoneWorkers } from '../store/workers.repo.ts'
import type { ServiceContext } from './context.ts'
import type { DeliveriesService } from './deliveries.ts'

/** How often a long-running process prunes what is past its retention; ms. */
const PRUNE_EVERY_MS = 3_600_000
const DAY_MS = 86_400_000

export interface PruneCounts {
  deliveries: number
  runs: number
  events: number
  /** workers stopped or lost over a day ago, off the list of workers */
  workers: number
}

/**
 * Retention that must hold even when nothing new arrives, configurable (docs/operating.md):
 * webhook deliveries (which hold shop payloads with personal data) after
 * STOREFLOW_RETENTION_DELIVERIES_DAYS (30), privacy exports after 30 days, and, when set, ended
 * runs after STOREFLOW_RETENTION_RUNS_DAYS and routed events after STOREFLOW_RETENTION_EVENTS_DAYS
 * (both off by default), and workers stopped or lost for over a day. `serve` and `worker` prune at start and then hourly; several processes
 * doing it at once is harmless (deletes by age, in batches).
 */
export function createMaintenanceService(ctx: ServiceContext, deliveries: DeliveriesService) {
  const { retentionRunsDays, retentionEventsDays } = ctx.config
  const cutoff = (days: number) => new Date(ctx.clock.now().getTime() - days * DAY_MS)
  const prune = async (): Promise<PruneCounts> => {
    const counts: PruneCounts = { deliveries: (await deliveries.prune()).deliveries, runs: 0, events: 0, workers: 0 }
    // runs first: an event whose run just went is then free to go in the same pass
    if (retentionRunsDays > 0) counts.runs = await pruneEndedRuns(ctx.handle.db, cutoff(retentionRunsDays))
    if (retentionEventsDays > 0) counts.events = await pruneRoutedEvents(ctx.handle.db, cutoff(retentionEventsDays))
    counts.workers = await pruneGoneWorkers(ctx.handle.db, cutoff(1))
    return counts
  }
  return {
    /** Deletes what is past its retention now; what went, by kind. */
    prune,

    /** Prunes now and then hourly; returns what stops the timer. */
    start(): () => void {
      const once = () => {
        prune()
          .then(
            (counts) =>
              (counts.deliveries > 0 || counts.runs > 0 || counts.events > 0 || counts.workers > 0) &&
              ctx.log.info(counts, 'pruned what is past its retention'),
          )
          .catch((err) => ctx.log.warn({ err }, 'pruning failed'))
      }
      once()
      const timer = setInterval(once, PRUNE_EVERY_MS)
      timer.unref()
      return () => clearInterval(timer)
    },
  }
}

export type MaintenanceService = ReturnType<typeof createMaintenanceService>
