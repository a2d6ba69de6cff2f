import { discountSubjectTotal } from '../actions/create-discount-code/create-discount-code.action.ts'
import type { CanonicalEvent } from '../contracts/events.ts'
import { checkConsent, type MessageCategory } from '../core/guardrails.ts'
import type { parseWorkflow } from '../core/workflow/parse.ts'
import { viewPartsRead, type PartsRead, type ViewPart } from '../core/workflow/reads.ts'
import { UserError } from '../lib/errors.ts'
import { addMoney, moneyText } from '../lib/money.ts'
import { percentOfMoney } from '../lib/money-scale.ts'
import type { ActionContext, ActionDefinition } from '../plugin-api/define-action.ts'
import { SkipStep } from '../plugin-api/errors.ts'
import type { SkipDerivations } from '../engine/route-event.ts'
import { builtInTemplate } from '../store/templates.repo.ts'
import { writesOf } from '../store/view-writes.ts'

/**
 * What a backtest's sandbox is made of (services/backtest.ts has the method): which events the
 * workflow reacts to, which derivations and parts of the view it cannot observe (left out), how
 * an event it does not react to is fed, and its message and discount actions in a dry run with
 * the frequency cap counted and the codes valued.
 */

/** Step types (actions) whose completed steps are customer messages. */
export const MESSAGE_ACTIONS = new Set(['send_email', 'send_sms'])

/** The event types a workflow reacts to: its trigger's, and the events its goals and wait_for steps listen for. */
export function reactions(parsed: ReturnType<typeof parseWorkflow>): { trigger: string; goals: Set<string> } {
  const spec = parsed.file.trigger
  if (!('event' in spec) || typeof spec.event !== 'string')
    throw new UserError('backtest replays events: a workflow on a schedule (`cron:`) cannot be backtested; try `storeflow simulate`', {
      code: 'validation_failed',
      details: { field: 'trigger' },
    })
  const goals = new Set<string>()
  for (const goal of parsed.file.exit_when ?? []) goals.add(goal.event)
  for (const ins of parsed.program) if (ins.op === 'wait_for') goals.add(ins.event)
  return { trigger: spec.event, goals }
}

/**
 * The per-event derivations the workflow cannot observe, left out of the sandbox (they cost most
 * of a replayed event's work): segment membership and RFM when neither its source nor the store's
 * message templates mention segments or RFM and it reacts to no segment.* event; stock alerts when
 * neither mentions inventory or stock and it reacts to no inventory.* event; daily demand (what
 * forecasts read) with them, unless forecasts or demand are mentioned; attribution of orders to
 * messages (analytics; the report counts its own). A mere mention keeps them (the check reads
 * text, so it errs on keeping). The workflows' counters and insight cohorts are never kept: the
 * report is read from the sandbox's runs and steps.
 */
export function unobserved(source: string, templates: unknown[], trigger: string, goals: Set<string>): SkipDerivations {
  const text = `${source}\n${JSON.stringify(templates)}`.toLowerCase()
  const types = [trigger, ...goals]
  const segments = !/segment|rfm/.test(text) && !types.some((t) => t.startsWith('segment.'))
  const inventory = !/inventory|stock/.test(text) && !types.some((t) => t.startsWith('inventory.'))
  // what forecasts read, and what analytics reads (the backtest counts its own attribution)
  const demand = inventory && !/forecast|demand|reorder/.test(text)
  const attribution = !/attribut|touch/.test(text)
  // the workflows' counters and cohorts: the report is read from the sandbox's runs and steps
  return { segments, inventory, demand, attribution, analytics: true }
}

/**
 * The parts of the view the sandbox keeps current: what the workflow can read
 * (core/workflow/reads.ts), and always the customers' profiles, since an event finds its customer
 * by the shop's id or the email the profile holds then, and a live event must find the same
 * customer the store's router found. Every part when the sandbox keeps a derivation (segments,
 * stock alerts, demand and attribution are computed from the whole view) or when asked to.
 */
