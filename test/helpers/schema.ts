import { sql, type Kysely } from 'kysely'
import type { DialectName } from '../../src/store/db.ts'
import type { Database } from '../../src/store/tables.ts'

/**
 * Every text column of every table in the database, read from the schema (SQLite: sqlite_master;
 * PostgreSQL: the current schema), so tables added later are searched too; `storeScoped` when the
 * table has a store_id column.
 */
export async function textColumns(db: Kysely<Database>, dialect: DialectName): Promise<Array<{ table: string; column: string; storeScoped: boolean }>> {
  const cols: Array<{ table: string; column: string; type: string }> = []
  if (dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
    for (const t of tables.rows) {
      const rows = await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${t.name})`.execute(db)
      for (const c of rows.rows) cols.push({ table: t.name, column: c.name, type: c.type })
    }
  } else {
    const rows = await sql<{ table_name: string; column_name: string; data_type: string }>`
      select table_name, column_name, data_type from information_schema.columns
      where table_schema = current_schema() order by table_name, ordinal_position`.execute(db)
    for (const c of rows.rows) cols.push({ table: c.table_name, column: c.column_name, type: c.data_type })
  }
  const scoped = new Set(cols.filter((c) => c.column === 'store_id').map((c) => c.table))
  return cols.filter((c) => /text|char|clob|json/i.test(c.type)).map((c) => ({ table: c.table, column: c.column, storeScoped: scoped.has(c.table) }))
}
