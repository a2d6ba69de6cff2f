import { sql, type Kysely } from 'kysely'
import type { DialectName } from '../db.ts'

/**
 * The event log and its routers. Accepting an event only appends it to `events`; a router per
 * store (engine/router.ts) consumes the log in order and does what the event causes. Frozen once
 * shipped: later changes go in new numbered files.
 *
 * - `events.tx_id`: on PostgreSQL the id of the transaction that appended the event. Sequence
 *   numbers are taken before commit, so a lower one can commit after a higher one; a router reads
 *   only events whose transaction is older than every transaction still running (the snapshot's
 *   xmin) and in (tx_id, seq) order, so nothing commits behind its position. SQLite has one
 *   writer and commits in seq order: tx_id is 0 there.
 * - `event_routers`: one row per store, the router's position in the log (the last event routed)
 *   and the lease of the process routing it.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect === 'postgres') {
    // every existing row gets this migration's transaction id: they are all routed already
    await sql`alter table events add column tx_id bigint not null default (pg_current_xact_id()::text::bigint)`.execute(db)
  } else {
    await db.schema
      .alterTable('events')
      .addColumn('tx_id', 'integer', (c) => c.notNull().defaultTo(0))
      .execute()
  }
  await db.schema.createIndex('events_log_idx').on('events').columns(['store_id', 'tx_id', 'seq']).execute()

  await db.schema
    .createTable('event_routers')
    .addColumn('store_id', 'text', (c) => c.primaryKey())
    .addColumn('position_tx', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('position_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('owner', 'text')
    .addColumn('lease_until', 'text')
    .execute()

  // what was stored before this version was routed when it was accepted
  await sql`
    insert into event_routers (store_id, position_tx, position_seq)
    select s.id,
      coalesce((select max(e.tx_id) from events e where e.store_id = s.id), 0),
      coalesce((select max(e.seq) from events e where e.store_id = s.id), 0)
    from stores s
  `.execute(db)
}
