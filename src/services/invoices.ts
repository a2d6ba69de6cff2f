import { UserError } from '../lib/errors.ts'
import { getInvoice, listInvoices, type InvoiceFilter } from '../store/invoices.repo.ts'
import type { PageRequest } from '../store/keyset.ts'
import type { ServiceContext } from './context.ts'

const STATUSES = ['open', 'paid', 'void']

/** The invoices create_invoice made, as the API lists them. */
export function createInvoiceService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    async list(storeId: string, filter: InvoiceFilter, page: PageRequest) {
      if (filter.status && !STATUSES.includes(filter.status))
        throw new UserError(`status must be one of ${STATUSES.join(', ')}`, { code: 'validation_failed', details: { field: 'status' } })
      return listInvoices(db, storeId, filter, page)
    },
    async get(storeId: string, ref: string) {
      const invoice = await getInvoice(db, storeId, ref)
      if (!invoice) throw new UserError(`invoice "${ref}" not found`, { code: 'not_found' })
      return invoice
    },
  }
}
