import { createActionRegistry } from '../actions/index.ts'
import { loadConfig } from '../config.ts'
import type { CanonicalEvent } from '../contracts/events.ts'
import { guardrailSettings } from '../core/guardrails.ts'
import { parseWorkflow } from '../core/workflow/parse.ts'
import type { PartsRead } from '../core/workflow/reads.ts'
import type { SkipDerivations } from '../engine/route-event.ts'
import { ManualClock } from '../lib/clock.ts'
import {
  anyRunDueBy,
  customersOfEvents,
  type CustomerIdentity,
  eventIdsOfCustomers,
  type EventHead,
  eventOf,
  hasOpenRun,
  nextDueAt,
  runsWithoutCustomer,
  sandboxOutcome,
  seedCustomerIdentities,
  type StoredEvent,
} from '../store/backtest.repo.ts'
import { setStoreProfile, type StoreProfile } from '../store/stores.repo.ts'
import { saveMessageTemplate } from '../store/templates.repo.ts'
import type { MessageTemplate } from '../plugin-api/services.ts'
import { saveWorkflow } from '../store/workflows.repo.ts'
import { CapLedger, cappedMessageActions, partitionOf, reactions, RepeatedProfiles, replayedAs, valuedDiscountAction } from './backtest-sandbox.ts'
import type { ServiceContext } from './context.ts'
import { dryRunStubs, type OpenApp } from './simulate.ts'

/**
 * One sandbox of a backtest (services/backtest.ts): an app of its own on an in-memory database and
 * a virtual clock, fed the store's events in time order, that runs the workflow as the live engine
 * would have. The backtest feeds one, or several side by side (each in a thread of its own, each
 * with a share of the customers: backtest-partition.ts). Everything here crosses a thread as it
 * is: plain data in, plain data out.
 */

/** What a sandbox is opened with: the store as the backtest read it. */
export interface ReplaySetup {
  source: string
  fileName: string
  /** the store's name, currency and time zone; settings as a JSON text */
  profile: StoreProfile
  templates: MessageTemplate[]
  /** every customer of the store, by identity (each sandbox holds them all: an event finds its customer as in the store) */
  identities: CustomerIdentity[]
  /** the store's real marketing sends of its other workflows (the frequency cap's history), of this sandbox's customers */
  sends: Array<{ customer_key: string; sent_at: string }>
  since: string
  until: string
  /**
   * What the sandbox leaves out and keeps current (backtest-sandbox.ts unobserved, partsToReplay),
   * worked out once by the backtest, which decided on them whether to split
   */
  skips: SkipDerivations
  parts: PartsRead
  /** which share of the customers this sandbox replays, of how many (index 0 of 1: all of them) */
  share: { index: number; count: number }
}

/** A stored event as the backtest hands it over: its head, and the event (null: erased since it was listed). */
export interface ReplayItem {
  head: EventHead
  event: StoredEvent | null
}

/** What a sandbox did: its runs and their action steps, and how many events it took live. */
export interface ReplayResult {
  outcome: Awaited<ReturnType<typeof sandboxOutcome>>
  live: number
  /**
   * Of a sandbox with a share of the customers: its runs of no customer, and the events it was
   * dealt for one customer that its router found to be of a customer of another share (0 when it
   * has them all). Either means the split replay may differ from one sandbox's.
   */
  strays: number
}

/** A sandbox as the backtest drives it, in this thread (openReplay) or in a worker (backtest-partition.ts). */
export interface ReplayPort {
  /** events before the period: they build the view and start nothing */
  history(items: ReplayItem[]): Promise<void>
  /** the period's next events, in time order */
  period(items: ReplayItem[]): Promise<void>
  /** runs the clock on to the end of the period and reads what the workflow did */
  finish(): Promise<ReplayResult>
  /** closes it once what was handed over is done */
  close(): Promise<void>
  /** after a failure: ends it without waiting for what was handed over */
  abort(): Promise<void>
}

/** Events per history batch. */
const HISTORY_BATCH = 2000
/** Runs a sandbox tick claims at most. */
const TICK = 200
/** The sandbox's one store (the events it is fed name it). */
export const SANDBOX = 'default'
const OWNER = 'backtest'

