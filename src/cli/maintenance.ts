import type { App } from '../main.ts'
import { pruneDeliveries } from '../store/deliveries.repo.ts'

/** How often a long-running process prunes what is past its retention; ms. */
const PRUNE_EVERY_MS = 3_600_000

/**
 * Retention that must hold even when nothing new arrives: webhook deliveries (which hold shop
 * payloads with personal data) and privacy exports go after 30 days. `serve` and `worker` prune
 * at start and then hourly; several processes doing it at once is harmless (a delete by age).
 */
export function startMaintenance(app: App): () => void {
  const prune = () => {
    pruneDeliveries(app.handle.db, app.clock.now())
      .then(({ deliveries }) => deliveries > 0 && app.log.info({ deliveries }, 'old deliveries pruned'))
      .catch((err) => app.log.warn({ err }, 'pruning deliveries failed'))
  }
  prune()
  const timer = setInterval(prune, PRUNE_EVERY_MS)
  timer.unref()
  return () => clearInterval(timer)
}
