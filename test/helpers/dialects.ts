import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { loadConfig, type Config } from '../../src/config.ts'
import { ManualClock } from '../../src/lib/clock.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { createApp, type App, type AppOptions } from '../../src/main.ts'
import { dropPostgresSchema } from '../../src/store/db.ts'

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.end()
    return true
  } catch {
    return false
  }
}

const pgAvailable = await postgresAnswers()
if (!pgAvailable) {
  if (process.env.CI === 'true') throw new Error(`CI=true but PostgreSQL does not answer at ${TEST_DATABASE_URL}`)
  console.warn(`[storeflow tests] PostgreSQL does not answer at ${TEST_DATABASE_URL}: PostgreSQL tests are SKIPPED`)
}

export type DialectName = 'sqlite' | 'postgres'

/** Dialects the storage and engine suites loop over: SQLite always, PostgreSQL when it answers. */
export const DIALECTS: DialectName[] = pgAvailable ? ['sqlite', 'postgres'] : ['sqlite']

export interface TestEnv {
  app: App
  clock: ManualClock
  config: Config
  /** the PostgreSQL schema the database lives in (a second app on the same database opens it with this) */
  schema?: string
  /** closes the app and removes its database */
  cleanup(): Promise<void>
}

let counter = 0

/** A fresh database per call: a temp SQLite file, or a new PostgreSQL schema. */
export async function createTestEnv(dialect: DialectName, options: AppOptions & { env?: Record<string, string> } = {}): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-test-'))
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`
  const config = await loadConfig(
    { dataDir: dir, databaseUrl: dialect === 'postgres' ? TEST_DATABASE_URL : join(dir, 'storeflow.db') },
    { STOREFLOW_SECRET_KEY: 'test-secret-key', ...options.env },
    dir,
  )
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock('2026-03-02T10:00:00Z')
  const app = await createApp(config, { log: silentLogger, ...options, clock, ...(dialect === 'postgres' ? { schema } : {}) })
  return {
    app,
    clock,
    config,
    ...(dialect === 'postgres' ? { schema } : {}),
    async cleanup() {
      await app.close()
      if (dialect === 'postgres') await dropPostgresSchema(TEST_DATABASE_URL, schema)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export { pgAvailable }
