import type { Kysely } from 'kysely'
import { createActionRegistry } from '../actions/index.ts'
import { discountSubjectTotal } from '../actions/create-discount-code/create-discount-code.action.ts'
import { loadConfig } from '../config.ts'
import type { CanonicalEvent } from '../contracts/events.ts'
import { DEFAULT_SETTINGS } from '../contracts/settings.ts'
import { checkConsent, guardrailSettings, type MessageCategory } from '../core/guardrails.ts'
import { parseWorkflow } from '../core/workflow/parse.ts'
import { viewPartsRead, type PartsRead, type ViewPart } from '../core/workflow/reads.ts'
import { parseDuration } from '../lib/durations.ts'
import { ManualClock } from '../lib/clock.ts'
import { UserError } from '../lib/errors.ts'
import { addMoney, moneyText } from '../lib/money.ts'
import { percentOfMoney } from '../lib/money-scale.ts'
import type { ActionContext, ActionDefinition } from '../plugin-api/define-action.ts'
import { SkipStep } from '../plugin-api/errors.ts'
import type { SkipDerivations } from '../engine/route-event.ts'
import {
  customerIdentities,
  eventHeadsBefore,
  eventsBySeq,
  anyRunDueBy,
  hasOpenRun,
  marketingSends,
  nextDueAt,
  sandboxOutcome,
  seedCustomerIdentities,
  type EventHead,
} from '../store/backtest.repo.ts'
import { getStoreProfile, setStoreProfile } from '../store/stores.repo.ts'
import type { Database } from '../store/tables.ts'
import { builtInTemplate, listMessageTemplates, saveMessageTemplate } from '../store/templates.repo.ts'
import { writesOf } from '../store/view-writes.ts'
import { getWorkflow, saveWorkflow } from '../store/workflows.repo.ts'
import type { ServiceContext } from './context.ts'
import { dryRunStubs, type OpenApp, type SimulatedWorkflow } from './simulate.ts'

/**
 * `storeflow backtest`: replays a store's stored events of a period through a workflow as if it
 * had been active then, on a virtual clock, in a sandbox (an app of its own on an in-memory
 * SQLite database, external actions dry-run): nothing is stored in the store, nothing is sent.
 *
 * How the sandbox is fed
 * - The store's customers are written into the sandbox by identity only (their keys, shop ids,
 *   emails), so every customer keeps the key the store gave them: the same holdout group, and
 *   the store's real messages count against the same customer.
 * - Every event before the period goes in as history: it builds the view (orders_count,
 *   total_spent, tags, carts) and starts nothing.
 * - The period's events go in in time order. An event the workflow can react to (its trigger's
 *   event; an `exit_when` or `wait_for` event of a customer with an open run) is ingested live
 *   with the clock at its `occurred_at`; the rest go in as history in batches (they only change
 *   the view).
 * - Only what the workflow can read is kept current: a history event goes in only when it writes
 *   a part of the view the workflow reads (its conditions, its Liquid and the templates it names,
 *   what its step types read: core/workflow/reads.ts; what each event type writes:
 *   store/view-writes.ts); when the only such part is its customer's profile (always kept: it is
 *   how events find their customer), a `customer.updated` carrying its customer object goes in
 *   instead, at its time; otherwise nothing. A workflow whose sandbox keeps a derivation (segments,
 *   stock alerts, demand, attribution) gets every event. `replay: 'all'` feeds every event, to
 *   check that the answers are the same.
 * - Before each event, and before any history batch that would pass it, the clock
 *   stops at every time a run falls due and the due runs run (waits pass on the virtual clock).
 *   At the end the clock runs on to the end of the period; runs still waiting then stay open.
 * - Guardrails: consent and quiet hours apply as in `simulate`; the marketing frequency cap is
 *   counted over the workflow's own simulated sends and the store's real marketing sends of its
 *   other workflows (the outbox), per customer, across channels, as the live cap is.
 *
 * What it does not replay: time-based events the store derives on a schedule (cart.abandoned,
 * customer.inactive, …) are replayed as the store recorded them, so a period that was only
 * imported as history has none; a workflow on a `cron:` schedule cannot be backtested.
 */

