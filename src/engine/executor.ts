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

export interface BatchWorker {
  owner: string
  /** external actions (and lone chains) under way at once */
  concurrency: number
  leases: LeaseKeeper
}

/**
 * The one way runs advance: a claimed batch, round by round. Each round chains every run's control
 * steps and internal actions in one shared transaction (group commit), then runs the external
 * actions the runs reached, each in its own begin / act / commit, in `concurrency` lanes. If the
 * shared transaction rolls back for any run (a race with ingest, an unexpected error), the rest of
 * the tick chains each run in its own transaction. After MAX_ROUNDS the runs still going are let
 * go of, due at once, so one busy batch cannot hold its runs forever.
 */
export async function advanceBatch(deps: ExecutorDeps, claimed: RunRecord[], worker: BatchWorker): Promise<void> {
  const { leases } = worker
  // once the database is found away, the lanes start nothing more; the batch waits for a later tick
  let outage: unknown = null
  const lanes = (items: RunRecord[], fn: (run: RunRecord) => Promise<void>) =>
    inLanes(items, worker.concurrency, async (run) => {
      if (outage) return
      try {
        await fn(run)
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err
        outage ??= err
      }
    })
  // a run this tick gives up on: the database errors stay with the batch (the run is still held, and
  // let go of once the database is back); anything else holds the run a while before a retry
  const giveUp = async (run: RunRecord, err: unknown) => {
    if (isDatabaseUnavailable(err)) throw err
    leases.letGo(run.id)
    if (err instanceof RunChanged) return
    deps.log.error({ runId: run.id, err }, 'run advance failed')
    await deps.storage.extendLeases(worker.owner, [run.id], new Date(deps.clock.now().getTime() + FAILED_ADVANCE_HOLD_MS)).catch(() => undefined)
  }
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
    await lanes([...external], async (run) => {
      try {
        const instr = programOf(deps, run)[run.state.pc] as ActionInstruction
        const started = performance.now()
        const next = await runExternalAction(deps, run, instr)
        deps.timed?.(instr.action, (performance.now() - started) / 1000)
        if (next && !stops(next, deps.clock.now())) afterExternal.push(next)
        else leases.letGo(run.id)
      } catch (err) {
        await giveUp(run, err)
      }
    })
    active = [...going.filter((run) => !external.has(run)), ...afterExternal]
  }
  if (outage) throw outage
}

/** The compiled program of a run this tick has already chained (so its workflow is cached). */
function programOf(deps: ExecutorDeps, run: RunRecord) {
  return deps.cache.peek(run.store_id, run.workflow_id, run.workflow_version)?.program ?? []
}

async function inLanes<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let index = 0
  const lane = async () => {
    while (index < items.length) await fn(items[index++]!)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane))
}
