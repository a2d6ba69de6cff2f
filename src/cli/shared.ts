import type { Command } from 'commander'
import { loadConfig, type Config, type ConfigFlags } from '../config.ts'
import { isDatabaseUnavailable, unavailableReason } from '../lib/db-errors.ts'
import { parseDuration } from '../lib/durations.ts'
import { OperationalError, StoreflowError, UserError, errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/logger.ts'
import type { App, AppOptions, CommandLineRoot } from '../main.ts'

/** Options every command sees (declared on the program). */
export interface GlobalOptions {
  /** the store a command acts on; default `default` */
  store: string
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { store?: string }
  return { store: o.store ?? 'default' }
}

/**
 * Short commands log warnings and errors to stderr, so stdout stays the command's output
 * (`--json` stays parseable). Long-running ones (serve, worker) log JSON lines on stdout.
 */
export async function cliLogger(): Promise<Logger> {
  // imported here, not at the top: `--help` and commands that log nothing start without pino
  const { pino } = await import('pino')
  return pino({ level: process.env.STOREFLOW_LOG_LEVEL ?? 'warn', base: { service: 'storeflow' } }, pino.destination(2))
}

export async function serviceLogger(): Promise<Logger> {
  const { createLogger } = await import('../lib/logger.ts')
  return createLogger()
}

let root: CommandLineRoot | null = null

/** Called once as the command line starts (cli/main.ts), with what the composition root builds. */
export function provideRoot(given: CommandLineRoot): void {
  root = given
}

/** What opens apps and HTTP servers for the commands: src/command-line.ts provides it, over the composition root (src/main.ts). */
export function commandLineRoot(): CommandLineRoot {
  if (!root) throw new Error('the command line was started without its root: run it through runCommandLine in src/command-line.ts')
  return root
}

export async function openApp(flags: ConfigFlags = {}, options: AppOptions = {}): Promise<App> {
  const config = await loadConfig(flags)
  const { cliActor } = await import('../services/audit-log.ts')
  return commandLineRoot().createApp(config, { log: await cliLogger(), actor: cliActor(), ...options })
}

export async function config(flags: ConfigFlags = {}): Promise<Config> {
  return loadConfig(flags)
}

/** How long start-up waits for PostgreSQL by default (STOREFLOW_DB_WAIT). */
const DEFAULT_DB_WAIT = '3m'

/** STOREFLOW_DB_WAIT: a duration (`90s`, `5m`) or a number of seconds; `0` does not wait. */
export function dbWaitMs(value = process.env.STOREFLOW_DB_WAIT): number {
  const text = value === undefined || value.trim() === '' ? DEFAULT_DB_WAIT : value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  return parseDuration(text, 'STOREFLOW_DB_WAIT')
}

/**
 * Long-running commands start before PostgreSQL may be up (a compose file, a reboot, a failover):
 * they wait for it, saying so on stderr, with backoff, for up to STOREFLOW_DB_WAIT (default 3
 * minutes), then stop with a one-line error. An answer that waiting will not change (a wrong
 * password, a database that does not exist) stops at once. SQLite needs no wait.
 */
export async function waitForDatabase(config: Config, waitMs = dbWaitMs()): Promise<void> {
  const { postgresToWaitFor, probePostgresNow } = await import('../services/database.ts')
  const address = postgresToWaitFor(config)
  if (address === null) return
  const started = Date.now()
  let delay = 1_000
  for (let attempt = 1; ; attempt++) {
    try {
      await probePostgresNow(config)
      if (attempt > 1) console.error(`PostgreSQL at ${address} is up`)
      return
    } catch (err) {
      if (!isDatabaseUnavailable(err)) {
        throw new UserError(`PostgreSQL at ${address} answered but refused us: ${errorMessage(err).split('\n')[0]}; check DATABASE_URL`, { cause: err })
      }
      const reason = unavailableReason(err)
      const left = waitMs - (Date.now() - started)
      if (left <= 0) {
        throw new OperationalError(
          `PostgreSQL at ${address} did not answer${waitMs > 0 ? ` within ${formatSeconds(waitMs)}` : ''} (${reason}); check that it is running and DATABASE_URL, or wait longer with STOREFLOW_DB_WAIT`,
          { cause: err },
        )
      }
      const pause = Math.min(delay, left)
      console.error(`waiting for PostgreSQL at ${address} (${reason}) — retrying in ${formatSeconds(pause)}`)
      await new Promise((resolve) => setTimeout(resolve, pause))
      delay = Math.min(delay * 2, 10_000)
    }
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000
  return `${s < 10 ? Math.round(s * 10) / 10 : Math.round(s)} s`
}

/** Opens the app, runs fn, always closes the app. */
export async function withApp<T>(fn: (app: App) => Promise<T>, flags: ConfigFlags = {}, options: AppOptions = {}): Promise<T> {
  const app = await openApp(flags, options)
  try {
    return await fn(app)
  } finally {
    await app.close()
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** A plain text table: columns padded to their widest cell. */
export function printTable(headers: string[], rows: Array<Array<string | number | boolean | null | undefined>>): void {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  console.log(line(headers))
  for (const r of cells) console.log(line(r))
}

/** Parses a positive integer flag, naming the flag when it is not one. */
export function intFlag(value: string | undefined, flag: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  const n = value.trim() === '' ? Number.NaN : Number(value)
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min > 0 ? ` ≥ ${min}` : ''
    throw new UserError(`${flag} must be a whole number${range}, got "${value}"`, { code: 'validation_failed' })
  }
  return n
}

/** Parses a flag that is a number above 0 (a rate: `0.5`, `2`), at most `max`, naming the flag when it is not one. */
export function positiveNumberFlag(value: string | undefined, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = value.trim() === '' ? Number.NaN : Number(value)
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new UserError(`${flag} must be a number above 0 and at most ${max}, got "${value}"`, { code: 'validation_failed' })
  return n
}

/**
 * Wraps a command's action: a UserError (or any StoreflowError) prints `error: <message>` and
 * exits 1 without a stack; anything else is a bug and prints its stack only with STOREFLOW_DEBUG=1.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args)
    } catch (err) {
      fail(err)
    }
  }
}

export function fail(err: unknown): never {
  if (err instanceof StoreflowError) {
    console.error(`error: ${err.message}`)
  } else if (isDatabaseUnavailable(err)) {
    // not a bug: the database went away after start-up's wait; a supervisor may start us again
    console.error(`error: the database is unavailable (${unavailableReason(err)}); try again once it is up`)
  } else {
    const message = err instanceof Error ? err.message : String(err)
    console.error(`error: ${message}`)
    if (process.env.STOREFLOW_DEBUG === '1' && err instanceof Error) console.error(err.stack)
    else console.error('(this looks like a bug; run again with STOREFLOW_DEBUG=1 for the stack trace)')
  }
  process.exit(1)
}
