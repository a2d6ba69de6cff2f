import type { ActionServices } from '../plugin-api/services.ts'
import { VIEW_AND_LOG_READS, type RunRecord, type StorageTx, type StoredEvent } from './ports.ts'
import { subjectOrderId } from './scope.ts'

/**
 * A claimed batch's reads, set-based: what every run's scope will ask for (its trigger event, its
 * customer, the order its trigger is about) is read for the whole batch in one statement each,
 * when the batch's transaction begins, instead of once per run per step.
 *
 * Stored events never change, so each is kept for the whole transaction. The customer and order
 * views can change inside it (an internal action tags a customer, an emitted event is projected):
 * they are answered from the batch's read only until the first operation that might write one;
 * after that every view is read afresh.
 */

/** Operations that write no customer or order: the batch's views stay true across them. */
const KEEP_VIEWS = new Set<string>([
  ...VIEW_AND_LOG_READS,
  // runs, their steps and correlations: no view is written
  'getRun',
  'updateRun',
  'updateRuns',
  'upsertStep',
  'upsertSteps',
  'deleteCorrelations',
  'deleteCorrelationsOf',
  'activeRunWorkflows',
  'lastRunStartedAt',
  // insight's counters
  'countRunEnded',
] satisfies Array<keyof StorageTx>)

type View = Record<string, unknown>

export async function batchReads(tx: StorageTx, runs: RunRecord[]): Promise<StorageTx> {
  const events = new Map<number, Promise<StoredEvent | null>>()
  const seqs = new Set<number>()
  for (const run of runs) {
    seqs.add(run.trigger_event_seq)
    if (run.state.eventSeq) seqs.add(run.state.eventSeq)
  }
  const stored = seqs.size > 0 ? await tx.getEvents([...seqs]) : []
  for (const event of stored) events.set(event.seq, Promise.resolve(event))

  const customerKeys = new Set<string>()
  const ordersByStore = new Map<string, Set<string>>()
  const bySeq = new Map(stored.map((e) => [e.seq, e]))
  for (const run of runs) {
    if (run.customer_key) customerKeys.add(run.customer_key)
    const trigger = bySeq.get(run.trigger_event_seq)
    const orderId = trigger ? subjectOrderId(trigger) : null
    if (orderId) ordersByStore.set(run.store_id, (ordersByStore.get(run.store_id) ?? new Set()).add(orderId))
  }
  let customers: Map<string, View> | null = await tx.customerViews([...customerKeys])
  let orders: Map<string, View> | null = new Map()
  for (const [storeId, ids] of ordersByStore) {
    for (const [id, view] of await tx.orderViews(storeId, [...ids])) orders.set(`${storeId}\u0000${id}`, view)
  }
  const forget = () => {
    customers = null
    orders = null
  }

  const own: Partial<StorageTx> = {
    getEvent(seq) {
      let hit = events.get(seq)
      if (!hit) {
        hit = tx.getEvent(seq)
        events.set(seq, hit)
      }
      return hit
    },
    async customerView(key) {
      return customers?.get(key) ?? tx.customerView(key)
    },
    async orderView(storeId, orderId) {
      return orders?.get(`${storeId}\u0000${orderId}`) ?? tx.orderView(storeId, orderId)
    },
    services(storeId, emit) {
      const services = tx.services(storeId, emit)
      const writing =
        <A extends unknown[], R>(fn: (...args: A) => R) =>
        (...args: A): R => {
          forget()
          return fn(...args)
        }
      const customersService: ActionServices['customers'] = {
        addTags: writing(services.customers.addTags),
        removeTags: writing(services.customers.removeTags),
      }
      // points change the customer's balance (customers.loyalty_points)
      const loyalty: ActionServices['loyalty'] = { award: writing(services.loyalty.award) }
      const ordersService: ActionServices['orders'] = {
        addTags: writing(services.orders.addTags),
        hold: writing(services.orders.hold),
        shopifyAdmin: services.orders.shopifyAdmin,
      }
      return { ...services, customers: customersService, loyalty, orders: ordersService }
    },
  }

  return new Proxy(tx, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in own) return own[prop as keyof StorageTx]
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function' || (typeof prop === 'string' && KEEP_VIEWS.has(prop))) return value
      return (...args: unknown[]) => {
        forget()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}
