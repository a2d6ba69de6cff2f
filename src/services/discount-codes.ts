import { UserError } from '../lib/errors.ts'
import { customerKeysByRef } from '../store/customers.repo.ts'
import { listDiscountCodes } from '../store/discounts.repo.ts'
import type { PageRequest } from '../store/keyset.ts'
import type { ServiceContext } from './context.ts'

export interface DiscountCodeQuery {
  /** a workflow id */
  workflow?: unknown
  /** the shop's customer id, storeflow's key (cus_…) or the email */
  customer?: unknown
}

function textParam(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') throw new UserError(`${field}: give one value`, { code: 'validation_failed', details: { field } })
  return value
}

/** The discount codes create_discount_code issued in a store, newest first. */
export function createDiscountCodesService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    async list(storeId: string, query: DiscountCodeQuery, page: PageRequest) {
      const workflow = textParam(query.workflow, 'workflow')
      const customer = textParam(query.customer, 'customer')
      const customerKeys = customer === undefined ? undefined : await customerKeysByRef(db, storeId, customer)
      const { items, next_cursor } = await listDiscountCodes(db, storeId, { workflow, customerKeys }, page)
      return {
        items: items.map((c) => ({
          code: c.code,
          kind: c.kind,
          value: c.kind === 'free_shipping' ? null : Number(c.value),
          free_shipping: c.free_shipping === 1,
          min_spend: c.min_spend === null ? null : Number(c.min_spend),
          expires_at: c.expires_at,
          usage_limit: c.usage_limit,
          used: c.used,
          customer_id: c.customer_id,
          workflow_id: c.workflow_id,
          created_at: c.created_at,
        })),
        next_cursor,
      }
    },
  }
}

export type DiscountCodesService = ReturnType<typeof createDiscountCodesService>
