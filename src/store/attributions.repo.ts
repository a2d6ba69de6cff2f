import type { Kysely, Transaction } from 'kysely'
import { creditedTouch, takenBackMicros, type Touch } from '../core/insight/attribution.ts'
import { parseDuration } from '../lib/durations.ts'
import { toMicro } from '../lib/money-scale.ts'
import type { Database } from './tables.ts'
import { addWorkflowStats, stepAndWorkflow, stepIdOfKey } from './workflow-stats.repo.ts'
import { storeRowInTx } from './tx-memo.ts'
import type { WrittenOrder } from './written-order.ts'

type Db = Kysely<Database> | Transaction<Database>

/** The most touches an order's attribution looks at: the customer's latest ones in the window. */
const MAX_CANDIDATES = 500
const DEFAULT_WINDOW = '5d'

/**
 * Attribution of orders to the messages that led to them (migration 0020-insight, `attributions`;
 * the rule is core/insight/attribution.ts). Called by the projection of every order.* event
 * (store/projection.ts upsertOrder), in the transaction that projects it:
 *
 * - the order's first arrival (its row was just inserted, whichever order.* event brought it,
 *   live or historical) decides once: the customer's message.clicked (and, with the store's
 *   `attribution_opens`, message.opened) events of the window before the order, naming a message
 *   of this store's workflows, give the credited message; its row is written and the order and its
 *   revenue counted for the message's workflow and step on the order's day. No touch, no row, and
 *   later events of the order never attribute it.
 * - every later event of an attributed order sets what refunds took back (all of it once
 *   cancelled) from the order's row, and moves the revenue counted on the order's day by the
 *   difference: a duplicate or an order.paid after order.created changes nothing.
 */
export async function attributeOrderChange(db: Db, storeId: string, orderId: string, firstArrival: boolean, at: string, written?: WrittenOrder): Promise<void> {
  const order =
    written ??
    (await db
      .selectFrom('orders')
      .select(['customer_key', 'currency', 'total_price', 'refunded', 'cancelled', 'created_at'])
      .where('store_id', '=', storeId)
      .where('id', '=', orderId)
      .executeTakeFirst())
  if (!order) return
  const takenBack = (amount: bigint) => takenBackMicros(amount, micros(order.refunded), order.cancelled === 1)
  if (firstArrival) {
    if (order.customer_key) await attribute(db, storeId, orderId, { ...order, customer_key: order.customer_key }, takenBack, at)
    return
  }
  const row = await db
    .selectFrom('attributions')
    .select(['workflow_id', 'step_id', 'ordered_at', 'amount_micros', 'refunded_micros'])
    .where('store_id', '=', storeId)
    .where('order_id', '=', orderId)
    .executeTakeFirst()
  if (!row) return
  const before = BigInt(String(row.refunded_micros))
  const after = takenBack(BigInt(String(row.amount_micros)))
  if (after === before) return
  await db
    .updateTable('attributions')
    .set({ refunded_micros: Number(after) })
    .where('store_id', '=', storeId)
    .where('order_id', '=', orderId)
    .execute()
  await addWorkflowStats(db, storeId, stepAndWorkflow(row.workflow_id, row.step_id, row.ordered_at, { revenue_micros: before - after }))
}

/**
 * Whether the customer can have a touch in the window at all: their newest click (and open, when
 * opens count) as the view keeps it (engagement.ts) is inside or after the window's start. Most
 * orders come from customers with no click in days; for them this one row read replaces the
 * search of their events, the costliest statement of routing an order.
 */
async function mayHaveTouched(db: Db, customerKey: string, windowStart: string, opens: boolean): Promise<boolean> {
  const row = await db.selectFrom('customers').select(['last_clicked_at', 'last_opened_at']).where('key', '=', customerKey).executeTakeFirst()
  if (!row) return true
  const after = (at: string | null) => at !== null && at > windowStart
  return after(row.last_clicked_at) || (opens && after(row.last_opened_at))
}

interface OrderRow {
  customer_key: string
  currency: string
  total_price: string
  created_at: string
}

