import type { CanonicalEvent } from '../contracts/events.ts'
import { subjectOfTrigger } from '../core/workflow/reads.ts'
import type { StorageTx } from './ports.ts'
import type { StoreCache } from './store-cache.ts'

/**
 * What conditions (CEL) and templates (Liquid) see: event, trigger, customer, order / cart /
 * product when the trigger is about one (the store's current view), steps, store, now, and the
 * workflow's vars.
 */
export interface ScopeInput {
  storeId: string
  event: CanonicalEvent
  trigger: CanonicalEvent
  customerKey: string | null
  outputs?: Record<string, unknown>
  locals?: Record<string, unknown>
  /** the workflow's `vars:` (of the run's version) */
  vars?: Record<string, unknown>
  now: Date
}

export async function buildScope(tx: StorageTx, input: ScopeInput, storeCache?: StoreCache): Promise<Record<string, unknown>> {
  const store = storeCache ? await storeCache.get(tx, input.storeId) : await tx.getStore(input.storeId)
  const customer = input.customerKey ? await tx.customerView(input.customerKey) : null
  const subject = await subjectOf(tx, input.storeId, input.trigger)
  const trigger = eventView(input.trigger)
  return {
    event: input.event === input.trigger ? trigger : eventView(input.event),
    trigger,
    customer,
    order: subject.order ?? null,
    cart: subject.cart ?? null,
    product: subject.product ?? null,
    steps: input.outputs ?? {},
    store: store ? { id: store.id, name: store.name, currency: store.currency, timezone: store.timezone, settings: store.settings } : null,
    now: input.now,
    vars: input.vars ?? {},
    ...input.locals,
  }
}

export function eventView(event: CanonicalEvent): Record<string, unknown> {
  return { id: event.id, type: event.type, occurred_at: event.occurred_at, store: event.store, data: moneyAsNumbers(event.data) as Record<string, unknown> }
}

/** Money fields of the canonical shapes (docs/event-types.md); stored as exact strings, a double in CEL. */
const MONEY_FIELDS = new Set(['total_price', 'subtotal_price', 'total_discounts', 'shipping_price', 'price', 'compare_at_price', 'refund_amount'])

function moneyAsNumbers(value: unknown, key?: string): unknown {
  if (key && MONEY_FIELDS.has(key) && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value)
  if (Array.isArray(value)) return value.map((v) => moneyAsNumbers(v))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = moneyAsNumbers(v, k)
    return out
  }
  return value
}

/** The order an event is about, when it is about one (its scope's `order`). */
export function subjectOrderId(event: CanonicalEvent): string | null {
  const { type, data } = event
  if (type === 'order.fulfilled' || type === 'order.delivered' || type === 'shipment.updated') return data.order_id ? String(data.order_id) : null
  if (type.startsWith('order.')) return data.id ? String(data.id) : null
  return null
}

/** The trigger's subject, of the kind core/workflow/reads.ts subjectOfTrigger names (the backtest reads the same). */
async function subjectOf(tx: StorageTx, storeId: string, event: CanonicalEvent): Promise<Record<string, Record<string, unknown> | null>> {
  const { data } = event
  switch (subjectOfTrigger(event.type)) {
    case 'order': {
      const orderId = subjectOrderId(event)
      return { order: orderId ? await tx.orderView(storeId, orderId) : null }
    }
    case 'cart':
      return { cart: data.id ? await tx.cartView(storeId, String(data.id)) : null }
    case 'product':
      return { product: data.id ? await tx.productView(storeId, String(data.id)) : null }
    default:
      return {}
  }
}
