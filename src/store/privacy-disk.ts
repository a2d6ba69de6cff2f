import { sql, type Kysely } from 'kysely'
import type { DialectName } from './db.ts'
import type { Database } from './tables.ts'

/**
 * After an erasure has committed, the old bytes must leave the database's files too.
 *
 * SQLite: every connection runs with `secure_delete` (db.ts), so the space a changed or deleted
 * row leaves behind, in tables, indexes, overflow and freed pages alike, is overwritten with
 * zeros. The previous versions of those pages still sit in the write-ahead log until it is
 * checkpointed, so the WAL is checkpointed into the database and truncated to zero bytes. A
 * reader holding an old snapshot (another process mid-query) makes the checkpoint busy: it is
 * tried again for a while.
 *
 * PostgreSQL: an UPDATE leaves the old row version in place until VACUUM removes it, so the
 * touched tables are vacuumed (outside any transaction, as VACUUM requires). A plain VACUUM
 * removes the old versions from tables and indexes and lets their space be reused; it does not
 * wipe it, and VACUUM FULL (which would) locks each table exclusively for the whole rewrite, so
 * it is left to the operator. Also out of the product's reach, and the operator's to handle: the
 * server's WAL segments until they are recycled, WAL archives, base backups and dumps, replicas,
 * and the shop itself (README, "Privacy").
 */

/** Tables an erasure writes. */
export const ERASURE_TABLES = [
  'customers',
  'events',
  'orders',
  'carts',
  'subscriptions',
  'messages',
  'runs',
  'run_steps',
  'correlations',
  'webhook_deliveries',
  'privacy_exports',
] as const

const CHECKPOINT_TRIES = 50
const CHECKPOINT_PAUSE_MS = 200

/** true when the old bytes are gone from what the product manages; false when SQLite's WAL stayed busy. */
export async function settleErasure(db: Kysely<Database>, dialect: DialectName): Promise<boolean> {
  if (dialect === 'postgres') {
    await sql`vacuum ${sql.join(ERASURE_TABLES.map((t) => sql.table(t)))}`.execute(db)
    return true
  }
  for (let i = 0; i < CHECKPOINT_TRIES; i++) {
    const res = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(db)
    if (Number(res.rows[0]?.busy ?? 0) === 0) return true
    await new Promise((r) => setTimeout(r, CHECKPOINT_PAUSE_MS))
  }
  return false
}
