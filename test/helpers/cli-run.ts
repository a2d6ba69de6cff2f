import { execFile } from 'node:child_process'
import { sql } from 'kysely'
import { CLI, REPO_ROOT } from './processes.ts'
import { TEST_DATABASE_URL, type DialectName, type TestEnv } from './dialects.ts'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** The parent's environment without anything that would point the CLI at another database or key. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of ['DATABASE_URL', 'VITEST', 'SMTP_URL', 'STOREFLOW_SECRET_KEY', 'STOREFLOW_DATA_DIR', 'STOREFLOW_INGEST_RATE_LIMIT']) delete env[name]
  return env
}

/** Runs `storeflow ARGS…` to completion as a real process (cwd: the repository, so no config file is picked up by accident). */
export function runCli(args: string[], env: Record<string, string>, cwd = REPO_ROOT): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...baseEnv(), STOREFLOW_LOG_LEVEL: 'warn', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

/** A PostgreSQL URL that puts a process in the given schema (each test has its own). */
export function schemaUrl(schema: string): string {
  return `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`
}

/** Environment for a CLI process that works on the same database as a test env (its SQLite file, or its PostgreSQL schema). */
export async function cliEnvFor(env: TestEnv, dialect: DialectName): Promise<Record<string, string>> {
  const vars: Record<string, string> = { STOREFLOW_DATA_DIR: env.config.dataDir, STOREFLOW_SECRET_KEY: 'test-secret-key' }
  if (dialect === 'postgres') {
    const row = await sql<{ s: string }>`select current_schema() as s`.execute(env.app.handle.db)
    vars.DATABASE_URL = schemaUrl(row.rows[0]!.s)
  }
  return vars
}
