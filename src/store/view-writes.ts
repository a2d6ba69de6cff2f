import type { CanonicalEvent } from '../contracts/events.ts'
import type { ViewPart } from '../core/workflow/reads.ts'
import { customerOf, DERIVED_EVENT_TYPES } from './projection.ts'

/**
 * What each event type writes of the store's view (projection.ts applyToView and what it calls),
 * by part (core/workflow/reads.ts): declared once here, read by `storeflow backtest` to replay
 * only the events that can change what a workflow reads. view-writes.test.ts applies one event
 * of every type listed to a real database and fails if it changed a part not listed here.
 *
 * Besides its own parts, every event that is not a derived one and carries a customer object
 * (`data.customer`, `data.email`; customerOf) upserts that customer's profile: see `writesOf`.
 * That upsert may join an email-only customer into the customer with the shop's id (a merge),
 * which moves the joined customer's orders, carts, codes and points and counts their totals
 * again: the backtest keeps it exact by replaying every event that carries a customer object (in
 * full, or as a `customer.updated` carrying the same object), so the same merges happen, over
 * rows that are complete for every part the workflow reads.
 * The derivations (segments and RFM, stock alerts, demand, attribution) are not parts: the
 * sandbox keeps or leaves them out as a whole.
 */
const ORDER_PARTS: readonly ViewPart[] = ['customer_orders', 'orders', 'cart_conversion', 'catalog', 'loyalty']

export const VIEW_WRITES: Readonly<Record<string, readonly ViewPart[]>> = {
  // the customer themselves; consent; opens and clicks; a form fills in what is missing
  'customer.created': ['customer_profile'],
  'customer.updated': ['customer_profile'],
  'newsletter.subscribed': ['customer_profile'],
  'newsletter.unsubscribed': ['customer_profile'],
  'message.opened': ['customer_profile'],
  'message.clicked': ['customer_profile'],
  'form.submitted': ['customer_profile'],
  // an order: its row, its customer's totals (and marketing since their last order), the cart it
  // converts, stock, discount code uses and loyalty points taken back
  'order.created': ORDER_PARTS,
  'order.paid': ORDER_PARTS,
  'order.cancelled': ORDER_PARTS,
  'order.refunded': ORDER_PARTS,
  // the order's fulfilment status (kept aside until the order arrives)
  'order.fulfilled': ['orders'],
  'order.delivered': ['orders'],
  'shipment.updated': ['orders'],
  'cart.updated': ['carts'],
  'checkout.started': ['carts'],
  'cart.abandoned': ['carts'],
  'product.updated': ['catalog'],
  'inventory.updated': ['catalog'],
  'purchase_order.received': ['catalog'],
  'subscription.created': ['subscriptions'],
  'subscription.cancelled': ['subscriptions'],
  'invoice.paid': ['invoices'],
  // derived ones name their customer and change nothing; the clock's tick changes nothing
  'customer.inactive': [],
  'customer.birthday': [],
  'inventory.low': [],
  'inventory.out_of_stock': [],
  'inventory.back_in_stock': [],
  'subscription.renewal_due': [],
  'invoice.overdue': [],
  'segment.entered': [],
  'segment.exited': [],
  'schedule.tick': [],
}

export interface EventWrites {
  /** the parts the event's type writes; 'all' for a type not declared here (whatever it writes) */
  parts: ReadonlySet<ViewPart> | 'all'
  /**
   * the customer object it upserts into the profile besides (not for a derived event, nor for a
   * type whose own parts hold the profile): replaying a `customer.updated` carrying this object
   * at the same time writes the same profile (the same upsert, projection.ts)
   */
  customer: Record<string, unknown> | null
}

const cache = new Map<string, ReadonlySet<ViewPart>>()

/** What `event` writes of the view. */
export function writesOf(event: CanonicalEvent): EventWrites {
  const declared = VIEW_WRITES[event.type]
  if (!declared) return { parts: 'all', customer: null }
  let parts = cache.get(event.type)
  if (!parts) {
    parts = new Set(declared)
    cache.set(event.type, parts)
  }
  const customer = DERIVED_EVENT_TYPES.has(event.type) || parts.has('customer_profile') ? null : customerOf(event)
  return { parts, customer }
}
