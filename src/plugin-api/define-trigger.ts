import type { CanonicalEvent } from '../contracts/events.ts'
import type { EventTriggerSpec, ScheduleTriggerSpec, TriggerSpec } from '../contracts/workflow.ts'
import type { Logger } from '../lib/logger.ts'

/**
 * Triggers: what starts a workflow's runs. Three kinds, each a declaration:
 *
 * - `event`: the workflow names an event type (`trigger: { event: order.paid, filter: … }`).
 * - `schedule`: the workflow names a cron expression (`trigger: { cron: '0 9 * * 1', timezone }`);
 *   each tick is recorded as a `schedule.tick` event that starts that workflow only.
 * - `derived`: storeflow itself emits an event type (`cart.abandoned`, `customer.inactive`, …)
 *   from other events and/or a schedule. Workflows start on it like on any event
 *   (`trigger: { event: cart.abandoned }`); a derived trigger is one folder in src/triggers/.
 *
 * Event and schedule triggers are the two shapes a workflow file's `trigger` can take; ingest
 * matches an event against a workflow's trigger through its declaration, never by hand.
 */

/** What a workflow trigger is asked about: does this event start this workflow? */
export interface TriggerMatch<S> {
  /** the workflow file's `trigger` */
  spec: S
  /** the workflow whose trigger it is */
  workflowId: string
  /** the event, of the type `listensTo` named */
  event: CanonicalEvent
  /** evaluates a CEL condition over the run's scope (compiled once per workflow version) */
  condition(source: string): boolean
}

interface WorkflowTriggerBase<S extends TriggerSpec> {
  title: string
  description: string
  /** recognises this kind's shape of a workflow file's `trigger` */
  accepts(spec: TriggerSpec): spec is S
  /** the event type such a workflow is started by (indexed with the workflow) */
  listensTo(spec: S): string
  /** whether the event starts the workflow; the workflow's `when` is checked after this */
  matches(match: TriggerMatch<S>): boolean
}

export interface EventTriggerDefinition extends WorkflowTriggerBase<EventTriggerSpec> {
  kind: 'event'
}

export interface ScheduleTriggerDefinition extends WorkflowTriggerBase<ScheduleTriggerSpec> {
  kind: 'schedule'
  /** the event type each tick is recorded as */
  emits: string
  /**
   * The event one tick of a workflow's schedule records. Its id is the tick's idempotency key:
   * the same workflow and time always give the same id, so a tick is stored (and starts its run)
   * once, whichever worker records it and however often.
   */
  tickEvent(tick: { storeId: string; workflowId: string; cron: string; timezone: string; at: Date }): CanonicalEvent
}

export type WorkflowTriggerDefinition = EventTriggerDefinition | ScheduleTriggerDefinition

/** What woke a derived trigger: an event it reacts to, or a tick of its schedule. */
export type DerivedTriggerCause = { kind: 'event'; event: CanonicalEvent } | { kind: 'schedule'; at: Date }

/**
 * What a time-based derived trigger may read of its store's view, in the transaction that stores
 * what it derives. Each look returns only what has not been derived yet: the row's `event_id` is
 * the id its event must carry (the idempotency key), and rows whose event is already in the log
 * are left out, so a sweep every minute does not read the same carts again and again.
 */
export interface DerivedViewReads {
  /**
   * Carts and checkouts not converted, with an email, last updated at or before `idleBefore` and
   * after `notBefore`, with no order of the same customer since that update. event_id:
   * `cart.abandoned:<cart id>:<updated_at>` (an update after the announcement makes a new one).
   */
  abandonedCarts(
    window: { idleBefore: string; notBefore: string },
    limit: number,
  ): Promise<Array<{ event_id: string; updated_at: string; data: Record<string, unknown>; customer: Record<string, unknown> | null }>>
  /**
   * Customers with an order whose last order was at or before `lastOrderBefore` and after
   * `notBefore`. event_id: `customer.inactive:<customer key>:<last_order_at>` (a new order starts a
   * new spell, with a new id).
   */
  inactiveCustomers(
    window: { lastOrderBefore: string; notBefore: string },
    limit: number,
  ): Promise<Array<{ event_id: string; last_order_at: string; customer: Record<string, unknown> }>>
  /**
   * Customers whose birthday (YYYY-MM-DD) falls on one of these month-days (`MM-DD`), by key, after
   * the key `after` (a page at a time: the caller leaves out who already had this year's).
   */
  birthdays(monthDays: string[], limit: number, after?: string): Promise<Array<{ key: string; birthday: string; customer: Record<string, unknown> }>>
  /**
   * Active subscriptions renewing at or before `renewsBefore` and after `notBefore`. event_id:
   * `subscription.renewal_due:<subscription id>:<next_renewal_at>`.
   */
  renewalsDue(
    window: { renewsBefore: string; notBefore: string },
    limit: number,
  ): Promise<Array<{ event_id: string; renews_at: string; data: Record<string, unknown>; customer: Record<string, unknown> | null }>>
  /**
   * Open invoices due at or before `dueBefore` and after `notBefore`. event_id:
   * `invoice.overdue:<invoice id>`.
   */
  overdueInvoices(
    window: { dueBefore: string; notBefore: string },
    limit: number,
  ): Promise<Array<{ event_id: string; due_at: string; data: Record<string, unknown>; customer: Record<string, unknown> | null }>>
  /** Which of these event ids the store's log already holds. */
  existingEventIds(ids: string[]): Promise<Set<string>>
}

export interface DerivedTriggerContext {
  cause: DerivedTriggerCause
  store: { id: string; timezone: string; settings: Record<string, unknown> }
  /** the store's view, for triggers that look for what time has made true */
  view: DerivedViewReads
  /** the engine's clock */
  now: Date
  log: Logger
  /**
   * Segment membership (src/triggers/segments/): re-evaluates every customer of the store and
   * records each change as a `segment.entered` / `segment.exited` event in this transaction;
   * returns how many. Absent where there is no store to sweep (simulations).
   */
  segments?: { sweep(): Promise<number> }
}

/** One event a derived trigger emits; its type is the trigger's `type`, its store the cause's. */
export interface DerivedEvent {
  /**
   * The idempotency key: deriving the same fact again (a repeat, another worker) must give the
   * same id, like `cart.abandoned:<cart id>:<cart updated_at>`, so it is stored and acted on once.
   */
  id: string
  /** when it happened; ISO-8601; default: now */
  occurred_at?: string
  /** the data, in the shape the event type's schema asks for (contracts/events.ts) */
  data: Record<string, unknown>
}

export interface DerivedTriggerDefinition {
  kind: 'derived'
  /** the event type it emits (a type of contracts/events.ts); persisted in workflow files: never renamed */
  type: string
  title: string
  description: string
  /** what wakes it: events of these types as they are ingested, and/or the ticks of a schedule */
  reactsTo: {
    events?: string[]
    /** a cron expression; time zone: the one given, else the store's */
    schedule?: { cron: string; timezone?: string }
  }
  /**
   * The events this cause derives (often none). It runs inside the transaction that stores the
   * cause, or records the tick: what it returns is ingested there, exactly once with it.
   */
  derive(context: DerivedTriggerContext): Promise<DerivedEvent[]>
}

export type TriggerDefinition = WorkflowTriggerDefinition | DerivedTriggerDefinition

export function defineTrigger<D extends TriggerDefinition>(definition: D): D {
  return definition
}
