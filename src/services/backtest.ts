import { availableParallelism } from 'node:os'
import type { Kysely } from 'kysely'
import { createActionRegistry } from '../actions/index.ts'
import { DEFAULT_SETTINGS } from '../contracts/settings.ts'
import type { CanonicalEvent } from '../contracts/events.ts'
import { guardrailSettings } from '../core/guardrails.ts'
import { parseWorkflow } from '../core/workflow/parse.ts'
import { type PartsRead, VIEW_PARTS, type ViewPart } from '../core/workflow/reads.ts'
import { parseDuration } from '../lib/durations.ts'
import { UserError } from '../lib/errors.ts'
import { addMoney, moneyText } from '../lib/money.ts'
import { customerIdentities, eventHeadsBefore, eventOf, eventsBySeq, marketingSends, type EventHead, type sandboxOutcome } from '../store/backtest.repo.ts'
import { getStoreProfile } from '../store/stores.repo.ts'
import type { Database } from '../store/tables.ts'
import { listMessageTemplates } from '../store/templates.repo.ts'
import { getWorkflow } from '../store/workflows.repo.ts'
import { openReplay, type ReplayItem, type ReplayPort, type ReplaySetup, SANDBOX } from './backtest-replay.ts'
import { MESSAGE_ACTIONS, partitionOf, partsToReplay, PROFILE_NEUTRAL_ACTIONS, reactions, unobserved } from './backtest-sandbox.ts'
import type { ServiceContext } from './context.ts'
import type { OpenApp, SimulatedWorkflow } from './simulate.ts'

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
 * - Split by customer: a large period (PARTITION_MIN_EVENTS) of a workflow whose runs see only
 *   their own customer is replayed in several sandboxes side by side, one thread each, each with a
 *   share of the customers by key and every event of no customer (partitionCount). Each sandbox
 *   does what the one sandbox would have done for its customers, so the report is the same.
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
  /**
   * sandboxes side by side, each with a share of the customers (partitionCount); default: the
   * machine's cores (at most 4) for a period of PARTITION_MIN_EVENTS events or more, else 1
   */
  partitions?: number
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
  /** sandboxes the replay was split into, by customer (1: not split) */
  sandboxes: number
  duration_ms: number
}

/** Events whose data is read from the store at a time. */
const READ_CHUNK = 2000
/** Chunks handed to the sandboxes and not yet replayed, at most. */
const IN_FLIGHT = 3

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
      return backtest(db, storeId, { ...source, store: null }, { ...options, until: options.until ?? ctx.clock.now() }, openApp, ctx.openBacktestPartition)
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

/**
 * Backtests `workflow` over the store's events of [since, until): see the module's comment.
 * `db` is the store's database (read only here); the sandbox is opened with `openApp`, or, when
 * the replay is split by customer, each of its sandboxes with `openPartition` (a thread each).
 */