async function attribute(db: Db, storeId: string, orderId: string, order: OrderRow, takenBack: (amount: bigint) => bigint, at: string): Promise<void> {
  const store = await storeRowInTx(db, storeId)
  const settings = parseSettings(store?.settings)
  const windowMs = safeDuration(settings.attribution_window)
  const opens = settings.attribution_opens === true
  const orderedMs = Date.parse(order.created_at)
  if (Number.isNaN(orderedMs)) return
  const orderedAt = new Date(orderedMs).toISOString()
  const windowStart = new Date(orderedMs - windowMs).toISOString()
  if (!(await mayHaveTouched(db, order.customer_key, windowStart, opens))) return
  const events = await db
    .selectFrom('events')
    .select(['type', 'occurred_at', 'data'])
    .where('store_id', '=', storeId)
    .where('customer_key', '=', order.customer_key)
    .where('type', 'in', opens ? ['message.clicked', 'message.opened'] : ['message.clicked'])
    .where('occurred_at', '>', windowStart)
    .where('occurred_at', '<=', orderedAt)
    .orderBy('occurred_at', 'desc')
    .limit(MAX_CANDIDATES)
    .execute()
  const touches = events.flatMap((e) => {
    const messageId = messageIdOf(e.data)
    return messageId ? [{ messageId, touch: (e.type === 'message.clicked' ? 'click' : 'open') as Touch, at: e.occurred_at }] : []
  })
  if (touches.length === 0) return
  // only storeflow's own messages of this store's workflows can be credited
  const messages = await db
    .selectFrom('messages')
    .select(['id', 'run_id', 'workflow_id', 'step_key', 'channel'])
    .where('store_id', '=', storeId)
    .where('id', 'in', [...new Set(touches.map((t) => t.messageId))])
    .execute()
  const known = new Map(messages.filter((m) => m.workflow_id && m.channel !== 'chat').map((m) => [m.id, m]))
  const credited = creditedTouch(
    orderedAt,
    { windowMs, opens },
    touches.filter((t) => known.has(t.messageId)),
  )
  if (!credited) return
  const message = known.get(credited.messageId)!
  const workflowId = message.workflow_id!
  const stepId = stepIdOfKey(message.step_key)
  const amount = micros(order.total_price)
  const refunded = takenBack(amount)
  const inserted = await db
    .insertInto('attributions')
    .values({
      store_id: storeId,
      order_id: orderId,
      customer_key: order.customer_key,
      message_id: message.id,
      run_id: message.run_id,
      workflow_id: workflowId,
      step_id: stepId,
      variant: message.run_id ? await splitVariant(db, message.run_id) : null,
      touch: credited.touch,
      touched_at: credited.at,
      ordered_at: orderedAt,
      currency: order.currency,
      amount_micros: Number(amount),
      refunded_micros: Number(refunded),
      // the time of the event that brought the order (the store layer has no clock of its own)
      created_at: at,
    })
    .onConflict((oc) => oc.columns(['store_id', 'order_id']).doNothing())
    .returning('order_id')
    .executeTakeFirst()
  if (!inserted) return
  await addWorkflowStats(db, storeId, stepAndWorkflow(workflowId, stepId, orderedAt, { orders: 1, revenue_micros: amount - refunded }))
}

/** The variant the run's split step chose (its latest split, when it went through several); null when none. */
async function splitVariant(db: Db, runId: string): Promise<string | null> {
  const row = await db
    .selectFrom('run_steps')
    .select('output')
    .where('run_id', '=', runId)
    .where('type', '=', 'split')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst()
  if (!row?.output) return null
  try {
    const variant = (JSON.parse(row.output) as { variant?: unknown }).variant
    return typeof variant === 'string' ? variant : null
  } catch {
    return null
  }
}

function micros(value: string | null | undefined): bigint {
  if (!value) return 0n
  try {
    return toMicro(value.trim())
  } catch {
    return 0n
  }
}

function messageIdOf(data: string): string | null {
  try {
    const id = (JSON.parse(data) as { message_id?: unknown }).message_id
    return typeof id === 'string' && id !== '' ? id : null
  } catch {
    return null
  }
}

function parseSettings(text: string | undefined): Record<string, unknown> {
  if (!text) return {}
  try {
    const parsed = JSON.parse(text) as unknown
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

function safeDuration(value: unknown): number {
  try {
    return parseDuration(typeof value === 'string' ? value : DEFAULT_WINDOW)
  } catch {
    return parseDuration(DEFAULT_WINDOW)
  }
}

/** A customer merged into another (store/commerce-projection.ts mergeCommerce): their attributed orders go with them. */
export async function moveAttributions(db: Db, storeId: string, fromKey: string, intoKey: string): Promise<void> {
  await db.updateTable('attributions').set({ customer_key: intoKey }).where('store_id', '=', storeId).where('customer_key', '=', fromKey).execute()
}
