import type { Kysely } from 'kysely'

/**
 * Operability (issue 15): the installation's worker processes and the counters /metrics needs to
 * be right across processes. Frozen once shipped: later changes go in new numbered files.
 *
 * - `workers`: one row per worker process (`storeflow worker`, or the one `serve` embeds), written
 *   at start and on every heartbeat (`heartbeat_ms` apart): `claimed_runs` is what it holds under
 *   lease at that moment. `stopped_at` is set by a graceful stop; a row neither stopped nor seen
 *   for 3 heartbeats is a lost worker. Rows gone for over a day are pruned.
 * - `storeflow_counters`: monotonic figures kept beside the rows they count, e.g. `events_pruned`
 *   (events retention deleted), so the events ingested stay a counter when the log is pruned.
 * - messages (channel, status): the emails by status /metrics counts are one index-only scan.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addColumn('heartbeat_ms', 'integer', (c) => c.notNull())
    .addColumn('claimed_runs', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('stopped_at', 'text')
    .execute()
  await db.schema
    .createTable('storeflow_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('messages_channel_status_idx').on('messages').columns(['channel', 'status']).execute()
}