export interface BacktestOptions {
  since: Date
  /** the end of the period; default the clock's now */
  until?: Date
  /** events processed so far, of `total` (history and period) */
  onProgress?: (done: number, total: number) => void
  /**
   * 'read' (default): an event the workflow does not react to goes into the sandbox only when it
   * writes a part of the view the workflow can read (see the module's comment); 'all': every
   * event, as a check that leaving the others out changes nothing (tests)
   */
  replay?: 'read' | 'all'
}

export interface BacktestReport {
  /** the period, ISO-8601 */
  from: string
  to: string
  /** runs started in the period (holdout runs included) */
  runs: number
  /** messages the workflow would have sent (rendered, guardrails passed), by step id */
  messages_by_step: Record<string, number>
  /** create_discount_code steps that would have issued a code */
  discount_codes: number
  /**
   * what the codes are worth, in the store's currency: an amount code its amount; a percent code
   * its percent of the order or cart the run is about (order, else cart, else the trigger's
   * total_price: what create_discount_code books as a code's issued value); free shipping 0
   */
  discount_value: number
  /**
   * revenue of the customers' real orders (the stored order.created, else order.paid: its
   * total_price) placed within the store's attribution_window after a simulated message to them;
   * each order once; orders later cancelled left out
   */
  revenue_attributed_estimate: number
  /** customers with a simulated marketing message the frequency cap held back */
  customers_over_cap: number
  workflow_id: string
  /** runs by their status at the end of the period (waiting ones are still open) */
  runs_by_status: Record<string, number>
  /** runs in the holdout group (counted, no actions) */
  holdout_runs: number
  messages_total: number
  /** simulated messages skipped, by reason (frequency_cap, no_consent, …) */
  messages_skipped: Record<string, number>
  /** customers held back by the cap because of a real message of another workflow */
  customers_over_cap_by_other_workflows: number
  discount_codes_by_kind: Record<string, number>
  orders_attributed: number
  attribution_window: string
  currency: string
  /** events of the period replayed, and events before it read as history */
  events: { period: number; history: number; live: number }
  duration_ms: number
}

/** Step types (actions) whose completed steps are customer messages. */
const MESSAGE_ACTIONS = new Set(['send_email', 'send_sms'])

/** Events per history batch. */
const HISTORY_BATCH = 2000
/** Events whose data is read from the store at a time. */
const READ_CHUNK = 2000
/** Runs a sandbox tick claims at most. */
const TICK = 200

const round2 = (n: number) => Math.round(n * 100) / 100

/** The backtest use case: reads the store (read only) and runs the sandbox through ctx.openSandbox. */
export function createBacktestService(ctx: ServiceContext) {
  return {
    /** Backtests a stored workflow of the store (its current version), or a workflow given as a file's source. */
    async run(storeId: string, workflow: { id: string } | { source: string; fileName: string }, options: BacktestOptions): Promise<BacktestReport> {
      const openApp = ctx.openSandbox
      if (!openApp) throw new Error('backtest: this process was built without a sandbox opener (ServiceContext.openSandbox)')
      const db = ctx.handle.db
      const source =
        'id' in workflow
          ? { source: (await getWorkflow(db, storeId, workflow.id)).source, fileName: workflow.id }
          : { source: workflow.source, fileName: workflow.fileName }
      return backtest(db, storeId, { ...source, store: null }, { ...options, until: options.until ?? ctx.clock.now() }, openApp)
    },

    /** POST /api/v1/workflows/:id/backtest `{ since? }` (default "90d"): the stored workflow over the period up to now. */
    async fromRequest(storeId: string, workflowId: string, body: unknown): Promise<BacktestReport> {
      const b = body === undefined || body === null ? {} : body
      if (typeof b !== 'object' || Array.isArray(b))
        throw new UserError('body: send a JSON object like { "since": "90d" }', { code: 'validation_failed', details: { field: 'body' } })
      const fields = b as Record<string, unknown>
      const unknown = Object.keys(fields).find((k) => k !== 'since')
      if (unknown !== undefined) throw new UserError(`${unknown}: unknown field; expected since`, { code: 'validation_failed', details: { field: unknown } })
      if (fields.since !== undefined && typeof fields.since !== 'string')
        throw new UserError('since: write a duration like "90d" or a date like 2026-01-01', { code: 'validation_failed', details: { field: 'since' } })
      const until = ctx.clock.now()
      const since = parseSince((fields.since as string | undefined) ?? '90d', until, 'since')
      return this.run(storeId, { id: workflowId }, { since, until })
    },
  }
}

