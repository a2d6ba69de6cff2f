import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import type { DialectName } from '../../src/store/db.ts'
import type { Database } from '../../src/store/tables.ts'

/**
 * Support for the two-store tests: a full dump of one store's
 * rows read straight from the database, a readable difference between two dumps, the strings only
 * one store holds (to catch them in another store's answers), and the routes a Fastify server
 * really has.
 */

/** Tables that hold no store's data: the installation's own (dashboard users, migrations, sign-in failures, worker processes, counters across stores). */
const INSTALLATION_TABLES = new Set(['storeflow_migrations', 'users', 'sessions', 'sign_in_failures', 'sqlite_sequence', 'workers', 'storeflow_counters'])

export interface TableInfo {
  table: string
  columns: string[]
}

/** Every table in the database with its columns (SQLite: sqlite_master; PostgreSQL: the current schema). */
export async function tablesOf(db: Kysely<Database>, dialect: DialectName): Promise<TableInfo[]> {
  const out: TableInfo[] = []
  if (dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db)
    for (const t of tables.rows) {
      const cols = await sql<{ name: string }>`select name from pragma_table_info(${t.name})`.execute(db)
      out.push({ table: t.name, columns: cols.rows.map((c) => c.name) })
    }
  } else {
    const cols = await sql<{ table_name: string; column_name: string }>`
      select c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
      order by c.table_name, c.ordinal_position`.execute(db)
    for (const c of cols.rows) {
      let t = out.find((x) => x.table === c.table_name)
      if (!t) {
        t = { table: c.table_name, columns: [] }
        out.push(t)
      }
      t.columns.push(c.column_name)
    }
  }
  return out
}

/** One store's rows, table by table: each row as JSON with its keys sorted, the rows sorted. */
export type StoreDump = Record<string, string[]>

const canonical = (row: Record<string, unknown>): string =>
  JSON.stringify(
    Object.fromEntries(
      Object.keys(row)
        .sort()
        .map((k) => [k, row[k] instanceof Date ? (row[k] as Date).toISOString() : row[k]]),
    ),
  )

/**
 * Every row that belongs to the store, in every table the database has, read directly (the API
 * does not show everything: sealed secrets, run state, correlations). A table is linked to a store
 * by `store_id`, by `connector_id` (to a connector of the store) or, for `stores`, by `id`; a table
 * with none of these that is not the installation's own fails the dump, so a table added later must
 * be classified here before any two-store test passes.
 */
export async function dumpStore(db: Kysely<Database>, dialect: DialectName, storeId: string): Promise<StoreDump> {
  const out: StoreDump = {}
  const any = db as unknown as Kysely<Record<string, Record<string, unknown>>>
  for (const { table, columns } of await tablesOf(db, dialect)) {
    if (INSTALLATION_TABLES.has(table)) continue
    let rows: Array<Record<string, unknown>>
    if (table === 'stores') {
      rows = await any.selectFrom(table).selectAll().where('id', '=', storeId).execute()
    } else if (columns.includes('store_id')) {
      let q = any.selectFrom(table).selectAll()
      // run_steps written before migration 0005 have no store_id: their run says whose they are
      q =
        columns.includes('run_id') && table !== 'runs'
          ? q.where((eb) => eb.or([eb('store_id', '=', storeId), eb('run_id', 'in', eb.selectFrom('runs').select('id').where('store_id', '=', storeId))]))
          : q.where('store_id', '=', storeId)
      rows = await q.execute()
    } else if (columns.includes('connector_id')) {
      rows = await any
        .selectFrom(table)
        .selectAll()
        .where('connector_id', 'in', any.selectFrom('connectors').select('id').where('store_id', '=', storeId))
        .execute()
    } else {
      throw new Error(`table "${table}" is linked to no store (no store_id or connector_id column): classify it in test/helpers/two-stores.ts`)
    }
    out[table] = rows.map(canonical).sort()
  }
  return out
}

const shown = (row: string) => (row.length > 400 ? `${row.slice(0, 400)}…` : row)

/** What changed from one dump to the next, one line per row gone or added (long rows cut short); empty when identical. */
export function dumpDiff(before: StoreDump, after: StoreDump): string[] {
  const lines: string[] = []
  for (const table of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = before[table] ?? []
    const b = after[table] ?? []
    const inB = new Set(b)
    const inA = new Set(a)
    for (const row of a) if (!inB.has(row)) lines.push(`${table} - ${shown(row)}`)
    for (const row of b) if (!inA.has(row)) lines.push(`${table} + ${shown(row)}`)
  }
  return lines
}

/** Every string in the dump, JSON columns opened to their leaves. */
function strings(dump: StoreDump): Set<string> {
  const out = new Set<string>()
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      out.add(v)
      if (v.startsWith('{') || v.startsWith('[')) {
        try {
          walk(JSON.parse(v))
        } catch {
          // not JSON: the string itself was kept
        }
      }
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x)
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v)) walk(x)
    }
  }
  for (const rows of Object.values(dump)) for (const row of rows) walk(JSON.parse(row))
  return out
}

/**
 * Strings (6 characters or more) that store `mine` holds and store `other` does not: ids the
 * database generated for it (runs, messages, deliveries, connectors, keys, customers' keys) and its
 * own content (names, subjects, settings). One of them in an answer given to `other` is a leak.
 */
export function uniqueStrings(mine: StoreDump, other: StoreDump): string[] {
  const theirs = strings(other)
  return [...strings(mine)].filter((s) => s.length >= 6 && !theirs.has(s) && !/^\d{4}-\d{2}-\d{2}T/.test(s))
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Which of the strings a text holds as a whole token (not inside a longer id: "b-only" is not
 * found in "evt-b-only-2"), as is or JSON-escaped. Strings the asker itself sent (`asked`: the
 * URL and body of the request, echoed in "run X not found") do not count.
 */
export function leaksIn(text: string, unique: string[], asked = ''): string[] {
  return unique.filter((s) => {
    if (asked.includes(s)) return false
    return [s, JSON.stringify(s).slice(1, -1)].some((form) => new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(form)}(?![A-Za-z0-9_-])`).test(text))
  })
}

/**
 * The routes the server really has, as "METHOD /path" (HEAD, which Fastify adds to every GET,
 * left out), read from `printRoutes({ commonPrefix: false })`: each line is one path segment,
 * indented four columns per level under its parent, followed by its methods.
 */
export function serverRoutes(server: FastifyInstance): string[] {
  const out: string[] = []
  const stack: string[] = []
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│├└─]*)(\S.*?) \(([A-Z, ]+)\)\s*$/.exec(line)
    if (!m) continue
    const depth = Math.floor(m[1]!.length / 4)
    stack.length = depth
    const parent = stack[depth - 1] ?? ''
    const path = parent === '/' ? `/${m[2]!}` : `${parent}${m[2]!}`
    stack[depth] = path
    for (const method of m[3]!.split(',').map((s) => s.trim())) if (method !== 'HEAD') out.push(`${method} ${path}`)
  }
  return out.sort()
}
