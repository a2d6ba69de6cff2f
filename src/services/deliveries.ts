import { deliverySummary, getDelivery, listDeliveries, pruneDeliveries, type DeliveryRow } from '../store/deliveries.repo.ts'
import type { ServiceContext } from './context.ts'
import { replayDelivery, type ReplayOutcome } from './webhook-intake.ts'

export type { DeliveryRow } from '../store/deliveries.repo.ts'
export type { ReplayOutcome } from './webhook-intake.ts'

/** Raw webhook deliveries, kept 30 days: listed, shown, replayed through today's mapping, pruned. */
export function createDeliveriesService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** Newest first; `cursor` is the previous page's next_cursor. */
    list(
      storeId: string,
      filter: { connector?: string; status?: string; limit: number; cursor?: string },
    ): Promise<{ items: DeliveryRow[]; next_cursor: string | null }> {
      return listDeliveries(db, storeId, filter)
    },

    get(storeId: string, id: string): Promise<DeliveryRow> {
      return getDelivery(db, storeId, id)
    },

    /** A delivery as lists show it: no headers or body. */
    summary: deliverySummary,

    replay(storeId: string, id: string): Promise<ReplayOutcome> {
      return replayDelivery(ctx, storeId, id)
    },

    /** Deletes deliveries, signature-failure counters and privacy exports past their retention. */
    prune(): Promise<{ deliveries: number }> {
      return pruneDeliveries(db, ctx.clock.now(), ctx.config.retentionDeliveriesDays)
    },
  }
}

export type DeliveriesService = ReturnType<typeof createDeliveriesService>
