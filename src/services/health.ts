import { ping } from '../store/db.ts'
import { storedCounts, type StoredCounts } from '../store/metrics.repo.ts'
import type { ServiceContext } from './context.ts'

export type { StoredCounts } from '../store/metrics.repo.ts'

/** Readiness and the counts /metrics reports. */
export function createHealthService(ctx: ServiceContext) {
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
  }
}

export type HealthService = ReturnType<typeof createHealthService>
