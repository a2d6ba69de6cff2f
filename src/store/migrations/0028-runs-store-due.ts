import type { Kysely } from 'kysely'

/**
 * Fair claims (store/runs.repo.ts claimDueRuns) read each store's oldest due runs: a range of
 * (store_id, due_at) per store, a few index steps each however large another store's backlog.
 * Frozen once shipped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('runs_store_due_idx').on('runs').columns(['store_id', 'due_at']).execute()
}
