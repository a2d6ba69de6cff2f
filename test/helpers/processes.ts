import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../../src/store/tables.ts'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const CLI = fileURLToPath(new URL('../../bin/storeflow.mjs', import.meta.url))

export interface StoreflowProcess {
  child: ChildProcess
  output(): string
  /** SIGKILL: no cleanup, no graceful shutdown */
  kill9(): Promise<void>
  /** SIGTERM and wait for a graceful exit; returns the exit code */
  stop(): Promise<number | null>
}

/**
 * Runs `storeflow ARGS…` as a real process, in the repository (or `cwd`), with this process's
 * environment (or `baseEnv`) and `env` over it.
 */
export function startStoreflow(args: string[], env: Record<string, string>, options: { cwd?: string; baseEnv?: NodeJS.ProcessEnv } = {}): StoreflowProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...(options.baseEnv ?? process.env), STOREFLOW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      child.kill('SIGTERM')
      return exited
    },
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** Resolves with the first match of `pattern` in the process's output (stdout and stderr). */
export async function waitForOutput(proc: StoreflowProcess, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  return waitFor(
    `output matching ${pattern}`,
    async () => {
      const match = proc.output().match(pattern)
      if (match) return match
      if (proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}) before printing ${pattern}:\n${proc.output().slice(-2000)}`)
      return null
    },
    timeoutMs,
    25,
  )
}

/** `storeflow serve ARGS…` on a free port; resolves once it listens, with its base URL. */
export async function startServe(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ proc: StoreflowProcess; url: string }> {
  const proc = startStoreflow(['serve', '--port', '0', ...args], env)
  const match = await waitForOutput(proc, /listening on (http:\/\/[^\s]+:\d+)/, timeoutMs)
  return { proc, url: match[1]! }
}

/**
 * The environment a `storeflow serve` or `worker` process needs to share a test's database:
 * its data directory (SQLite file, secret), and on PostgreSQL the test's own schema.
 */
export async function processEnv(
  db: Kysely<Database>,
  dataDir: string,
  dialect: 'sqlite' | 'postgres',
  databaseUrl: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const env: Record<string, string> = { STOREFLOW_DATA_DIR: dataDir, STOREFLOW_SECRET_KEY: 'test-secret-key', ...extra }
  if (dialect === 'postgres') {
    const schema = (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]!.s
    env.DATABASE_URL = `${databaseUrl}${databaseUrl.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`
  }
  return env
}

/** The id a `storeflow worker` process prints when it starts: what it writes as a run's lease owner. */
export async function workerIdOf(proc: StoreflowProcess, timeoutMs = 90_000): Promise<string> {
  return (await waitForOutput(proc, /storeflow worker (\S+) running/, timeoutMs))[1]!
}

/** Steps recorded as begun and not done, with their run's lease owner. */
export async function stepsInFlight(db: Kysely<Database>): Promise<Array<{ run_id: string; step_id: string; attempts: number; lease_owner: string | null }>> {
  return db
    .selectFrom('run_steps')
    .innerJoin('runs', 'runs.id', 'run_steps.run_id')
    .select(['run_steps.run_id', 'run_steps.step_id', 'run_steps.attempts', 'runs.lease_owner'])
    .where('run_steps.status', '=', 'running')
    .execute()
}

export type StepInFlight = Awaited<ReturnType<typeof stepsInFlight>>[number]

/**
 * A probe for `waitFor`: true when every step in flight on runs leased to `owners` is held by a
 * sink that keeps its answer back (`held()` counts them; it must be positive).
 *
 * A step in flight is one the product recorded as begun and not yet done (`running`: it writes
 * "attempt n started" before an external call). When each of them waits in a sink, no worker is
 * between an effect and its record, and none can get there while the sinks hold: a kill then
 * lands inside those steps and nowhere else. `stale`: the steps in flight when earlier workers
 * were killed; they stay `running` (also once a live worker has claimed their run and not yet
 * come to them) until a live worker begins its next attempt, which counts one more.
 */
export function everyStepInFlightHeld(db: Kysely<Database>, owners: string[], held: () => number, stale: StepInFlight[] = []): () => Promise<boolean> {
  const old = new Set(stale.map((s) => `${s.run_id}\u0000${s.step_id}\u0000${s.attempts}`))
  return async () => {
    const before = held()
    const steps = await db
      .selectFrom('run_steps')
      .innerJoin('runs', 'runs.id', 'run_steps.run_id')
      .select(['run_steps.run_id', 'run_steps.step_id', 'run_steps.attempts'])
      .where('run_steps.status', '=', 'running')
      .where('runs.lease_owner', 'in', owners)
      .execute()
    const inFlight = steps.filter((s) => !old.has(`${s.run_id}\u0000${s.step_id}\u0000${s.attempts}`)).length
    return before > 0 && held() === before && inFlight === before
  }
}

/**
 * `probe`, made exact for processes that go on moving: when it passes, the processes are stopped
 * (SIGSTOP) and it is asked again, so what it found is still so when the caller acts next (a kill -9
 * of the stopped processes). True leaves them stopped; false lets them go on (SIGCONT).
 *
 * Without the stop, a probe that passes says only what was so while it read: a worker between two
 * steps (its next one not yet recorded as begun) passes it, and may begin that step and be half-way
 * through its effect by the time the kill lands. Once stopped, a process can only have bytes on their
 * way: a COMMIT already sent (the database applies it after the kill: an attempt recorded as begun,
 * nothing done outside) or part of a message on its way to a sink (its step is in flight and not held,
 * so the probe fails, unless the rest arrives and the sink holds it whole).
 */
export function whileStopped(processes: StoreflowProcess[], probe: () => Promise<boolean>): () => Promise<boolean> {
  return async () => {
    if (!(await probe())) return false
    for (const p of processes) p.child.kill('SIGSTOP')
    try {
      await Promise.all(processes.map((p) => stoppedFor(p)))
      if (await probe()) return true
    } catch (err) {
      for (const p of processes) p.child.kill('SIGCONT')
      throw err
    }
    for (const p of processes) p.child.kill('SIGCONT')
    return false
  }
}

/** Resolves once the kernel says the process is stopped (Linux: state T in /proc/PID/stat), or has exited. */
async function stoppedFor(p: StoreflowProcess): Promise<void> {
  for (let i = 0; ; i++) {
    if (!isAlive(p)) return
    let stat: string
    try {
      stat = await readFile(`/proc/${p.child.pid}/stat`, 'utf8')
    } catch {
      return // no procfs (or it just exited): SIGSTOP is as good as its delivery
    }
    // the state follows the command name, which is in parentheses and may hold anything
    if (/^[Tt]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ', 1)[0] ?? '')) return
    if (i > 1000) throw new Error(`process ${p.child.pid} did not stop`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

/**
 * This process's environment without anything that would point a child at another database or
 * mail server (or make it think it runs under vitest), with `extra` over it: for tests that run
 * `storeflow` against a PostgreSQL cluster of their own.
 */
export function isolatedEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['DATABASE_URL', 'SMTP_URL', 'VITEST', 'STOREFLOW_DB_WAIT'].includes(k)) env[k] = v
  return { ...env, STOREFLOW_LOG_LEVEL: 'warn', ...extra }
}

export function isAlive(p: StoreflowProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null
}

/** The start and the end of a process's output (a crash prints its cause first, then pages of state). */
export function outputExcerpt(output: string): string {
  return output.length <= 3000 ? output : `${output.slice(0, 1500)}\n…\n${output.slice(-1500)}`
}

/** `/readyz`'s status, or 0 when nothing answered within 5 s. */
export async function readyStatus(base: string): Promise<number> {
  try {
    return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).status
  } catch {
    return 0
  }
}

/** A bearer-key client of a running `storeflow serve`: one GET, or every page of a list. */
export function apiClient(base: string, key: string) {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(30_000) })
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
    return (await res.json()) as T
  }
  return {
    headers,
    get,
    /** follows `next_cursor` to the end, 500 a page */
    async listAll<T>(path: string): Promise<T[]> {
      const out: T[] = []
      let cursor: string | null = null
      do {
        const page: { items: T[]; next_cursor: string | null } = await get(
          `${path}${path.includes('?') ? '&' : '?'}limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        )
        out.push(...page.items)
        cursor = page.next_cursor
      } while (cursor)
      return out
    },
  }
}
