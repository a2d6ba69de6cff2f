import type { Config } from '../config.ts'
import { isPostgresUrl, openDatabase, postgresAddress, probePostgres } from '../store/db.ts'
import { migrate } from '../store/migrate.ts'
import { ensureDefaultStore } from '../store/stores.repo.ts'

/**
 * The database before any app is opened on it: what start-up waits for, and `storeflow migrate`.
 * These take the configuration, not a service context, because they run before one exists.
 */

/** `host:port` of the PostgreSQL server to wait for (never the password); null for SQLite, which needs no wait. */
export function postgresToWaitFor(config: Config): string | null {
  return isPostgresUrl(config.databaseUrl) ? postgresAddress(config.databaseUrl) : null
}

/** One connection attempt and `select 1` with a client of its own: does PostgreSQL answer now? */
export function probePostgresNow(config: Config): Promise<void> {
  return probePostgres(config.databaseUrl)
}

/** Applies pending migrations and makes sure the `default` store exists; closes the database again. */
export async function migrateDatabase(config: Config): Promise<{ applied: string[]; location: string }> {
  const handle = await openDatabase({ url: config.databaseUrl })
  try {
    const applied = await migrate(handle)
    await ensureDefaultStore(handle.db, new Date())
    return { applied, location: handle.location }
  } finally {
    await handle.close()
  }
}
