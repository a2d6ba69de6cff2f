import { EVENT_TYPES } from '../contracts/events.ts'
import type { TriggerSpec } from '../contracts/workflow.ts'
import { cronProblem, timeZoneProblem } from '../core/cron.ts'
import type { DerivedTriggerDefinition, TriggerMatch, WorkflowTriggerDefinition } from '../plugin-api/define-trigger.ts'
import { cartAbandoned } from './cart-abandoned/cart-abandoned.trigger.ts'
import { customerBirthday } from './customer-birthday/customer-birthday.trigger.ts'
import { customerInactive } from './customer-inactive/customer-inactive.trigger.ts'
import { eventTrigger } from './event/event.trigger.ts'
import { invoiceOverdue } from './invoice-overdue/invoice-overdue.trigger.ts'
import { scheduleTrigger } from './schedule/schedule.trigger.ts'
import { subscriptionRenewalDue } from './subscription-renewal-due/subscription-renewal-due.trigger.ts'
import { segmentSweepTrigger } from './segments/segments.trigger.ts'

/**
 * The triggers storeflow knows. A workflow's `trigger` is one of the workflow triggers; derived
 * triggers (one folder each, src/triggers/<name>/) emit event types that workflows start on.
 */
export const WORKFLOW_TRIGGERS: readonly WorkflowTriggerDefinition[] = [eventTrigger, scheduleTrigger]

/** Built-in derived triggers; add a folder and list its definition here. */
export const DERIVED_TRIGGERS: readonly DerivedTriggerDefinition[] = [
  cartAbandoned,
  customerInactive,
  customerBirthday,
  subscriptionRenewalDue,
  invoiceOverdue,
  segmentSweepTrigger,
]

export { eventTrigger, scheduleTrigger }

/** The declaration that handles a workflow file's trigger. */
export function workflowTriggerFor(spec: TriggerSpec): WorkflowTriggerDefinition {
  const found = WORKFLOW_TRIGGERS.find((t) => t.accepts(spec))
  if (!found) throw new Error(`no trigger declaration accepts ${JSON.stringify(spec)}`)
  return found
}

/** Whether an event starts a workflow, as the declaration of the workflow's trigger says. */
export function triggerMatches(spec: TriggerSpec, match: Omit<TriggerMatch<TriggerSpec>, 'spec'>): boolean {
  // accepts() narrowed the spec to the shape this declaration's matches() takes
  const trigger = workflowTriggerFor(spec) as { matches(m: TriggerMatch<TriggerSpec>): boolean }
  return trigger.matches({ ...match, spec })
}

export interface TriggerRegistry {
  derived: readonly DerivedTriggerDefinition[]
  /** the derived triggers that react to events of this type */
  reactingTo(eventType: string): readonly DerivedTriggerDefinition[]
}

/**
 * The derived triggers of a process: the built-in ones (unless `builtIn: false`) plus `extra` (tests, plugins). Refuses a
 * declaration that could not work: an unknown or doubly emitted event type, one that wakes on
 * nothing, or one that reacts to its own events.
 */
export function createTriggerRegistry(extra: readonly DerivedTriggerDefinition[] = [], options: { builtIn?: boolean } = {}): TriggerRegistry {
  const derived = [...(options.builtIn === false ? [] : DERIVED_TRIGGERS), ...extra]
  const byReaction = new Map<string, DerivedTriggerDefinition[]>()
  const emitted = new Set<string>()
  for (const trigger of derived) {
    if (!(EVENT_TYPES as readonly string[]).includes(trigger.type))
      throw new Error(`derived trigger "${trigger.type}": not an event type of contracts/events.ts`)
    if (emitted.has(trigger.type)) throw new Error(`derived trigger "${trigger.type}" is declared twice`)
    emitted.add(trigger.type)
    const events = trigger.reactsTo.events ?? []
    if (events.length === 0 && !trigger.reactsTo.schedule)
      throw new Error(`derived trigger "${trigger.type}" reacts to nothing: give reactsTo.events or reactsTo.schedule`)
    if (events.includes(trigger.type)) throw new Error(`derived trigger "${trigger.type}" reacts to its own events`)
    const schedule = trigger.reactsTo.schedule
    if (schedule) {
      const problem =
        (schedule.timezone ? timeZoneProblem(schedule.timezone) : null) ??
        cronProblem({ cron: schedule.cron, timezone: schedule.timezone ?? 'UTC' }, new Date())
      if (problem) throw new Error(`derived trigger "${trigger.type}": reactsTo.schedule: ${problem}`)
    }
    for (const type of events) byReaction.set(type, [...(byReaction.get(type) ?? []), trigger])
  }
  return {
    derived,
    reactingTo: (eventType) => byReaction.get(eventType) ?? [],
  }
}
