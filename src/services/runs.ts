import { cancelRun, retryRun } from '../engine/run-lifecycle.ts'
import type { PageRequest } from '../store/keyset.ts'
import { UserError } from '../lib/errors.ts'
import { getRun, listRuns, type RunFilter } from '../store/runs.repo.ts'
import { RUN_STATUSES } from '../engine/run-status.ts'
import type { ServiceContext } from './context.ts'

/** Runs as the API shows them, and the two things an operator may do to one: cancel and retry. */
export function createRunService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    list: (storeId: string, filter: RunFilter, page: PageRequest) => {
      // a status no run can have would answer an empty list that looks like "none"
      if (filter.status && !(RUN_STATUSES as readonly string[]).includes(filter.status))
        throw new UserError(`status must be one of ${RUN_STATUSES.join(', ')}`, { code: 'validation_failed', details: { field: 'status' } })
      return listRuns(db, storeId, filter, page)
    },
    /** a run with its step timeline */
    get: (storeId: string, runId: string) => getRun(db, storeId, runId),
    /** ends a running or waiting run; answers the run as it is now */
    async cancel(storeId: string, runId: string) {
      await cancelRun(ctx.engine.storage, ctx.clock, storeId, runId)
      return getRun(db, storeId, runId)
    },
    /** continues a failed run from the step that failed; answers the run as it is now */
    async retry(storeId: string, runId: string) {
      await retryRun(ctx.engine.storage, ctx.clock, ctx.engine.cache, storeId, runId)
      return getRun(db, storeId, runId)
    },
  }
}

export type RunService = ReturnType<typeof createRunService>
