import { VIEW_AND_LOG_READS, type RunRecord, type StepRecord, type StorageTx } from './ports.ts'
import { RunChanged } from './run-lifecycle.ts'

/**
 * A claimed batch's transaction with its run writes held back and sent set-based: the runs' row
 * updates, their timeline rows and their dropped correlations go out as one statement each when
 * the batch is done (`flush`), instead of a few statements per run per step.
 *
 * Only the batch's own runs (`held`: leased by this worker) are held back. Any other operation
 * flushes first, so whatever reads or writes runs, steps or correlations (an emitted event's
 * ingest, getRun, addCorrelations) sees every earlier write, in order. Reads of tables these
 * writes never touch (events, the store's view, workflow versions) go straight through.
 *
 * A held-back versioned write answers at once: true when it follows this batch's own earlier write
 * of the run; when it is the batch's first write of the run, true on the claim's word, checked at
 * the flush. If any run's version is not the one expected there (ingest or the API moved it
 * meanwhile), the flush throws RunChanged and the whole shared transaction rolls back, so no run
 * is ever written over a version its writer did not read (invariant 8).
 */
export interface WriteBehind {
  tx: StorageTx
  /** sends what is held back; throws RunChanged when a run had moved on */
  flush(): Promise<void>
}

/** Operations that touch none of the tables held-back writes go to. */
const PASS_THROUGH = new Set<string>([
  ...VIEW_AND_LOG_READS,
  // services write customers and messages; an event they emit is ingested through this tx, which flushes
  'services',
  // insight's counters: a table no held-back write touches
  'countRunEnded',
] satisfies Array<keyof StorageTx>)

interface PendingRun {
  run: RunRecord
  /** the version the database must hold for the first write */
  expected: number
  /** the version after the writes held back so far */
  version: number
}

export function writeBehind(raw: StorageTx, held: ReadonlySet<string>): WriteBehind {
  let runs = new Map<string, PendingRun>()
  let steps = new Map<string, StepRecord>()
  let dropped = new Map<'wait_for' | 'exit_when' | 'all', Set<string>>()

  // once a flush has failed, every later one fails too: whoever caught the first failure (an
  // action's own try/catch around a service) cannot let the transaction commit without those writes
  let failed: unknown = null
  const flush = async (): Promise<void> => {
    if (failed) throw failed
    if (runs.size === 0 && steps.size === 0 && dropped.size === 0) return
    const [r, s, d] = [runs, steps, dropped]
    runs = new Map()
    steps = new Map()
    dropped = new Map()
    try {
      if (r.size > 0) {
        const written = await raw.updateRuns([...r.values()].map((p) => ({ run: p.run, expectedVersion: p.expected, version: p.version })))
        if (written.length !== r.size) throw new RunChanged()
      }
      if (s.size > 0) await raw.upsertSteps([...s.values()])
      for (const [purpose, ids] of d) await raw.deleteCorrelationsOf([...ids], purpose === 'all' ? undefined : purpose)
    } catch (err) {
      failed = err
      throw err
    }
  }

  const own: Partial<StorageTx> = {
    async updateRun(run, expectedVersion) {
      if (failed) throw failed
      if (!held.has(run.id)) {
        await flush()
        return raw.updateRun(run, expectedVersion)
      }
      const pending = runs.get(run.id)
      if (pending) {
        // the database would hold pending.version once the writes before this one are sent
        if (expectedVersion !== pending.version) return false
        pending.run = run
        pending.version = expectedVersion + 1
      } else runs.set(run.id, { run, expected: expectedVersion, version: expectedVersion + 1 })
      return true
    },
    async upsertStep(step) {
      if (failed) throw failed
      if (!held.has(step.run_id)) {
        await flush()
        return raw.upsertStep(step)
      }
      const key = `${step.run_id}\u0000${step.step_key}`
      const earlier = steps.get(key)
      // one row per key in a statement; the row keeps the started_at of its first write
      steps.set(key, earlier ? { ...step, started_at: earlier.started_at } : step)
    },
    async deleteCorrelations(runId, purpose) {
      if (failed) throw failed
      if (!held.has(runId)) {
        await flush()
        return raw.deleteCorrelations(runId, purpose)
      }
      const key = purpose ?? 'all'
      const ids = dropped.get(key) ?? new Set<string>()
      ids.add(runId)
      dropped.set(key, ids)
    },
  }

  const tx = new Proxy(raw, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in own) return own[prop as keyof StorageTx]
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function' || (typeof prop === 'string' && PASS_THROUGH.has(prop))) return value
      return async (...args: unknown[]) => {
        await flush()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { tx, flush }
}
