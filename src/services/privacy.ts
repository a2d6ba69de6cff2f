import { UserError } from '../lib/errors.ts'
import { eraseCustomer, exportCustomer, type CustomerExport, type EraseResult } from '../store/privacy.ts'
import { getPrivacyExport, listPrivacyExports, type PrivacyExportSummary } from '../store/privacy-exports.repo.ts'
import type { ServiceContext } from './context.ts'

export type { CustomerExport, EraseResult } from '../store/privacy.ts'

/**
 * Privacy requests made to storeflow (API, CLI): a customer's data exported or erased, and the
 * exports a shop's data request produced (compliance.ts answers the shop's own requests).
 */
export function createPrivacyService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** Everything held on the customer; not_found when nothing is. */
    async exportCustomer(storeId: string, customerRef: string): Promise<CustomerExport> {
      // every accepted event in the view first: an export leaves nothing out
      await ctx.engine.catchUp(storeId)
      return exportCustomer(db, storeId, customerRef, ctx.clock.now())
    },

    /** Erases the customer named by a request (API, CLI); not_found when nothing was known of them. */
    async eraseCustomer(storeId: string, customerRef: string): Promise<EraseResult> {
      // an event accepted before the erasure and routed after it would bring the data back
      await ctx.engine.catchUp(storeId)
      const result = await eraseCustomer(db, storeId, customerRef, ctx.clock.now(), ctx.handle.dialect)
      if (!result.found) throw new UserError(`customer "${customerRef}" not found in store "${storeId}"`, { code: 'not_found' })
      return result
    },

    listExports(storeId: string, page: { limit: number; cursor?: string }): Promise<{ items: PrivacyExportSummary[]; next_cursor: string | null }> {
      return listPrivacyExports(db, storeId, page)
    },

    /** One export with its data parsed; exports are kept 30 days. */
    async getExport(storeId: string, id: string): Promise<{ id: string; customer_ref: string; delivery_id: string | null; created_at: string; data: unknown }> {
      const row = await getPrivacyExport(db, storeId, id)
      return { id: row.id, customer_ref: row.customer_ref, delivery_id: row.delivery_id, created_at: row.created_at, data: JSON.parse(row.data) as unknown }
    },
  }
}

export type PrivacyService = ReturnType<typeof createPrivacyService>
