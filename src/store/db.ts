import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import { Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, sql, type LogEvent, type Transaction } from 'kysely'
import { isDatabaseUnavailable } from '../lib/db-errors.ts'
import { errorMessage } from '../lib/errors.ts'
import type { Logger } from '../lib/logger.ts'
import type { Database } from './tables.ts'

export type DialectName = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  db: Kysely<Database>
  dialect: DialectName
  /** for diagnostics: the file path or the URL without password */
  location: string
  close(): Promise<void>
  /** one quick round trip that never waits for the database to come back (readiness) */
  ping(): Promise<void>
  /** SQL statements sent through `db` since it was opened (storeflow_db_statements_total) */
  statements(): number
  /** calls `listener` with each statement sent through `db` from now on; returns how to stop */
  watchStatements(listener: (sql: string, parameters: readonly unknown[]) => void): () => void
}

/**
 * Counts the statements a Kysely instance runs (its log hook sees each one, on both dialects):
 * what routing an event costs is mostly how many statements it takes, and this is how an
 * operator (and the benchmarks, and a test that keeps the count from creeping up) can see it.
 * `watch` hands each statement's SQL and parameters to a listener (a test reading query plans).
 */
function statementCounter(): { log: (event: LogEvent) => void; count: () => number; watch: DatabaseHandle['watchStatements'] } {
  let n = 0
  const listeners = new Set<(sql: string, parameters: readonly unknown[]) => void>()
  return {
    log: (event) => {
      if (event.level === 'query' || event.level === 'error') n++
      for (const listener of listeners) listener(event.query.sql, event.query.parameters)
    },
    count: () => n,
    watch: (listener) => {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }
}

export interface DatabaseOptions {
  /** `postgres://…` selects PostgreSQL; anything else is a SQLite file path (or `:memory:`) */
  url: string
  /** PostgreSQL only: the schema to use (created if missing); tests use one per file */
  schema?: string
  /** PostgreSQL pool size; default 10 */
  poolSize?: number
  /** PostgreSQL: where connections lost under the pool are reported */
  log?: Logger
  /**
   * PostgreSQL: how long a query waits for a connection while the server cannot be reached (a
   * restart, a failover) before it fails; ms, default 5000
   */
  connectWaitMs?: number
}

// pg returns int8 as string by default; our bigint columns (event seq) fit in a double
pg.types.setTypeParser(20, (v: string) => Number(v))

/** Whether `db` speaks SQLite: for the few queries whose best form differs by planner. */
export function isSqlite(db: Kysely<Database> | Transaction<Database>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter
}

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
  const counter = statementCounter()
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), log: counter.log })
  return {
    db,
    dialect: 'sqlite',
    location: path,
    statements: counter.count,
    watchStatements: counter.watch,
    close: () => db.destroy(),
    ping: async () => {
      await sql`select 1`.execute(db)
    },
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
    // a server that does not answer at all (a dropped route) must not hold a request forever
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  })
  // When the server ends a connection (a restart: 57P01 "terminating connection due to
  // administrator command"), pg emits 'error' on the pool for an idle client, and on the client
  // itself when it is checked out. An 'error' event nobody listens to ends the process. The pool
  // has dropped the broken client by then; a query that was using it fails, and its caller
  // treats that as transient (engine/ARCHITECTURE.md, invariant 18).
  const log = options.log
  pool.on('error', (err) => log?.warn({ err: errorMessage(err), code: (err as { code?: string }).code }, 'database connection lost'))
  pool.on('connect', (client) => {
    client.on('error', (err) => log?.debug({ err: errorMessage(err) }, 'database connection lost while in use'))
  })
  const waitMs = options.connectWaitMs ?? 5_000
  const counter = statementCounter()
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: { connect: () => connectWaiting(pool, waitMs), end: () => pool.end() } }),
    log: counter.log,
  })
  return {
    db,
    dialect: 'postgres',
    statements: counter.count,
    watchStatements: counter.watch,
    location: options.url.replace(/:[^:@/]*@/, ':***@'),
    close: () => db.destroy(),
    // straight to the pool, not through connectWaiting: readiness must say "no" while the
    // database is away, not wait for it to come back
    ping: async () => {
      await withTimeout(pool.query('select 1'), PING_TIMEOUT_MS, 'the database did not answer within 2 s')
    },
  }
}

/** How long opening one connection may take before it counts as failed. */
const CONNECT_TIMEOUT_MS = 5_000
const PING_TIMEOUT_MS = 2_000

/**
 * A connection for Kysely, waiting up to `waitMs` while the server cannot be reached. Only
 * opening a connection is retried here: nothing was sent on a connection that never opened, so
 * no statement can run twice. A statement cut off mid-way fails, for its caller to judge.
 */
async function connectWaiting(pool: pg.Pool, waitMs: number): Promise<pg.PoolClient> {
  const deadline = Date.now() + waitMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await pool.connect()
    } catch (err) {
      const left = deadline - Date.now()
      if (!isDatabaseUnavailable(err) || left <= 0) throw err
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, 100 * 2 ** Math.min(attempt - 1, 4))))
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

/** `host:port` of a PostgreSQL URL, for messages (never the password). */
export function postgresAddress(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`
  } catch {
    return 'the DATABASE_URL address'
  }
}

/** One connection attempt and `select 1`, with its own client: does the server answer now? */
export async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS })
  // a connection that dies after connecting makes the query below fail instead
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('select 1')
  } finally {
    await client.end().catch(() => undefined)
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

/** Readiness: the database answers now (PostgreSQL: without waiting for it to come back). */
export async function ping(handle: DatabaseHandle): Promise<void> {
  await handle.ping()
}
