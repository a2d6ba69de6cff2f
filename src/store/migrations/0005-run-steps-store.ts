import { sql, type Kysely } from 'kysely'

/** Every business table carries store_id: run_steps gets its run's, so a store's timeline rows can be found (and erased) without a join. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('run_steps').addColumn('store_id', 'text').execute()
  await sql`update run_steps set store_id = (select store_id from runs where runs.id = run_steps.run_id)`.execute(db)
  await db.schema.createIndex('run_steps_store_idx').on('run_steps').columns(['store_id', 'run_id']).execute()
}