/** Opens a sandbox on `setup` in this thread, with `openApp` (the composition root's createApp). */
export async function openReplay(setup: ReplaySetup, openApp: OpenApp): Promise<ReplayPort> {
  const registry = createActionRegistry()
  const parsed = parseWorkflow(setup.source, (t) => registry.get(t), setup.fileName)
  const { trigger, goals } = reactions(parsed)
  const settings = JSON.parse(setup.profile.settings || '{}') as Record<string, unknown>
  const guard = guardrailSettings(settings)
  const ledger = new CapLedger(setup.sends)
  const { skips, parts } = setup
  const profiles = RepeatedProfiles.for(parsed, parts)
  const until = new Date(setup.until)
  const clock = new ManualClock(new Date(setup.since))
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
  try {
    const sandbox = app.handle.db
    await setStoreProfile(sandbox, SANDBOX, setup.profile)
    for (const t of setup.templates) await saveMessageTemplate(sandbox, SANDBOX, t.name, t, clock.now())
    parsed.file.active = true
    await saveWorkflow(sandbox, SANDBOX, parsed, setup.source, clock.now())
    await seedCustomerIdentities(sandbox, SANDBOX, setup.identities, setup.since)
  } catch (err) {
    await app.close()
    throw err
  }
  return new InTurn(
    new SandboxReplay(
      app,
      clock,
      until,
      { workflowId: parsed.file.id, trigger, goals, share: setup.share },
      (head, event) => {
        const r = replayedAs(event, parts)
        return r && !profiles.repeats(head.customer_key, r) ? r : null
      },
      profiles,
    ),
  )
}

/**
 * A sandbox's calls one after another, in the order they were made: the backtest hands over the
 * next chunk before the last is replayed (as a thread's message queue takes them in turn).
 */
class InTurn implements ReplayPort {
  private turn: Promise<unknown> = Promise.resolve()

  constructor(private readonly replay: ReplayPort) {}

  history(items: ReplayItem[]): Promise<void> {
    return this.next(() => this.replay.history(items))
  }

  period(items: ReplayItem[]): Promise<void> {
    return this.next(() => this.replay.period(items))
  }

  finish(): Promise<ReplayResult> {
    return this.next(() => this.replay.finish())
  }

  close(): Promise<void> {
    // after what is under way: closing its database under a call would fail that call
    return this.next(() => this.replay.close())
  }

  abort(): Promise<void> {
    // in this thread a call under way cannot be cut short: the same as close
    return this.close()
  }

  private next<T>(work: () => Promise<T>): Promise<T> {
    const done = this.turn.then(work)
    // the next call waits for this one, failed or not
    this.turn = done.catch(() => {})
    return done
  }
}

/**
 * The replay loop (see services/backtest.ts for the method): history in batches, what the
 * workflow reacts to live, the clock stopping at every event it reacts to and every time a run
 * falls due.
 */
class SandboxReplay implements ReplayPort {
  private readonly engine: ServiceContext['engine']
  private pending: CanonicalEvent[] = []
  private due: string | null | undefined
  private live = 0
  /** split: ids of the events dealt to every sandbox (of no customer in the store), which any customer may own */
  private readonly everyones = new Set<string>()

  constructor(
    private readonly app: ServiceContext & { close(): Promise<void> },
    private readonly clock: ManualClock,
    private readonly until: Date,
    private readonly workflow: { workflowId: string; trigger: string; goals: Set<string>; share: ReplaySetup['share'] },
    /** an event as the sandbox is fed it (replayedAs), or null: not at all, or a repeat of the customer's profile */
    private readonly fedAs: (head: EventHead, event: CanonicalEvent) => CanonicalEvent | null,
    private readonly profiles: RepeatedProfiles,
  ) {
    this.engine = app.engine
  }

  async history(items: ReplayItem[]): Promise<void> {
    const events: CanonicalEvent[] = []
    this.noteEveryones(items)
    for (const { head, event } of items) {
      const r = event && this.fedAs(head, eventOf(event, SANDBOX))
      if (r) events.push(r)
    }
    if (events.length > 0) await this.engine.ingest(events, { historical: true, source: 'backtest' })
    await this.engine.settle(OWNER)
  }

  async period(items: ReplayItem[]): Promise<void> {
    if (this.due === undefined) this.due = await nextDueAt(this.app.handle.db)
    this.noteEveryones(items)
    for (const { head, event: stored } of items) {
      if (!stored) continue
      const event = eventOf(stored, SANDBOX)
      await this.runDueUntil(event.occurred_at)
      if (await this.reacts(head)) {
        this.live++
        this.profiles.repeats(head.customer_key, event)
        await this.cycle(Date.parse(event.occurred_at), event)
      } else {
        const replayed = this.fedAs(head, event)
        if (!replayed) continue
        this.pending.push(replayed)
        if (this.pending.length >= HISTORY_BATCH) {
          await this.engine.ingest(this.pending, { historical: true, source: 'backtest' })
          this.pending = []
          await this.engine.settle(OWNER)
        }
      }
    }
  }