export function partsToReplay(
  parsed: ReturnType<typeof parseWorkflow>,
  templates: ReadonlyArray<{ name: string; subject: string; html: string; preheader?: string | null }>,
  skips: SkipDerivations,
  replay: 'read' | 'all' = 'read',
): PartsRead {
  if (replay === 'all' || !skips.segments || !skips.inventory || !skips.demand || !skips.attribution) return 'all'
  const texts: string[] = []
  for (const ins of parsed.program) {
    if (ins.op !== 'action' || ins.with.template === undefined) continue
    const name = ins.with.template
    // a template chosen by Liquid may be any of them
    if (typeof name !== 'string' || /\{\{|\{%/.test(name)) return 'all'
    const template = templates.find((t) => t.name === name) ?? builtInTemplate(name)
    if (template) texts.push(template.subject, template.html, template.preheader ?? '')
  }
  const read = viewPartsRead({ file: parsed.file, program: parsed.program, templates: texts })
  if (read === 'all') return 'all'
  return new Set<ViewPart>([...read, 'customer_profile'])
}

/**
 * What of an event the workflow does not react to goes into the sandbox: the event, when it
 * writes a part the workflow reads (store/view-writes.ts); only its customer's profile (a
 * `customer.updated` carrying the customer object it carries, at its time: the same upsert), when
 * that is all it writes that is read; else nothing (null).
 */
export function replayedAs(event: CanonicalEvent, parts: PartsRead): CanonicalEvent | null {
  if (parts === 'all') return event
  const writes = writesOf(event)
  if (writes.parts === 'all') return event
  for (const p of writes.parts) if (parts.has(p)) return event
  if (!writes.customer || !parts.has('customer_profile')) return null
  // an object with a `customer` of its own would not read as a customer event's customer (customerOf)
  if ('customer' in writes.customer) return event
  return { id: event.id, type: 'customer.updated', occurred_at: event.occurred_at, store: event.store, data: writes.customer }
}

/**
 * Actions a workflow may take without changing a customer's profile or consent in the sandbox
 * other than by adding tags (which a repeated profile, merging its tags, cannot take away): with
 * only these, a profile the sandbox already holds need not be given to it again (RepeatedProfiles).
 */
export const PROFILE_NEUTRAL_ACTIONS = new Set([
  'send_email',
  'send_sms',
  'create_discount_code',
  'tag_customer',
  'tag_order',
  'notify_team',
  'log',
  'http_request',
])

/**
 * A shop sends the customer object with every order, checkout and fulfilment event, so most of
 * the profile updates a replay would feed are the customer's last profile again (about 19 in 20
 * in the bench's store). Fed again it changes nothing the workflow can read: each field is
 * written only when it differs, tags are merged, and the shop's consent flag keeps its value (its
 * time moves on, which matters only against an explicit subscribe or unsubscribe: an event of the
 * customer, after which the next profile is fed again). So a `customer.updated` carrying exactly
 * the object last fed for the customer is left out, unless the workflow's own actions may write
 * the profile (anything but PROFILE_NEUTRAL_ACTIONS), or it is fed every event (`replay: 'all'`).
 */
export class RepeatedProfiles {
  /** real store's customer key → the customer object last fed to the sandbox (JSON), while known */
  private readonly fed = new Map<string, string>()

  constructor(private readonly enabled: boolean) {}

  static for(parsed: ReturnType<typeof parseWorkflow>, parts: PartsRead): RepeatedProfiles {
    const neutral = parsed.program.every((ins) => ins.op !== 'action' || PROFILE_NEUTRAL_ACTIONS.has(ins.action))
    return new RepeatedProfiles(parts !== 'all' && neutral)
  }

  /**
   * Whether `fed` (what replayedAs made of an event of the customer) repeats the profile last fed
   * for them; when it does not, notes what it feeds. Every event fed to the sandbox passes here.
   */
  repeats(customerKey: string | null, fed: CanonicalEvent): boolean {
    if (!this.enabled || customerKey === null) return false
    if (fed.type !== 'customer.updated' && fed.type !== 'customer.created') {
      const carried = writesOf(fed).customer
      // an event that may change the customer otherwise (consent, an erasure, …): the next profile is fed again
      if (carried) this.fed.set(customerKey, JSON.stringify(carried))
      else this.fed.delete(customerKey)
      return false
    }
    const profile = JSON.stringify(fed.data)
    if (fed.type === 'customer.updated' && this.fed.get(customerKey) === profile) return true
    this.fed.set(customerKey, profile)
    return false
  }
}

/** The frequency cap over the sandbox's simulated sends and the store's real ones. */
export class CapLedger {
  /** real sends of other workflows, per customer, ascending */
  private readonly real = new Map<string, number[]>()
  /** the workflow's simulated sends: customer → step idempotency key → time */
  private readonly own = new Map<string, Map<string, number>>()

  constructor(sends: Array<{ customer_key: string; sent_at: string }>) {
    for (const s of sends) {
      const list = this.real.get(s.customer_key) ?? []
      list.push(Date.parse(s.sent_at))
      this.real.set(s.customer_key, list)
    }
    for (const list of this.real.values()) list.sort((a, b) => a - b)
  }

  /** The last send to the customer at or before `now` (not the step's own), and whose it was. */
  last(customerKey: string, now: number, stepKey: string): { at: number; by: 'other_workflows' | 'this_workflow' } | null {
    let best: { at: number; by: 'other_workflows' | 'this_workflow' } | null = null
    const real = this.real.get(customerKey)
    if (real) {
      // the last real send at or before now
      let lo = 0
      let hi = real.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (real[mid]! <= now) lo = mid + 1
        else hi = mid
      }
      if (lo > 0) best = { at: real[lo - 1]!, by: 'other_workflows' }
    }
    for (const [key, at] of this.own.get(customerKey) ?? []) {
      if (key === stepKey || at > now) continue
      if (!best || at >= best.at) best = { at, by: 'this_workflow' }
    }
    return best
  }

  record(customerKey: string, stepKey: string, at: number): void {
    const mine = this.own.get(customerKey) ?? new Map<string, number>()
    mine.set(stepKey, at)
    this.own.set(customerKey, mine)
  }
}

/**
 * The customer-message actions with the frequency cap a dry run leaves out: consent first (a
 * customer without it is skipped for that, as live), then the cap over the ledger, then the
 * action's own dry run (consent again, quiet hours).
 */
export function cappedMessageActions(actions: ReadonlyMap<string, ActionDefinition>, ledger: CapLedger, capMs: number | null): ActionDefinition[] {
  return [...actions.values()]
    .filter((a) => MESSAGE_ACTIONS.has(a.type))
    .map((a) => ({
      ...a,
      run: async (ctx: ActionContext<{ category?: MessageCategory }>) => {
        const category: MessageCategory = ctx.input?.category ?? 'marketing'
        const customer = ctx.customer
        const now = ctx.clock.now().getTime()
        if (category === 'marketing' && customer && capMs !== null && capMs > 0 && checkConsent(category, customer).allowed) {
          const last = ledger.last(customer.key, now, ctx.idempotencyKey)
          if (last && last.at + capMs > now) throw new SkipStep('frequency_cap', { until: new Date(last.at + capMs).toISOString(), capped_by: last.by })
        }
        const output = await a.run(ctx)
        if (category === 'marketing' && customer) ledger.record(customer.key, ctx.idempotencyKey, now)
        return output
      },
    }))
}

/** create_discount_code in a dry run, with the value it would book (what the live action books as issued_value). */
export function valuedDiscountAction(actions: ReadonlyMap<string, ActionDefinition>): ActionDefinition[] {
  const a = actions.get('create_discount_code')
  if (!a) return []
  return [
    {
      ...a,
      run: async (ctx: ActionContext<{ percent?: unknown; amount?: unknown }>) => {
        const output = (await a.run(ctx)) as Record<string, unknown>
        const kind = output.kind
        const value = moneyText(output.value) ?? '0'
        const issued = kind === 'amount' ? addMoney(value, '0') : kind === 'percent' ? percentOfMoney(discountSubjectTotal(ctx.scope) ?? '0', value) : '0.00'
        return { ...output, issued_value: issued }
      },
    },
  ]
}

/** Which of `count` sandboxes a customer's events go to: FNV-1a of the key. */
export function partitionOf(customerKey: string, count: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < customerKey.length; i++) {
    h ^= customerKey.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % count
}
