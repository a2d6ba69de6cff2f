import { sql, type Kysely } from 'kysely'
import type { DatabaseHandle } from '../../src/store/db.ts'

/**
 * Rows in every table of the app's database (its own PostgreSQL schema, or the SQLite file),
 * read straight from the database: "nothing of it was stored" is checked outside the product's
 * own bookkeeping, and a table added later is counted without this list changing.
 */
export async function rowCounts(handle: DatabaseHandle): Promise<Record<string, number>> {
  const db = handle.db as unknown as Kysely<Record<string, unknown>>
  const tables =
    handle.dialect === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db)).rows.map(
          (r) => r.name,
        )
      : (
          await sql<{
            name: string
          }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(
            db,
          )
        ).rows.map((r) => r.name)
  if (tables.length === 0) throw new Error('no tables found: the count would prove nothing')
  const counts: Record<string, number> = {}
  for (const table of tables) counts[table] = Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0]!.n)
  return counts
}