  async finish(): Promise<ReplayResult> {
    if (this.due === undefined) this.due = await nextDueAt(this.app.handle.db)
    // the rest of the period: waits run out up to its end
    await this.runDueUntil(this.until.toISOString())
    await this.cycle(this.until.getTime(), null)
    return { outcome: await sandboxOutcome(this.app.handle.db, this.workflow.workflowId), live: this.live, strays: await this.strays() }
  }

  close(): Promise<void> {
    return this.app.close()
  }

  abort(): Promise<void> {
    return this.app.close()
  }

  private noteEveryones(items: ReplayItem[]): void {
    if (this.workflow.share.count === 1) return
    for (const { head, event } of items) if (head.customer_key === null && event) this.everyones.add(event.id)
  }

  /** See ReplayResult.strays. */
  private async strays(): Promise<number> {
    const { index, count } = this.workflow.share
    if (count === 1) return 0
    const sandbox = this.app.handle.db
    const foreign = (await customersOfEvents(sandbox)).filter((key) => partitionOf(key, count) !== index)
    const strayEvents = foreign.length === 0 ? [] : (await eventIdsOfCustomers(sandbox, foreign)).filter((id) => !this.everyones.has(id))
    return strayEvents.length + (await runsWithoutCustomer(sandbox, this.workflow.workflowId))
  }

  /**
   * Whether the sandbox takes the event live. A goal's event reaches the runs of the customer it
   * names, and those of no customer: for a customer with no open run (and no run without one
   * open) it only changes the view.
   */
  private async reacts(h: EventHead): Promise<boolean> {
    if (h.type === this.workflow.trigger) return true
    if (!this.workflow.goals.has(h.type)) return false
    return h.customer_key === null || (await hasOpenRun(this.app.handle.db, SANDBOX, this.workflow.workflowId, h.customer_key))
  }

  private async runDueUntil(at: string): Promise<void> {
    while (this.due != null && this.due <= at) await this.cycle(Date.parse(this.due), null)
  }

  /** the history batch so far, and `event` (live) after it, ingested with the clock at `at`; then routed and run */
  private async cycle(at: number, event: CanonicalEvent | null): Promise<void> {
    this.clock.set(new Date(Math.max(at, this.clock.now().getTime())))
    const ingested: Array<Promise<unknown>> = []
    const count = this.pending.length + (event ? 1 : 0)
    if (this.pending.length > 0) ingested.push(this.engine.ingest(this.pending, { historical: true, source: 'backtest' }))
    if (event) ingested.push(this.engine.ingest([event], { historical: false, source: 'backtest' }))
    this.pending = []
    // both calls made in one turn: one group commit, history first
    await Promise.all(ingested)
    await this.settleAndRun(count)
  }

  /** routes `ingested` events and runs what is due now, until nothing is left to do at this time */
  private async settleAndRun(ingested: number): Promise<void> {
    const engine = this.engine
    const sandbox = this.app.handle.db
    // one routing pass takes up to 500 events (less when its time budget runs out): settle only when it did not take them all
    if (ingested > 0 && (await engine.route(OWNER)).routed < ingested) await engine.settle(OWNER)
    for (;;) {
      // a tick that claimed fewer than it may has left nothing due now: steps chain within it up
      // to their next wait; when no run is due now (the event started none, made none due), a
      // tick would claim nothing, and is not made
      if (await anyRunDueBy(sandbox, this.clock.now().toISOString())) while ((await engine.tick(OWNER, TICK)) === TICK) {}
      // a step that emitted an event (emit_event) left it to be routed, which may make more runs due
      if ((await engine.storage.routerBacklog()) === 0) break
      await engine.settle(OWNER)
    }
    let due = await nextDueAt(sandbox)
    // a run still due at this very time was not claimable (it cannot be: the sandbox has one
    // worker); move on rather than loop
    if (due !== null && Date.parse(due) <= this.clock.now().getTime()) due = new Date(this.clock.now().getTime() + 1).toISOString()
    this.due = due
  }
}
