import type { ServiceContext } from './context.ts'
import type { DeliveriesService } from './deliveries.ts'

/** How often a long-running process prunes what is past its retention; ms. */
const PRUNE_EVERY_MS = 3_600_000

/**
 * Retention that must hold even when nothing new arrives: webhook deliveries (which hold shop
 * payloads with personal data) and privacy exports go after 30 days. `serve` and `worker` prune
 * at start and then hourly; several processes doing it at once is harmless (a delete by age).
 */
export function createMaintenanceService(ctx: ServiceContext, deliveries: DeliveriesService) {
  return {
    /** Prunes now and then hourly; returns what stops the timer. */
    start(): () => void {
      const prune = () => {
        deliveries
          .prune()
          .then(({ deliveries }) => deliveries > 0 && ctx.log.info({ deliveries }, 'old deliveries pruned'))
          .catch((err) => ctx.log.warn({ err }, 'pruning deliveries failed'))
      }
      prune()
      const timer = setInterval(prune, PRUNE_EVERY_MS)
      timer.unref()
      return () => clearInterval(timer)
    },
  }
}

export type MaintenanceService = ReturnType<typeof createMaintenanceService>
