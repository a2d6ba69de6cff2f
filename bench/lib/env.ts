import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type Config } from '../../src/config.ts'
import type { Clock } from '../../src/lib/clock.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { createApp, type App } from '../../src/main.ts'
import { dropPostgresSchema } from '../../src/store/db.ts'

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export type Dialect = 'sqlite' | 'postgres'

/**
 * The application_name of every PostgreSQL connection the bench's apps and workers open: how
 * their backends (and so PostgreSQL's share of the CPU) are told from other users of the server.
 */
export const BENCH_PG_APPLICATION = `storeflow-bench-${process.pid}`

function withApplicationName(url: string, name: string): string {
  const u = new URL(url)
  u.searchParams.set('application_name', name)
  return u.toString()
}

export interface BenchEnv {
  app: App
  config: Config
  dialect: Dialect
  /** the SQLite file, or the PostgreSQL URL (with `schema`) */
  databaseUrl: string
  schema: string | null
  dir: string
  /** closes the app and removes its database (file or schema) */
  cleanup(): Promise<void>
}

let counter = 0

/** A clock that runs at real speed from a movable offset, so lateness is measured in real ms. */
export class OffsetClock implements Clock {
  offsetMs = 0
  now(): Date {
    return new Date(Date.now() + this.offsetMs)
  }
  /** makes now() read `at` from this moment on */
  setNow(at: Date): void {
    this.offsetMs = at.getTime() - Date.now()
  }
}

/** A fresh database per benchmark: a temp SQLite file, or a new PostgreSQL schema. */
export async function createBenchEnv(dialect: Dialect, options: { clock?: Clock; env?: Record<string, string> } = {}): Promise<BenchEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-bench-'))
  const schema = dialect === 'postgres' ? `bench_${process.pid}_${Date.now().toString(36)}_${counter++}` : null
  const databaseUrl = dialect === 'postgres' ? withApplicationName(BENCH_DATABASE_URL, BENCH_PG_APPLICATION) : join(dir, 'storeflow.db')
  const config = await loadConfig({ dataDir: dir, databaseUrl }, { STOREFLOW_SECRET_KEY: 'bench-secret-key', ...options.env }, dir)
  const app = await createApp(config, { log: silentLogger, ...(options.clock ? { clock: options.clock } : {}), ...(schema ? { schema } : {}) })
  return {
    app,
    config,
    dialect,
    databaseUrl,
    schema,
    dir,
    async cleanup() {
      await app.close().catch(() => undefined)
      if (schema) await dropPostgresSchema(BENCH_DATABASE_URL, schema)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Percentile over an ascending-sorted array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
