import { UserError } from '../lib/errors.ts'
import { customerByRef } from '../store/customers.repo.ts'
import { recommendationsFor } from '../store/recommendations.repo.ts'
import type { ServiceContext } from './context.ts'

/** "Bought together" recommendations for a customer (store/recommendations.repo.ts has the formula). */
export function createRecommendationsService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** :id as GET /customers/:id takes it (the shop's id, storeflow's key or the email); limit 1..50, default 10 */
    async forCustomer(storeId: string, ref: string, rawLimit: string | undefined) {
      let limit = 10
      if (rawLimit !== undefined) {
        if (!/^\d{1,3}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 50)
          throw new UserError('limit: must be a whole number from 1 to 50', { code: 'validation_failed', details: { field: 'limit' } })
        limit = Number(rawLimit)
      }
      const row = await customerByRef(db, storeId, ref)
      if (!row) throw new UserError(`customer "${ref}" not found`, { code: 'not_found' })
      return { items: await recommendationsFor(db, storeId, row.key, limit, ctx.clock.now()), next_cursor: null }
    },
  }
}

export type RecommendationsService = ReturnType<typeof createRecommendationsService>
