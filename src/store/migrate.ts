import { sql, type Kysely } from 'kysely'
import type { DatabaseHandle, DialectName } from './db.ts'
import * as m0001 from './migrations/0001-core.ts'
import * as m0002 from './migrations/0002-users.ts'
import * as m0003 from './migrations/0003-connectors.ts'
import * as m0004 from './migrations/0004-view-fixes.ts'
import * as m0005 from './migrations/0005-run-steps-store.ts'
import * as m0006 from './migrations/0006-privacy.ts'
import * as m0007 from './migrations/0007-schedules.ts'
import * as m0008 from './migrations/0008-event-log.ts'
import * as m0009 from './migrations/0009-derived-events.ts'
import * as m0010 from './migrations/0010-discounts-loyalty.ts'
import * as m0011 from './migrations/0011-segments.ts'
import * as m0012 from './migrations/0012-orders-forms.ts'
import * as m0013 from './migrations/0013-invoices.ts'
import * as m0015 from './migrations/0015-inventory-forecasts.ts'
import * as m0016 from './migrations/0016-purchasing.ts'
import * as m0017 from './migrations/0017-remote-services.ts'
import * as m0019 from './migrations/0019-channel-sync.ts'
import * as m0020 from './migrations/0020-insight.ts'
import * as m0021 from './migrations/0021-insight-touches.ts'
import * as m0022 from './migrations/0022-sessions.ts'
import * as m0023 from './migrations/0023-audit-log.ts'
import * as m0024 from './migrations/0024-insight-indexes.ts'
import * as m0025 from './migrations/0025-workers.ts'
import * as m0026 from './migrations/0026-workflow-entries.ts'
import * as m0027 from './migrations/0027-sign-in-failures.ts'
import * as m0028 from './migrations/0028-runs-store-due.ts'
import * as m0029 from './migrations/0029-message-handovers.ts'
import * as m0030 from './migrations/0030-runs-customer-started.ts'
import * as m0031 from './migrations/0031-customer-merge-indexes.ts'

type Migration = { up(db: Kysely<any>, dialect: DialectName): Promise<void> }

/**
 * Numbered, frozen migrations. Add new files at the end; never edit one that has shipped.
 * Applied in one transaction each, under a lock so that several processes starting at once
 * (serve + workers on PostgreSQL) apply each migration exactly once.
 */
export const MIGRATIONS: Array<[name: string, migration: Migration]> = [
  ['0001-core', m0001],
  ['0002-users', m0002],
  ['0003-connectors', m0003],
  ['0004-view-fixes', m0004],
  ['0005-run-steps-store', m0005],
  ['0006-privacy', m0006],
  ['0007-schedules', m0007],
  ['0008-event-log', m0008],
  ['0009-derived-events', m0009],
  ['0010-discounts-loyalty', m0010],
  ['0011-segments', m0011],
  ['0012-orders-forms', m0012],
  ['0013-invoices', m0013],
  ['0015-inventory-forecasts', m0015],
  ['0016-purchasing', m0016],
  ['0017-remote-services', m0017],
  ['0019-channel-sync', m0019],
  ['0020-insight', m0020],
  ['0021-insight-touches', m0021],
  ['0022-sessions', m0022],
  ['0023-audit-log', m0023],
  ['0024-insight-indexes', m0024],
  ['0025-workers', m0025],
  ['0026-workflow-entries', m0026],
  ['0027-sign-in-failures', m0027],
  ['0028-runs-store-due', m0028],
  ['0029-message-handovers', m0029],
  ['0030-runs-customer-started', m0030],
  ['0031-customer-merge-indexes', m0031],
]

export async function migrate(handle: DatabaseHandle): Promise<string[]> {
  const { db, dialect } = handle
  await db.schema
    .createTable('storeflow_migrations')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute()
    .catch(async (err) => {
      // two processes creating the table at once on PostgreSQL: the loser sees a duplicate
      if (dialect !== 'postgres') throw err
    })

  const applied: string[] = []
  await db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(74211)`.execute(trx)
    const done = new Set((await (trx as Kysely<any>).selectFrom('storeflow_migrations').select('name').execute()).map((r) => r.name as string))
    for (const [name, migration] of MIGRATIONS) {
      if (done.has(name)) continue
      await migration.up(trx, dialect)
      await (trx as Kysely<any>).insertInto('storeflow_migrations').values({ name, applied_at: new Date().toISOString() }).execute()
      applied.push(name)
    }
  })
  return applied
}

/**
 * Migrations this version has and the database has not applied (`pending`), and those the
 * database has that this version does not know (`unknown`: a newer storeflow migrated it).
 * Reads only: nothing is applied (storeflow doctor).
 */
export async function migrationStatus(handle: DatabaseHandle): Promise<{ pending: string[]; unknown: string[] }> {
  const db = handle.db as Kysely<any>
  let done: string[]
  try {
    done = (await db.selectFrom('storeflow_migrations').select('name').execute()).map((r) => r.name as string)
  } catch (err) {
    // no migrations table yet: nothing applied (any other failure is the database's)
    if (/storeflow_migrations/.test(String((err as Error).message))) done = []
    else throw err
  }
  const known = new Set(MIGRATIONS.map(([name]) => name))
  const applied = new Set(done)
  return { pending: MIGRATIONS.map(([name]) => name).filter((n) => !applied.has(n)), unknown: done.filter((n) => !known.has(n)) }
}
