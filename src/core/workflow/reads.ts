import type { WorkflowFile } from '../../contracts/workflow.ts'
import type { Instruction } from './program.ts'

/**
 * Which parts of a store's view a workflow can read: what `storeflow backtest` needs to know to
 * replay only the events that can change what the workflow sees (services/backtest.ts). The
 * other half, which part each event type writes, is declared beside the projection
 * (store/view-writes.ts). Pure: it reads the workflow's expressions and templates as text.
 *
 * The parts (the view as conditions, templates and actions see it; store/views.ts):
 * - customer_profile: who the customer is (keys, shop id, email, phone), names, birthday, time
 *   zone, consent, tags, custom attributes, opens and clicks, updated_at;
 * - customer_orders: orders_count, total_spent, last_order_at, marketing_sent_since_last_order;
 * - loyalty: loyalty points and discount codes' uses;
 * - orders: the order rows (totals, status, fulfilment, shipments, line items);
 * - carts: the carts' contents; cart_conversion: a cart's `converted` flag (set by its order);
 * - catalog: products, variants, stock; subscriptions; invoices.
 * Segment membership, RFM, stock alerts, demand and attribution are derivations the sandbox keeps
 * or leaves out as a whole (services/backtest.ts `unobserved`).
 */
export type ViewPart = 'customer_profile' | 'customer_orders' | 'loyalty' | 'orders' | 'carts' | 'cart_conversion' | 'catalog' | 'subscriptions' | 'invoices'

export const VIEW_PARTS: readonly ViewPart[] = [
  'customer_profile',
  'customer_orders',
  'loyalty',
  'orders',
  'carts',
  'cart_conversion',
  'catalog',
  'subscriptions',
  'invoices',
]

/** What a workflow reads: some parts, or every part (a reference this module cannot narrow). */
export type PartsRead = ReadonlySet<ViewPart> | 'all'

/** customer.<field> → the part that writes it; any other field (a custom attribute too) is the profile */
const CUSTOMER_FIELD_PARTS: Record<string, ViewPart> = {
  orders_count: 'customer_orders',
  total_spent: 'customer_orders',
  last_order_at: 'customer_orders',
  marketing_sent_since_last_order: 'customer_orders',
  loyalty_points: 'loyalty',
}

/**
 * Step types whose own work reads the view beyond their Liquid (which is read as text): the
 * message actions read the customer's contact, consent and time zone (guardrails);
 * create_discount_code books its value from the total of the run's order or cart (the trigger's
 * subject: actions/create-discount-code discountSubjectTotal); the control
 * steps and log read nothing more. Any other action is not narrowed: it may read anything.
 */
const ACTION_READS: Record<string, Array<ViewPart | 'subject_total'>> = {
  send_email: ['customer_profile'],
  send_sms: ['customer_profile'],
  create_discount_code: ['subject_total'],
  log: [],
  tag_customer: ['customer_profile'],
  untag_customer: ['customer_profile'],
}

/**
 * The subject of a run's scope (`order`, `cart`, `product`) by its trigger's type: the one place
 * this is decided, for the engine building the scope (engine/scope.ts subjectOf) and for what a
 * workflow reads; a reference to another subject reads null.
 */
export function subjectOfTrigger(type: string): 'order' | 'cart' | 'product' | null {
  if (type.startsWith('order.') || type === 'shipment.updated') return 'order'
  if (type.startsWith('cart.') || type === 'checkout.started') return 'cart'
  if (type === 'product.updated') return 'product'
  return null
}

const SUBJECT_PARTS: Record<'order' | 'cart' | 'product', ViewPart[]> = {
  // the order view carries its discount codes and points (order-commerce-view) and shipments
  order: ['orders', 'loyalty'],
  cart: ['carts', 'cart_conversion'],
  product: ['catalog'],
}

export interface WorkflowReadsInput {
  file: WorkflowFile
  program: readonly Instruction[]
  /** the texts of the message templates its steps name (subject, preheader, html), resolved by the caller */
  templates: readonly string[]
}

/** Keys whose values are names or prose, not expressions: an event type, the workflow's id and words about it. */
const NOT_EXPRESSIONS = new Set(['id', 'name', 'description'])

