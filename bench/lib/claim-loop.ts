import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { Engine } from '../../src/engine/engine.ts'

/**
 * The Worker's loop (engine.tick: claimDueRuns with leases, then advance, default batch 100 and
 * concurrency 8), plus a yield to the event loop after each tick and a deadline. The Worker
 * class itself never yields on SQLite while runs are due (better-sqlite3 answers synchronously,
 * so its loop is one long microtask chain): timers, including a benchmark's own deadline, and
 * HTTP requests wait until nothing is due. See the bench report.
 */
export async function runClaimLoop(
  engine: Engine,
  options: { until(): Promise<boolean>; deadline: number; batch?: number; concurrency?: number },
): Promise<void> {
  const owner = `bench:${process.pid}`
  let lastCheck = 0
  while (performance.now() < options.deadline) {
    const claimed = await engine.tick(owner, options.batch ?? 100, options.concurrency ?? 8)
    await yieldToLoop()
    const now = performance.now()
    if (claimed === 0 || now - lastCheck > 100) {
      lastCheck = now
      if (await options.until()) return
      // idle: the Worker's default pollMs
      if (claimed === 0) await new Promise((r) => setTimeout(r, 250))
    }
  }
}
