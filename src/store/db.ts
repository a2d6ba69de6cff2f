import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import type { Database } from './tables.ts'

export type DialectName = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  db: Kysely<Database>
  dialect: DialectName
  /** for diagnostics: the file path or the URL without password */
  location: string
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** `postgres://…` selects PostgreSQL; anything else is a SQLite file path (or `:memory:`) */
  url: string
  /** PostgreSQL only: the schema to use (created if missing); tests use one per file */
  schema?: string
  /** PostgreSQL pool size; default 10 */
  poolSize?: number
}

// pg returns int8 as string by default; our bigint columns (event seq) fit in a double
pg.types.setTypeParser(20, (v: string) => Number(v))

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url)
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (isPostgresUrl(options.url)) return openPostgres(options)
  return openSqlite(options.url)
}

function openSqlite(path: string): DatabaseHandle {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new SQLite(path)
  // WAL + NORMAL: durable across process crashes (kill -9); only an OS crash may lose the last commits
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('busy_timeout = 10000')
  sqlite.pragma('foreign_keys = ON')
  // freed space (a changed or deleted row, an index entry, a page) is zeroed: erased data leaves the file (store/privacy-disk.ts)
  sqlite.pragma('secure_delete = ON')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  return {
    db,
    dialect: 'sqlite',
    location: path,
    close: () => db.destroy(),
  }
}

/** Most distinct SQL texts kept prepared; the engine's queries are a few hundred shapes. */
const STATEMENT_CACHE_SIZE = 500

/**
 * Kysely prepares every query anew; preparing costs as much as running a small one. The same
 * SQL text (parameters are bound, not inlined) reuses its prepared statement.
 */
function withStatementCache(sqlite: SQLite.Database): { close(): void; prepare(sql: string): SQLite.Statement } {
  const cache = new Map<string, SQLite.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = cache.get(text)
      if (stmt) return stmt
      stmt = sqlite.prepare(text)
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!)
      cache.set(text, stmt)
      return stmt
    },
  }
}

async function openPostgres(options: DatabaseOptions): Promise<DatabaseHandle> {
  const schema = options.schema
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name "${schema}"`)
  if (schema) {
    const admin = new pg.Client({ connectionString: options.url })
    await admin.connect()
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    } finally {
      await admin.end()
    }
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    dialect: 'postgres',
    location: options.url.replace(/:[^:@/]*@/, ':***@'),
    close: () => db.destroy(),
  }
}

/** Drops a test schema; used by test helpers after a file's tests. */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await admin.end()
  }
}

export async function ping(handle: DatabaseHandle): Promise<void> {
  await sql`select 1`.execute(handle.db)
}
