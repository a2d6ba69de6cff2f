import { isDatabaseUnavailable } from '../lib/db-errors.ts'
import { isExternalAction, runExternalAction, type ActionInstruction } from './action-protocol.ts'
import { chainAlone, chainTogether, stops, type Chained } from './chain.ts'
import type { LeaseKeeper } from './lease-keeper.ts'
import type { RunRecord } from './ports.ts'
import { RunChanged, releaseRuns } from './run-lifecycle.ts'
import type { ExecutorDeps } from './step-kit.ts'

/** Rounds of chain + external actions one tick gives a claimed batch before letting go of it. */
const MAX_ROUNDS = 20

/** How long a run whose advance failed unexpectedly stays leased, so it is not retried in a hot loop; ms. */
const FAILED_ADVANCE_HOLD_MS = 30_000

/** Default of BatchWorker.lateAfterMs. */
export const LATE_AFTER_MS = 1000

export interface BatchWorker {
  owner: string
  /** external actions (and lone chains) under way at once */
  concurrency: number
  leases: LeaseKeeper
  /**
   * how long, once a round has started every external action, it waits for those still going
   * before its other runs go on without them, real ms; default LATE_AFTER_MS. A late run goes on by
   * itself when its action is done (one slow send does not hold the batch's other runs)
   */
  lateAfterMs?: number
}

/**
 * The one way runs advance: a claimed batch, round by round. Each round chains every run's control
 * steps and internal actions in one shared transaction (group commit), then runs the external
 * actions the runs reached, each in its own begin / act / commit, in `concurrency` lanes. If the
 * shared transaction rolls back for any run (a race with ingest, an unexpected error), the rest of
 * the tick chains each run in its own transaction. After MAX_ROUNDS the runs still going are let
 * go of, due at once, so one busy batch cannot hold its runs forever. An external action still
 * going `lateAfterMs` after the round started its last one does not hold the round: the others go
 * on, and the late run goes on alone once its action is done (continueAlone).
 */
export async function advanceBatch(deps: ExecutorDeps, claimed: RunRecord[], worker: BatchWorker): Promise<void> {
  const { leases } = worker
  // once the database is found away, the lanes start nothing more; the batch waits for a later tick
  let outage: unknown = null
  const guarded =
    <A extends unknown[]>(fn: (run: RunRecord, ...rest: A) => Promise<void>) =>
    async (run: RunRecord, ...rest: A) => {
      if (outage) return
      try {
        await fn(run, ...rest)
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err
        outage ??= err
      }
    }
  // the batch's lanes: a late run keeps its own until it stops, so the external actions (and lone
  // chains) under way at once stay within `concurrency` whatever the rounds do
  const slots = new Slots(worker.concurrency)
  const lanes = (items: RunRecord[], fn: (run: RunRecord) => Promise<void>) =>
    Promise.all(items.map((run) => slots.run(() => guarded(fn)(run)))).then(() => undefined)
  /** the late runs' external actions and what they go on to alone: the batch (its leases, the tick) ends after them */
  const late: Array<Promise<void>> = []
  // a run this tick gives up on: the database errors stay with the batch (the run is still held, and
  // let go of once the database is back); anything else holds the run a while before a retry
  const giveUp = async (run: RunRecord, err: unknown) => {
    if (isDatabaseUnavailable(err)) throw err
    leases.letGo(run.id)
    if (err instanceof RunChanged) return
    deps.log.error({ runId: run.id, err }, 'run advance failed')
    await deps.storage.extendLeases(worker.owner, [run.id], new Date(deps.clock.now().getTime() + FAILED_ADVANCE_HOLD_MS)).catch(() => undefined)
  }
  let thrown: { err: unknown } | null = null
  try {
    await advanceRounds()
  } catch (err) {
    // the database away: the late runs act no further either
    if (isDatabaseUnavailable(err)) outage ??= err
    thrown = { err }
  }
  // late runs are the batch's until they stop: its leases, and the tick's end, wait for them
  const settled = await Promise.allSettled(late)
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  // (a round's own failure is thrown below, not logged here as well)
  if (failed && failed.reason !== thrown?.err) deps.log.error({ err: failed.reason }, 'a late run failed')
  // an outage first: the tick lets go of the runs it holds once the database is back
  if (outage) throw outage
  if (thrown) throw thrown.err

  async function advanceRounds(): Promise<void> {
    let together = true
    let active = claimed
    for (let round = 0; active.length > 0 && !outage; round++) {
      const now = deps.clock.now()
      if (round >= MAX_ROUNDS) {
        await deps.storage.transaction((tx) =>
          releaseRuns(
            tx,
            active.map((r) => r.id),
            deps.clock.now(),
          ),
        )
        for (const run of active) leases.letGo(run.id)
        return
      }
      let chained: Array<Chained | null> | null = together ? await chainTogether(deps, active) : null
      if (!chained) {
        together = false
        const alone = new Map<string, Chained>()
        await lanes(active, async (run) => {
          try {
            alone.set(run.id, await chainAlone(deps, run))
          } catch (err) {
            await giveUp(run, err)
          }
        })
        chained = active.map((r) => alone.get(r.id) ?? null)
      }
      const going: RunRecord[] = []
      for (const c of chained) {
        if (!c) continue
        // a run already at an external action was not touched: it is due (claimed), whatever its status says
        if (c.moved && stops(c.run, now)) leases.letGo(c.run.id)
        else going.push(c.run)
      }
      const external = new Set(going.filter((run) => isExternalAction(deps, programOf(deps, run)[run.state.pc])))
      const afterExternal: RunRecord[] = []
      const roundsLeft = MAX_ROUNDS - round - 1
      await inSlotsUntilLate(
        [...external],
        slots,
        late,
        worker.lateAfterMs ?? LATE_AFTER_MS,
        guarded(async (run, isLate: () => boolean) => {
          let next: RunRecord | null
          try {
            next = await external1(deps, run)
          } catch (err) {
            await giveUp(run, err)
            return
          }
          if (!next || stops(next, deps.clock.now())) leases.letGo(run.id)
          // the round went on without it (a slow send, a slow webhook): it goes on by itself
          else if (isLate()) await continueAlone(deps, next, leases, giveUp, () => outage !== null, roundsLeft)
          else afterExternal.push(next)
        }),
      )
      active = [...going.filter((run) => !external.has(run)), ...afterExternal]
    }
  }
}