/**
 * The parts the workflow can read: from the references in its expressions (CEL conditions,
 * Liquid in its steps and the templates it names) and from what its step types read.
 * Errs on keeping: a bare `customer` (a whole object handed on) reads every customer part, an
 * unknown action reads everything.
 */
export function viewPartsRead(input: WorkflowReadsInput): PartsRead {
  const parts = new Set<ViewPart>()
  const trigger = input.file.trigger
  const triggerType = 'event' in trigger && typeof trigger.event === 'string' ? trigger.event : null
  const subject = triggerType ? subjectOfTrigger(triggerType) : null
  for (const ins of input.program) {
    if (ins.op !== 'action') continue
    const reads = ACTION_READS[ins.action]
    if (!reads) return 'all'
    for (const r of reads) {
      if (r === 'subject_total') {
        if (subject === 'order') parts.add('orders')
        if (subject === 'cart') parts.add('carts')
      } else parts.add(r)
    }
  }
  const texts: string[] = input.templates.flatMap(liquidExpressions)
  collectExpressions(input.file, texts, true, false)
  for (const text of texts) if (!addReferences(text, subject, parts)) return 'all'
  return parts
}

const LIQUID = /\{\{|\{%/

/** What the Liquid tags of a template hold (`{{ … }}`, `{% … %}`): the text around them is words, not references. */
export function liquidExpressions(text: string): string[] {
  return [...text.matchAll(/\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g)].map((m) => m[1] ?? m[2] ?? '')
}

/**
 * Every string of the workflow that can hold an expression, skipping event types, ids, names and
 * descriptions. A string with Liquid is read inside its tags only; one without is read whole
 * (a CEL condition), except the inputs of an action (`with`: Liquid templates, so a string
 * without tags is words; an action whose inputs may be something else reads 'all' anyway).
 */
function collectExpressions(value: unknown, out: string[], top: boolean, inWith: boolean, key?: string): void {
  if (typeof value === 'string') {
    // `event: order.created` names a type; a Liquid or CEL value under `event` is still read
    if (key === 'event' && /^[\w.*-]+$/.test(value)) return
    if (LIQUID.test(value)) out.push(...liquidExpressions(value))
    else if (!inWith) out.push(value)
  } else if (Array.isArray(value)) {
    for (const v of value) collectExpressions(v, out, false, inWith, key)
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (top && NOT_EXPRESSIONS.has(k)) continue
      if (k === 'id' && typeof v === 'string') continue
      collectExpressions(v, out, false, inWith || k === 'with', k)
    }
  }
}

/**
 * A root reference: the name not after a `.` or a word character (so `event.data.customer` and
 * `vars.order` are not one), then `.field` or `["field"]` if it has one.
 */
const REFERENCE = /(?<![\w.$])(customer|order|cart|product|recommendations)\b(?:\s*\.\s*([A-Za-z_]\w*)|\s*\[\s*["']([^"']+)["']\s*\])?/g

/** Adds the parts `text` refers to; false when it reads something that cannot be narrowed. */
function addReferences(text: string, subject: 'order' | 'cart' | 'product' | null, parts: Set<ViewPart>): boolean {
  for (const m of text.matchAll(REFERENCE)) {
    const root = m[1]!
    const field = m[2] ?? m[3]
    if (root === 'customer') {
      if (field === 'segments' || field === 'rfm') return false
      if (field === undefined) {
        parts.add('customer_profile')
        parts.add('customer_orders')
        parts.add('loyalty')
      } else parts.add(CUSTOMER_FIELD_PARTS[field] ?? 'customer_profile')
    } else if (root === 'recommendations') {
      // the customer's "bought together" list (send_email): every order of the store and the catalogue
      parts.add('orders')
      parts.add('catalog')
      parts.add('customer_profile')
    } else if (root === 'cart') {
      if (subject !== 'cart') continue
      if (field === undefined) for (const p of SUBJECT_PARTS.cart) parts.add(p)
      else parts.add(field === 'converted' ? 'cart_conversion' : 'carts')
    } else if (subject === root) {
      for (const p of SUBJECT_PARTS[subject]) parts.add(p)
    }
  }
  return true
}
