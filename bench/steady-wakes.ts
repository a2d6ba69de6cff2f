import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import type { App } from '../src/main.ts'
import { createBenchEnv, percentile, round, sleep } from './lib/env.ts'
import { cloneRun, ingestOrders } from './lib/seed.ts'
import { installWorkflow, WAIT_ONE_HOUR } from './lib/workflows.ts'
import { forkBenchWorker } from './lib/workers.ts'

export interface SteadyWakesResult {
  waiting_runs: number
  seed_seconds: number
  per_second: number
  seconds: number
  resumed: number
  due: number
  p50_ms: number
  p99_ms: number
  max_ms: number
  /** the worker process, before anything fell due (1M waiting, polling) and at its peak */
  idle_rss_mb: number
  peak_rss_mb: number
  /** the floor under lateness: the claim statement alone, run over the same rows while they wait */
  claim_statement_ms: number
}

const PREFIX = 'run_steady_'

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : Number.NaN
}

/**
 * `count` runs wait on `wait: 1h` (SQLite); a worker process as `storeflow worker` runs it (the
 * Worker with its defaults) polls over them; then `perSecond` of them fall due each second for
 * `seconds` seconds, on the real clock. Lateness is each wait's woke_at − wake_at on its timeline.
 */
export async function benchSteadyWakes(count: number, perSecond: number, seconds: number): Promise<SteadyWakesResult> {
  const env = await createBenchEnv('sqlite')
  try {
    await installWorkflow(env.app, WAIT_ONE_HOUR)
    await ingestOrders(env.app, 1, { tag: 'steady' })
    await env.app.engine.drain()
    const template = await env.app.handle.db.selectFrom('runs').select('id').where('status', '=', 'waiting').executeTakeFirstOrThrow()
    const seedMs = await cloneRun(env.app, template.id, count - 1, PREFIX)
    const claimMs = await claimStatementMs(env.app)

    const child = forkBenchWorker(new URL('./rss-worker.ts', import.meta.url), env)
    let peak = 0
    let idle = 0
    const firstReport = new Promise<void>((resolve, reject) => {
      child.on('message', () => {
        peak = Math.max(peak, peakRssMb(child.pid!))
        resolve()
      })
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))
    })
    await firstReport
    // a few polls over the million waiting runs before anything is due
    await sleep(1500)
    idle = peakRssMb(child.pid!)

    const due = perSecond * seconds
    const start = Date.now() + 2000
    await makeDue(env.app, perSecond, seconds, start)
    // runs are claimed in due order: once the last one due has completed, the rest have (a look
    // by primary key, so the parent adds next to nothing to the worker's database while it runs)
    const deadline = start + seconds * 1000 + 15_000
    while (Date.now() < deadline) {
      await sleep(500)
      const { rows } = await sql<{ status: string }>`select status from runs where id = ${PREFIX} || ${due}`.execute(env.app.handle.db)
      if (rows[0]?.status === 'completed') break
    }
    peak = Math.max(peak, peakRssMb(child.pid!))
    child.removeAllListeners('exit')
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.send('stop')
    await exited

    const rows = await env.app.handle.db
      .selectFrom('run_steps')
      .select(['wake_at', 'output', 'status'])
      .where('type', '=', 'wait')
      .where('run_id', 'like', `${PREFIX}%`)
      .where('wake_at', '<=', new Date(start + seconds * 1000).toISOString())
      .execute()
    const now = Date.now()
    const late = Float64Array.from(
      rows.map((r) =>
        r.status === 'completed' ? Date.parse((JSON.parse(r.output!) as { woke_at: string }).woke_at) - Date.parse(r.wake_at!) : now - Date.parse(r.wake_at!),
      ),
    ).sort()
    return {
      waiting_runs: count,
      seed_seconds: round(seedMs / 1000, 1),
      per_second: perSecond,
      seconds,
      due,
      resumed: rows.filter((r) => r.status === 'completed').length,
      p50_ms: round(percentile(late, 50)),
      p99_ms: round(percentile(late, 99)),
      max_ms: round(late[late.length - 1] ?? Number.NaN),
      idle_rss_mb: round(idle),
      peak_rss_mb: round(peak),
      claim_statement_ms: round(claimMs, 2),
    }
  } finally {
    await env.cleanup()
  }
}

/**
 * Runs 1…perSecond·seconds fall due one after another, perSecond each second from `start`: the run
 * row, the wait's wake time in its state and its timeline row, as if each had waited that long.
 */
async function makeDue(app: App, perSecond: number, seconds: number, start: number): Promise<void> {
  const n = perSecond * seconds
  const i = sql`cast(substr(id, ${PREFIX.length + 1}) as integer)`
  const dueOf = (index: ReturnType<typeof sql>) =>
    sql`strftime('%Y-%m-%dT%H:%M:%fZ', (${start} + (${index} - 1) * 1000.0 / ${perSecond}) / 1000.0, 'unixepoch')`
  // numbered as cloneRun numbers them (a bound number: `run_steady_1.0` on SQLite)
  const ids = sql`with recursive n(i) as (select ${1} union all select i + 1 from n where i < ${n}) select ${PREFIX} || i from n`
  await app.handle.db.transaction().execute(async (trx) => {
    await sql`update runs set due_at = ${dueOf(i)}, state = json_set(state, '$.waitUntil', ${dueOf(i)}) where id in (${ids})`.execute(trx)
    const stepIndex = sql`cast(substr(run_id, ${PREFIX.length + 1}) as integer)`
    await sql`update run_steps set wake_at = ${dueOf(stepIndex)} where type = 'wait' and run_id in (${ids})`.execute(trx)
  })
}

/** The due-claim statement (store/runs.repo.ts) over the waiting runs while none is due (it claims nothing): median of 20. */
async function claimStatementMs(app: App): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now()
    await app.engine.storage.claimDueRuns('bench-probe', new Date(), 60_000, 100)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return times[10]!
}
