import { pino } from 'pino'
import type { Command } from 'commander'
import { loadConfig, type Config, type ConfigFlags } from '../config.ts'
import { StoreflowError, UserError } from '../lib/errors.ts'
import { createLogger, type Logger } from '../lib/logger.ts'
import { createApp, type App, type AppOptions } from '../main.ts'

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
export function cliLogger(): Logger {
  return pino({ level: process.env.STOREFLOW_LOG_LEVEL ?? 'warn', base: { service: 'storeflow' } }, pino.destination(2))
}

export function serviceLogger(): Logger {
  return createLogger()
}

export async function openApp(flags: ConfigFlags = {}, options: AppOptions = {}): Promise<App> {
  const config = await loadConfig(flags)
  return createApp(config, { log: cliLogger(), ...options })
}

export async function config(flags: ConfigFlags = {}): Promise<Config> {
  return loadConfig(flags)
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
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  console.log(line(headers))
  for (const r of cells) console.log(line(r))
}

/** Parses a positive integer flag, naming the flag when it is not one. */
export function intFlag(value: string | undefined, flag: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} must be a whole number${min > 0 ? ` ≥ ${min}` : ''}, got "${value}"`, { code: 'validation_failed' })
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
  } else {
    const message = err instanceof Error ? err.message : String(err)
    console.error(`error: ${message}`)
    if (process.env.STOREFLOW_DEBUG === '1' && err instanceof Error) console.error(err.stack)
    else console.error('(this looks like a bug; run again with STOREFLOW_DEBUG=1 for the stack trace)')
  }
  process.exit(1)
}
