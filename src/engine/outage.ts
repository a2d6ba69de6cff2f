import { backoffDelay } from '../lib/backoff.ts'
import { isDatabaseUnavailable } from '../lib/db-errors.ts'

/**
 * Runs `work` again while it fails because the database cannot be reached, for up to `budgetMs`
 * of real time, with backoff. Only for work that is safe to run twice even if a failed attempt
 * did commit: a COMMIT cut off mid-way leaves its outcome unknown. Versioned run writes are (the
 * repeat loses the race to its own first attempt and gives up), and so is ingest (idempotent on
 * the event id).
 *
 * This waits in process, unlike a step's retry, which is a row (src/engine/ARCHITECTURE.md, invariant 12): while the database is
 * away there is no row to write.
 */
export async function retryWhileDatabaseAway<T>(work: () => Promise<T>, budgetMs: number): Promise<T> {
  const deadline = Date.now() + budgetMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (err) {
      const left = deadline - Date.now()
      if (!isDatabaseUnavailable(err) || left <= 0) throw err
      await sleep(Math.min(left, backoffDelay(attempt, { baseMs: 200, maxMs: 2_000 })))
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