export type BacktestService = ReturnType<typeof createBacktestService>

/** Reads `--since`: a duration back from `until` ("90d") or an ISO-8601 time. */
export function parseSince(text: string, until: Date, field = '--since'): Date {
  const trimmed = text.trim()
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const at = Date.parse(trimmed)
    if (Number.isNaN(at))
      throw new UserError(`${field}: "${text}" is not a time; write a duration like "90d" or a date like 2026-01-01`, {
        code: 'validation_failed',
        details: { field },
      })
    if (at >= until.getTime())
      throw new UserError(`${field}: ${text} is not before the end of the period (${until.toISOString()})`, { code: 'validation_failed', details: { field } })
    return new Date(at)
  }
  let ms: number
  try {
    ms = parseDuration(trimmed, field)
  } catch {
    throw new UserError(`${field}: "${text}" is not a duration; write it like "90d", "12w" or "36h", or give a date like 2026-01-01`, {
      code: 'validation_failed',
      details: { field },
    })
  }
  if (ms <= 0) throw new UserError(`${field}: "${text}" must be longer than 0`, { code: 'validation_failed', details: { field } })
  return new Date(until.getTime() - ms)
}

/** The event types a workflow reacts to: its trigger's, and the events its goals and wait_for steps listen for. */
function reactions(parsed: ReturnType<typeof parseWorkflow>): { trigger: string; goals: Set<string> } {
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
const PROFILE_NEUTRAL_ACTIONS = new Set(['send_email', 'send_sms', 'create_discount_code', 'tag_customer', 'tag_order', 'notify_team', 'log', 'http_request'])

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
class CapLedger {
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
function cappedMessageActions(actions: ReadonlyMap<string, ActionDefinition>, ledger: CapLedger, capMs: number | null): ActionDefinition[] {
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
function valuedDiscountAction(actions: ReadonlyMap<string, ActionDefinition>): ActionDefinition[] {
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

/**
 * Backtests `workflow` over the store's events of [since, until): see the module's comment.
 * `db` is the store's database (read only here); the sandbox is opened with `openApp`.
 */
export async function backtest(
  db: Kysely<Database>,
  storeId: string,
  workflow: SimulatedWorkflow,
  options: BacktestOptions & { until: Date },
  openApp: OpenApp,
): Promise<BacktestReport> {
  const started = Date.now()
  const since = options.since
  const until = options.until
  if (!(since.getTime() < until.getTime()))
    throw new UserError('since: the period must start before it ends', { code: 'validation_failed', details: { field: 'since' } })
  const sinceIso = since.toISOString()
  const untilIso = until.toISOString()

  const profile = (await getStoreProfile(db, storeId)) ?? null
  if (!profile) throw new UserError(`store "${storeId}" not found`, { code: 'not_found' })
  const settings = { ...DEFAULT_SETTINGS, ...(JSON.parse(profile.settings || '{}') as Record<string, unknown>) }
  const templates = await listMessageTemplates(db, storeId)
  const registry = createActionRegistry()
  const parsed = parseWorkflow(workflow.source, (t) => registry.get(t), workflow.fileName)
  const workflowId = parsed.file.id
  const { trigger, goals } = reactions(parsed)
  const guard = guardrailSettings(settings)
  const windowText = typeof settings.attribution_window === 'string' ? settings.attribution_window : '5d'
  const windowMs = parseDuration(windowText, 'settings.attribution_window')

  // what the store holds: who its customers are, its events, and its other workflows' real sends
  const identities = await customerIdentities(db, storeId)
  const heads = await eventHeadsBefore(db, storeId, untilIso)
  let firstOfPeriod = heads.findIndex((h) => h.occurred_at >= sinceIso)
  if (firstOfPeriod < 0) firstOfPeriod = heads.length
  const capFrom = new Date(since.getTime() - (guard.frequencyCapMs ?? 0)).toISOString()
  const ledger = new CapLedger(await marketingSends(db, storeId, workflowId, capFrom, untilIso))

  const skips = unobserved(workflow.source, templates, trigger, goals)
  const parts = partsToReplay(parsed, templates, skips, options.replay)
  const profiles = RepeatedProfiles.for(parsed, parts)
  /** an event as the sandbox is fed it (replayedAs), or null: not at all, or a repeat of the customer's profile */
  const fedAs = (event: CanonicalEvent, head: EventHead): CanonicalEvent | null => {
    const r = replayedAs(event, parts)
    return r && !profiles.repeats(head.customer_key, r) ? r : null
  }
  /** the events as the sandbox is fed them, in their order */
  const replayable = (events: Array<CanonicalEvent | null>, chunk: EventHead[]) => {
    const out: CanonicalEvent[] = []
    for (const [j, e] of events.entries()) {
      const r = e && fedAs(e, chunk[j]!)
      if (r) out.push(r)
    }
    return out
  }
  const clock = new ManualClock(since)
  const config = await loadConfig({}, { ...process.env, STOREFLOW_SECRET_KEY: process.env.STOREFLOW_SECRET_KEY ?? 'backtest' })
  const app = await openApp(
    { ...config, databaseUrl: ':memory:', smtpUrl: undefined },
    {
      clock,
      dryRun: true,
      extraActions: [...dryRunStubs(registry), ...cappedMessageActions(registry, ledger, guard.frequencyCapMs), ...valuedDiscountAction(registry)],
      skipDerivations: skips,
    },
  )
  const total = heads.length
  let done = 0
  const progress = (n: number) => {
    done += n
    options.onProgress?.(done, total)
  }
  const orders = new Map<string, { customer: string | null; at: number; total: string; cancelled: boolean }>()
  let live = 0
  try {
    const sandbox = app.handle.db
    const SANDBOX = 'default'
    await setStoreProfile(sandbox, SANDBOX, { ...profile, settings: JSON.stringify(settings) })
    for (const t of templates) await saveMessageTemplate(sandbox, SANDBOX, t.name, t, clock.now())
    parsed.file.active = true
    await saveWorkflow(sandbox, SANDBOX, parsed, workflow.source, clock.now())
    await seedCustomerIdentities(sandbox, SANDBOX, identities, sinceIso)
    const engine = app.engine
    const owner = 'backtest'

    // before the period: history, in time order, building the view
    for (let i = 0; i < firstOfPeriod; i += READ_CHUNK) {
      const chunk = heads.slice(i, Math.min(firstOfPeriod, i + READ_CHUNK))
      const events = replayable(
        await eventsBySeq(
          db,
          storeId,
          chunk.map((h) => h.seq),
          SANDBOX,
        ),
        chunk,
      )
      if (events.length > 0) await engine.ingest(events, { historical: true, source: 'backtest' })
      await engine.settle(owner)
      progress(chunk.length)
    }

    // the period: history in batches, what the workflow reacts to live, the clock stopping at
    // every event it reacts to and every time a run falls due
    let pending: CanonicalEvent[] = []
    let due = await nextDueAt(sandbox)
    /** routes `ingested` events and runs what is due now, until nothing is left to do at this time */
    const settleAndRun = async (ingested: number) => {
      // one routing pass takes up to 500 events (less when its time budget runs out): settle only when it did not take them all
      if (ingested > 0 && (await engine.route(owner)).routed < ingested) await engine.settle(owner)
      for (;;) {
        // a tick that claimed fewer than it may has left nothing due now: steps chain within it up
        // to their next wait; when no run is due now (the event started none, made none due), a
        // tick would claim nothing, and is not made
        if (await anyRunDueBy(sandbox, clock.now().toISOString())) while ((await engine.tick(owner, TICK)) === TICK) {}
        // a step that emitted an event (emit_event) left it to be routed, which may make more runs due
        if ((await engine.storage.routerBacklog()) === 0) break
        await engine.settle(owner)
      }
      due = await nextDueAt(sandbox)
      // a run still due at this very time was not claimable (it cannot be: the sandbox has one
      // worker); move on rather than loop
      if (due !== null && Date.parse(due) <= clock.now().getTime()) due = new Date(clock.now().getTime() + 1).toISOString()
    }
    /** the history batch so far, and `event` (live) after it, ingested with the clock at `at`; then routed and run */
    const cycle = async (at: number, event: CanonicalEvent | null) => {
      clock.set(new Date(Math.max(at, clock.now().getTime())))
      const ingested: Array<Promise<unknown>> = []
      const count = pending.length + (event ? 1 : 0)
      if (pending.length > 0) ingested.push(engine.ingest(pending, { historical: true, source: 'backtest' }))
      if (event) ingested.push(engine.ingest([event], { historical: false, source: 'backtest' }))
      pending = []
      // both calls made in one turn: one group commit, history first
      await Promise.all(ingested)
      await settleAndRun(count)
    }
    const runDueUntil = async (at: string) => {
      while (due !== null && due <= at) await cycle(Date.parse(due), null)
    }
    // a goal's event reaches the runs of the customer it names, and those of no customer: for a
    // customer with no open run (and no run without one open) it only changes the view
    const reacts = async (h: EventHead) => {
      if (h.type === trigger) return true
      if (!goals.has(h.type)) return false
      return h.customer_key === null || (await hasOpenRun(sandbox, SANDBOX, workflowId, h.customer_key))
    }

    for (let i = firstOfPeriod; i < heads.length; i += READ_CHUNK) {
      const chunk = heads.slice(i, i + READ_CHUNK)
      const events = await eventsBySeq(
        db,
        storeId,
        chunk.map((h) => h.seq),
        SANDBOX,
      )
      for (const [j, event] of events.entries()) {
        const head = chunk[j]!
        // erased since it was listed
        if (!event) continue
        noteOrder(orders, event, head)
        await runDueUntil(event.occurred_at)
        if (await reacts(head)) {
          live++
          profiles.repeats(head.customer_key, event)
          await cycle(Date.parse(event.occurred_at), event)
        } else {
          const replayed = fedAs(event, head)
          if (!replayed) continue
          pending.push(replayed)
          if (pending.length >= HISTORY_BATCH) {
            await engine.ingest(pending, { historical: true, source: 'backtest' })
            pending = []
            await engine.settle(owner)
          }
        }
      }
      progress(chunk.length)
    }
    // the rest of the period: waits run out up to its end
    await runDueUntil(untilIso)
    await cycle(until.getTime(), null)

    const outcome = await sandboxOutcome(sandbox, workflowId)
    return report({
      outcome,
      orders,
      workflowId,
      sinceIso,
      untilIso,
      windowMs,
      windowText,
      currency: profile.currency,
      events: { period: heads.length - firstOfPeriod, history: firstOfPeriod, live },
      started,
    })
  } finally {
    await app.close()
  }
}

/** Keeps each order's first time, total and customer, and whether it was cancelled, for attribution. */
function noteOrder(
  orders: Map<string, { customer: string | null; at: number; total: string; cancelled: boolean }>,
  event: CanonicalEvent,
  head: EventHead,
): void {
  if (!event.type.startsWith('order.')) return
  const id = event.data.id ?? event.data.order_id
  if (typeof id !== 'string' && typeof id !== 'number') return
  const key = String(id)
  const known = orders.get(key)
  if (event.type === 'order.cancelled') {
    if (known) known.cancelled = true
    return
  }
  if (known || (event.type !== 'order.created' && event.type !== 'order.paid')) return
  const total = moneyText(event.data.total_price)
  if (total === null) return
  orders.set(key, { customer: head.customer_key, at: Date.parse(event.occurred_at), total, cancelled: false })
}

function report(input: {
  outcome: Awaited<ReturnType<typeof sandboxOutcome>>
  orders: Map<string, { customer: string | null; at: number; total: string; cancelled: boolean }>
  workflowId: string
  sinceIso: string
  untilIso: string
  windowMs: number
  windowText: string
  currency: string
  events: BacktestReport['events']
  started: number
}): BacktestReport {
  const { outcome } = input
  const runsByStatus: Record<string, number> = {}
  const runCustomer = new Map<string, string | null>()
  let holdout = 0
  for (const run of outcome.runs) {
    runsByStatus[run.status] = (runsByStatus[run.status] ?? 0) + 1
    runCustomer.set(run.id, run.customer_key)
    if (run.holdout) holdout++
  }
  const byStep: Record<string, number> = {}
  const skipped: Record<string, number> = {}
  const overCap = new Set<string>()
  const overCapByOthers = new Set<string>()
  const sentTo = new Map<string, number[]>()
  const codesByKind: Record<string, number> = {}
  let codes = 0
  let discountValue = '0'
  let messages = 0
  for (const step of outcome.steps) {
    const output = step.output ? (JSON.parse(step.output) as Record<string, unknown>) : {}
    const customer = runCustomer.get(step.run_id) ?? null
    if (MESSAGE_ACTIONS.has(step.type)) {
      if (step.status === 'completed' && output.status === 'rendered') {
        messages++
        byStep[step.step_id] = (byStep[step.step_id] ?? 0) + 1
        if (customer) {
          const list = sentTo.get(customer) ?? []
          list.push(Date.parse(step.ended_at ?? step.started_at))
          sentTo.set(customer, list)
        }
      } else if (step.status === 'skipped') {
        const reason = typeof output.reason === 'string' ? output.reason : 'skipped'
        skipped[reason] = (skipped[reason] ?? 0) + 1
        if (reason === 'frequency_cap' && customer) {
          overCap.add(customer)
          if (output.capped_by === 'other_workflows') overCapByOthers.add(customer)
        }
      }
    } else if (step.type === 'create_discount_code' && step.status === 'completed') {
      codes++
      const kind = typeof output.kind === 'string' ? output.kind : 'unknown'
      codesByKind[kind] = (codesByKind[kind] ?? 0) + 1
      discountValue = addMoney(discountValue, moneyText(output.issued_value) ?? '0')
    }
  }
  // attribution: each real order once, when it falls in the window after a simulated message to its customer
  let revenue = '0'
  let attributed = 0
  for (const order of input.orders.values()) {
    if (order.cancelled || !order.customer) continue
    const sends = sentTo.get(order.customer)
    if (!sends) continue
    if (sends.some((t) => t < order.at && order.at <= t + input.windowMs)) {
      revenue = addMoney(revenue, order.total)
      attributed++
    }
  }
  return {
    from: input.sinceIso,
    to: input.untilIso,
    runs: outcome.runs.length,
    messages_by_step: byStep,
    discount_codes: codes,
    discount_value: round2(Number(discountValue)),
    revenue_attributed_estimate: round2(Number(revenue)),
    customers_over_cap: overCap.size,
    workflow_id: input.workflowId,
    runs_by_status: runsByStatus,
    holdout_runs: holdout,
    messages_total: messages,
    messages_skipped: skipped,
    customers_over_cap_by_other_workflows: overCapByOthers.size,
    discount_codes_by_kind: codesByKind,
    orders_attributed: attributed,
    attribution_window: input.windowText,
    currency: input.currency,
    events: input.events,
    duration_ms: Date.now() - input.started,
  }
}
