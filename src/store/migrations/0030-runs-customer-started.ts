import type { Kysely } from 'kysely'

/**
 * A customer's runs of one workflow, newest first: the re-entry check (`once`, `once_per`) reads
 * the last one's start for every event that may start a run. With only (store_id, customer_key,
 * workflow_id), SQLite's planner preferred the insight index (store_id, workflow_id, started_at,
 * customer_key, …), which covers the query but reads every run of the workflow in the store: a
 * cost per event that grew with every run the store had started. This index covers it with the
 * customer's three columns first, and replaces runs_customer_idx (its prefix). Frozen once shipped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('runs_customer_started_idx').on('runs').columns(['store_id', 'customer_key', 'workflow_id', 'started_at']).execute()
  await db.schema.dropIndex('runs_customer_idx').execute()
}