export async function backtest(
  db: Kysely<Database>,
  storeId: string,
  workflow: SimulatedWorkflow,
  options: BacktestOptions & { until: Date },
  openApp: OpenApp,
  openPartition?: OpenPartition,
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
  const sends = await marketingSends(db, storeId, workflowId, capFrom, untilIso)

  const replay = options.replay ?? 'read'
  const skips = unobserved(workflow.source, templates, trigger, goals)
  const parts = partsToReplay(parsed, templates, skips, replay)
  const period = heads.length - firstOfPeriod
  const nullTrigger = heads.some((h, i) => i >= firstOfPeriod && h.type === trigger && h.customer_key === null)
  const wanted = openPartition && !splitting ? partitionCount(options.partitions, { parsed, parts, period, nullTrigger }) : 1
  const setup = (p: number, count: number): ReplaySetup => ({
    source: workflow.source,
    fileName: workflow.fileName,
    profile: { ...profile, settings: JSON.stringify(settings) },
    templates: templates.map((t) => ({ name: t.name, subject: t.subject, html: t.html, preheader: t.preheader })),
    identities,
    sends: count === 1 ? sends : sends.filter((s) => partitionOf(s.customer_key, count) === p),
    since: sinceIso,
    until: untilIso,
    skips,
    parts,
    share: { index: p, count },
  })
  // progress over every pass: a split replay found mixed is replayed again in one sandbox
  let total = heads.length
  let done = 0
  const progress = (n: number) => {
    done += n
    options.onProgress?.(done, total)
  }
  /** the replay in `count` sandboxes, dealt by customer; null when split and found mixed (see partitionCount) */
  const replayIn = async (count: number) => {
    const orders: Orders = new Map()
    const subjects = new Map<string, number>()
    let mixed = false
    /** events of no customer a goal names: each sandbox takes them live, the report counts them once */
    let liveEverywhere = 0
    /** the stored events of `chunk`, each with its head, dealt to the sandboxes: by customer, and those of no customer to each */
    const deal = async (chunk: EventHead[], inPeriod: boolean): Promise<ReplayItem[][]> => {
      const events = await eventsBySeq(
        db,
        storeId,
        chunk.map((h) => h.seq),
      )
      const shares: ReplayItem[][] = Array.from({ length: count }, () => [])
      for (const [j, stored] of events.entries()) {
        const head = chunk[j]!
        const p = head.customer_key === null || count === 1 ? null : partitionOf(head.customer_key, count)
        // only the events of orders (and, split, of carts) are read here; the sandboxes parse the rest
        const subject = stored && (stored.type.startsWith('order.') || (p !== null && SUBJECT_EVENT.test(stored.type))) ? eventOf(stored, SANDBOX) : null
        if (inPeriod && stored) {
          if (subject) noteOrder(orders, subject, head)
          if (head.customer_key === null && head.type !== trigger && goals.has(head.type)) liveEverywhere++
        }
        // an order or cart whose events are of customers in two sandboxes would be seen in part by each
        const id = subject && p !== null ? subjectOf(subject) : null
        if (id !== null) {
          const first = subjects.get(id)
          if (first === undefined) subjects.set(id, p!)
          else if (first !== p) mixed = true
        }
        const item = { head, event: stored }
        if (p === null) for (const s of shares) s.push(item)
        else shares[p]!.push(item)
      }
      return shares
    }
    const opened = await Promise.allSettled(
      Array.from({ length: count }, (_, p) => (count === 1 ? openReplay(setup(p, 1), openApp) : openPartition!(setup(p, count)))),
    )
    const ports = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
    let failed = true
    try {
      const refused = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected')
      if (refused) throw refused.reason
      // the events in chunks, read from the store while the sandboxes replay the chunks before: up
      // to IN_FLIGHT chunks handed over and not yet replayed (each sandbox takes its shares in
      // turn), so a sandbox with less to do in one chunk goes on with the next
      const inFlight: Array<{ replayed: Promise<unknown>; size: number }> = []
      const awaitOldest = async () => {
        const oldest = inFlight.shift()!
        await oldest.replayed
        progress(oldest.size)
      }
      const handOver = async (chunk: EventHead[], inPeriod: boolean) => {
        const shares = await deal(chunk, inPeriod)
        if (inFlight.length >= IN_FLIGHT) await awaitOldest()
        const replayed = Promise.all(
          ports.map((port, p) => (shares[p]!.length === 0 ? undefined : inPeriod ? port.period(shares[p]!) : port.history(shares[p]!))),
        )
        // awaited in its turn; a failure meanwhile is not unhandled
        replayed.catch(() => {})
        inFlight.push({ replayed, size: chunk.length })
      }
      // before the period: history, in time order, building the view
      for (let i = 0; i < firstOfPeriod; i += READ_CHUNK) await handOver(heads.slice(i, Math.min(firstOfPeriod, i + READ_CHUNK)), false)
      // the period: what the workflow reacts to live, the rest as history, the clock stopping at
      // every event it reacts to and every time a run falls due
      for (let i = firstOfPeriod; i < heads.length; i += READ_CHUNK) await handOver(heads.slice(i, i + READ_CHUNK), true)
      while (inFlight.length > 0) await awaitOldest()
      const results = await Promise.all(ports.map((port) => port.finish()))
      failed = false
      if (count > 1 && (mixed || results.some((r) => r.strays > 0))) return null
      return {
        outcome: { runs: results.flatMap((r) => r.outcome.runs), steps: results.flatMap((r) => r.outcome.steps) },
        orders,
        live: results.reduce((n, r) => n + r.live, 0) - (count - 1) * liveEverywhere,
      }
    } finally {
      // a failed replay's threads are ended at once (their databases are in memory: nothing to keep)
      await Promise.allSettled(ports.map((port) => (failed ? port.abort() : port.close())))
    }
  }

  let count = wanted
  if (count > 1) splitting = true
  let replayed: Awaited<ReturnType<typeof replayIn>>
  try {
    replayed = await replayIn(count)
  } finally {
    if (count > 1) splitting = false
  }
  if (!replayed) {
    // a customer's events found another customer in a sandbox (see partitionCount): in one, again
    count = 1
    total += heads.length
    replayed = (await replayIn(1))!
  }
  return report({
    outcome: replayed.outcome,
    orders: replayed.orders,
    workflowId,
    sinceIso,
    untilIso,
    windowMs,
    windowText,
    currency: profile.currency,
    events: { period, history: firstOfPeriod, live: replayed.live },
    sandboxes: count,
    started,
  })
}

