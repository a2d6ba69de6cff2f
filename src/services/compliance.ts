import type { MappedDelivery } from '../connectors/types.ts'
import { UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { insertPrivacyExport } from '../store/privacy-exports.repo.ts'
import { eraseCustomer, eraseStore, exportCustomer, scrub, type CustomerExport, type CustomerIdentity } from '../store/privacy.ts'
import type { ServiceContext } from './context.ts'

type Obj = Record<string, unknown>

export interface ComplianceOutcome {
  /** what the stored event carries instead of the shop's payload: the shop's ids only */
  eventData: Obj
  exportId?: string
  erased?: { customers: number } | null
  /** the delivery's body to keep, when it must not keep the customer's identifiers */
  body?: string
}

/**
 * Shopify's mandatory privacy topics (https://shopify.dev/docs/apps/build/privacy-law-compliance):
 * customers/data_request `{ shop_id, shop_domain, orders_requested, customer: { id, email, phone }, data_request: { id } }`
 * → an export kept in privacy_exports; customers/redact `{ shop_id, shop_domain, customer: { id, email, phone }, orders_to_redact }`
 * → the customer erased; shop/redact `{ shop_id, shop_domain }` → every customer of the store erased.
 * The event stored for each carries the shop's ids only, never the email or phone.
 */
export async function complianceDuty(ctx: ServiceContext, storeId: string, mapped: MappedDelivery, deliveryRowId: string): Promise<ComplianceOutcome> {
  const body = (mapped.events[0]?.data ?? {}) as Obj
  const customer = (body['customer'] ?? {}) as Obj
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null)
  const ids = (v: unknown) => (Array.isArray(v) ? v.map(str).filter((x): x is string => x !== null) : [])
  const customerId = str(customer['id'])
  const email = str(customer['email'])
  const phone = str(customer['phone'])
  const eventData: Obj = { shop_id: body['shop_id'] ?? null, shop_domain: body['shop_domain'] ?? null, customer_id: customerId }
  const now = ctx.clock.now()
  const db = ctx.handle.db
  const identity: CustomerIdentity = { ref: customerId ?? email ?? '', email, phone }
  // exports and erasures see every event accepted before them (a late-routed event would bring erased data back)
  await ctx.engine.catchUp(storeId)

  if (mapped.compliance === 'data_request') {
    eventData['orders_requested'] = ids(body['orders_requested'])
    identity.orderIds = ids(body['orders_requested'])
    eventData['data_request_id'] = str((body['data_request'] as Obj | undefined)?.['id'])
    let data: CustomerExport | null = null
    try {
      data = await exportCustomer(db, storeId, identity, now)
    } catch (err) {
      if (!(err instanceof UserError && err.code === 'not_found')) throw err
    }
    const exportId = newId('pex_')
    const keys = data?.profiles.map((p) => String(p['key'])) ?? []
    await insertPrivacyExport(db, {
      id: exportId,
      store_id: storeId,
      customer_ref: identity.ref,
      customer_key: keys[0] ?? null,
      delivery_id: deliveryRowId,
      data: JSON.stringify(data ?? { store: storeId, customer_ref: identity.ref, exported_at: now.toISOString(), customer: null, found: false }),
      created_at: now.toISOString(),
    })
    eventData['export_id'] = exportId
    return { eventData, exportId }
  }
  if (mapped.compliance === 'customer_redact') {
    eventData['orders_to_redact'] = ids(body['orders_to_redact'])
    identity.orderIds = ids(body['orders_to_redact'])
    const erased = identity.ref || identity.orderIds.length > 0 ? await eraseCustomer(db, storeId, identity, now, ctx.handle.dialect) : null
    if (erased && !erased.disk_settled)
      ctx.log.warn({ storeId }, 'customer erased; the database stayed busy, so the old bytes leave the write-ahead log at its next checkpoint')
    const needles = [email, phone].filter((x): x is string => x !== null)
    return { eventData, erased: erased ? { customers: erased.customers } : null, body: JSON.stringify(scrub(body, needles)) }
  }
  const erased = await eraseStore(db, storeId, now, ctx.handle.dialect)
  return { eventData, erased }
}
