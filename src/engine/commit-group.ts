import { retryWhileDatabaseAway } from './outage.ts'
import type { Storage, StorageTx } from './ports.ts'

interface Pending {
  runId: string
  work: (tx: StorageTx) => Promise<unknown>
  outageBudgetMs: number
  resolve(value: unknown): void
  reject(err: unknown): void
}

/** per storage: the works asked for in this turn of the event loop, committed together at its end */
const groups = new WeakMap<Storage, Pending[]>()

/**
 * Group commit for the transactions of the external actions under way (their "attempt started"
 * and their outcome): the ones asked for in the same turn of the event loop share one
 * transaction, so concurrent sends pay one commit, not one each. Every caller still resumes only
 * after its own work has committed, so an action is begun durably before it acts and its outcome
 * is durable before the run goes on (invariant 11).
 *
 * The shared transaction writes its runs in id order (invariant 9's lock order). If it fails for
 * any one of them (a run that changed, the database going away), it rolls back whole and each
 * work runs again in a transaction of its own, retried while the database is away for up to
 * `outageBudgetMs`, exactly as it would have alone. So each work must be safe to repeat after a
 * rollback or a cut-off COMMIT: it re-reads its run and writes it only at the version it holds.
 */
export function commitWithOthers<T>(storage: Storage, runId: string, work: (tx: StorageTx) => Promise<T>, outageBudgetMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let group = groups.get(storage)
    if (!group) {
      const started: Pending[] = []
      groups.set(storage, started)
      setImmediate(() => {
        groups.delete(storage)
        void commitGroup(storage, started)
      })
      group = started
    }
    group.push({ runId, work, outageBudgetMs, resolve: resolve as (value: unknown) => void, reject })
  })
}

async function commitGroup(storage: Storage, group: Pending[]): Promise<void> {
  if (group.length > 1) {
    group.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0))
    const results = await storage
      .transaction(async (tx) => {
        const out: unknown[] = []
        for (const pending of group) out.push(await pending.work(tx))
        return out
      })
      .catch(() => null)
    if (results) {
      for (const [i, pending] of group.entries()) pending.resolve(results[i])
      return
    }
  }
  await Promise.all(
    group.map((pending) => retryWhileDatabaseAway(() => storage.transaction(pending.work), pending.outageBudgetMs).then(pending.resolve, pending.reject)),
  )
}