/** Whether a backtest of this process is split now: one at a time is (the next runs in one sandbox), so threads stay few. */
let splitting = false

type Orders = Map<string, { customer: string | null; at: number; total: string; cancelled: boolean }>

/** Events whose subject (a cart, a checkout) a split replay checks is of one sandbox, as it does for orders. */
const SUBJECT_EVENT = /^(cart|checkout)\./

/** The order or cart an event is about, as the projection keys it (data.id; an order's fulfilment names order_id). */
function subjectOf(event: CanonicalEvent): string | null {
  const id = event.data.order_id ?? event.data.id
  if (typeof id !== 'string' && typeof id !== 'number') return null
  return `${event.type.startsWith('order.') ? 'order' : 'cart'}:${id}`
}

/** Opens one sandbox of a backtest split by customer, in a thread of its own (the composition root's backtest-partition.ts). */
export type OpenPartition = (setup: ReplaySetup) => Promise<ReplayPort>

/** Below this many events in the period a backtest is not split: starting the threads costs more than it saves. */
const PARTITION_MIN_EVENTS = 20_000
/** Sandboxes side by side at most. */
const MAX_PARTITIONS = 4

/**
 * Parts of the view that only a customer's own events write (or events of no customer, which every
 * sandbox takes): all but the catalogue, which every customer's orders write ("bought together").
 */
const CUSTOMER_PARTS: ReadonlySet<ViewPart> = new Set(VIEW_PARTS.filter((p) => p !== 'catalog'))

/**
 * How many sandboxes the replay is split into, each with a share of the customers (by their
 * key), side by side on the machine's cores. Splitting gives the same report only when no
 * customer's runs can see another customer:
 * - the sandbox keeps no derivation over customers (segments, stock, demand, attribution: `parts`
 *   is then a set of the view's parts), and reads none of the store as a whole (the catalogue,
 *   which every customer's orders write: "bought together");
 * - the workflow's actions change only its own customer (PROFILE_NEUTRAL_ACTIONS);
 * - no trigger event of the period is of no customer (a run of no customer is reached by every
 *   customer's goals).
 * What cannot be known before: each sandbox finds an event's customer anew, by the shop's id or
 * email, which may not be the customer the store found (an erased guest, an event replayed before
 * the one that named its customer). So a split replay is checked after: a run of no customer, an
 * event found to be of a customer of another sandbox (ReplayResult.strays), or an order or cart
 * whose events are of customers in two sandboxes, and it is replayed again in one.
 * `requested` (BacktestOptions.partitions) overrides the size check; 1 turns it off.
 */
export function partitionCount(
  requested: number | undefined,
  input: { parsed: ReturnType<typeof parseWorkflow>; parts: PartsRead; period: number; nullTrigger: boolean },
): number {
  if (requested !== undefined && !(Number.isInteger(requested) && requested >= 1))
    throw new UserError(`partitions: ${requested} is not a whole number of 1 or more`, { code: 'validation_failed', details: { field: 'partitions' } })
  const wanted = requested ?? (input.period >= PARTITION_MIN_EVENTS ? availableParallelism() : 1)
  if (wanted <= 1 || input.parts === 'all' || [...input.parts].some((p) => !CUSTOMER_PARTS.has(p))) return 1
  if (!input.parsed.program.every((ins) => ins.op !== 'action' || PROFILE_NEUTRAL_ACTIONS.has(ins.action))) return 1
  if (input.nullTrigger) return 1
  return Math.min(wanted, MAX_PARTITIONS)
}

/** Keeps each order's first time, total and customer, and whether it was cancelled, for attribution. */
function noteOrder(orders: Orders, event: CanonicalEvent, head: EventHead): void {
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
  sandboxes: number
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
    sandboxes: input.sandboxes,
    duration_ms: Date.now() - input.started,
  }
}