/** The external action the run is at, timed; the run after it (null: it did not go on). */
async function external1(deps: ExecutorDeps, run: RunRecord): Promise<RunRecord | null> {
  const instr = programOf(deps, run)[run.state.pc] as ActionInstruction
  const started = performance.now()
  const next = await runExternalAction(deps, run, instr)
  deps.timed?.(instr.action, (performance.now() - started) / 1000)
  return next
}

/**
 * A run whose external action finished after its round went on: chained alone and through its
 * next external actions, each in its own transaction, until it stops (within the rounds the batch
 * had left, then let go of, due at once, as the batch's runs are).
 */
async function continueAlone(
  deps: ExecutorDeps,
  run: RunRecord,
  leases: LeaseKeeper,
  giveUp: (run: RunRecord, err: unknown) => Promise<void>,
  halted: () => boolean,
  rounds: number,
): Promise<void> {
  let current = run
  try {
    for (let round = 0; round < rounds; round++) {
      // the database found away by the batch: it stops acting; its runs are let go of once it is back
      if (halted()) return
      const chained = await chainAlone(deps, current)
      current = chained.run
      if (chained.moved && stops(current, deps.clock.now())) {
        leases.letGo(current.id)
        return
      }
      if (!isExternalAction(deps, programOf(deps, current)[current.state.pc])) continue
      if (halted()) return
      const next = await external1(deps, current)
      if (!next || stops(next, deps.clock.now())) {
        leases.letGo(current.id)
        return
      }
      current = next
    }
    await deps.storage.transaction((tx) => releaseRuns(tx, [current.id], deps.clock.now()))
    leases.letGo(current.id)
  } catch (err) {
    await giveUp(current, err)
  }
}

/** The compiled program of a run this tick has already chained (so its workflow is cached). */
function programOf(deps: ExecutorDeps, run: RunRecord) {
  return deps.cache.peek(run.store_id, run.workflow_id, run.workflow_version)?.program ?? []
}

/** A counting semaphore: at most `size` functions run at once; the others wait their turn, in order. */
class Slots {
  private free: number
  private readonly waiting: Array<() => void> = []

  constructor(size: number) {
    this.free = Math.max(1, size)
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--
    else await new Promise<void>((resolve) => this.waiting.push(resolve))
    try {
      return await fn()
    } finally {
      // the slot passes straight to the next in line
      const next = this.waiting.shift()
      if (next) next()
      else this.free++
    }
  }
}

/**
 * fn over items, each in a slot. Answers once every item is done, or `lateAfterMs` after the last
 * item got its slot, whichever comes first; from then on `isLate()` is true for the items still
 * going. What settles when they are all done is added to `late` first, whatever happens here.
 */
async function inSlotsUntilLate<T>(
  items: T[],
  slots: Slots,
  late: Array<Promise<void>>,
  lateAfterMs: number,
  fn: (item: T, isLate: () => boolean) => Promise<void>,
): Promise<void> {
  let cutOff = false
  const isLate = () => cutOff
  let started = 0
  let lastStarted: () => void = () => undefined
  const allStarted = new Promise<void>((resolve) => {
    lastStarted = resolve
  })
  const all = Promise.all(
    items.map((item) =>
      slots.run(() => {
        if (++started === items.length) lastStarted()
        return fn(item, isLate)
      }),
    ),
  ).then(() => undefined)
  late.push(all)
  if (items.length === 0) return
  let timer: NodeJS.Timeout | undefined
  const cut = allStarted.then(
    () =>
      new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), lateAfterMs)
      }),
  )
  try {
    if ((await Promise.race([all.then(() => 'done' as const), cut])) === 'late') cutOff = true
  } finally {
    clearTimeout(timer)
  }
}
