import { type Kysely, sql } from 'kysely'
import type { DialectName } from '../db.ts'
import { rebuildWorkflowEntries } from '../workflow-entries.repo.ts'

/**
 * Insight's cohort aggregate (issue 13): `workflow_entries`, one row per run with a customer,
 * kept current as runs start, splits are taken and orders arrive (store/workflow-entries.repo.ts,
 * core/insight/entries.ts), so a holdout or split report reads its entrants as one range of rows
 * instead of grouping runs and seeking every entrant's orders.
 *
 * - key (store_id, workflow_id, started_at, run_id): a report's range is one range of the key;
 *   on SQLite the table is that key (without rowid), so the range is read without a second seek.
 * - (store_id, customer_key): a customer's entries, recomputed when one of their orders changes.
 * - (store_id, workflow_id, started_at) of the entries with orders or a change of group or
 *   variant after them (partial): a report's buyers are read without passing the other entries.
 * - `holdout`, `split_key` / `variant` (the first split the run recorded), the chain fields
 *   `prev_at`, `break_at`, `variant_from`, `run_variant`, `run_split_key`, and the outcome `orders` /
 *   `revenue_micros` (millionths) over `window_ms`, the attribution window it was measured with.
 *
 * The runs already there are entered from the runs, split steps and orders (rebuildWorkflowEntries).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  let table = db.schema
    .createTable('workflow_entries')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text', (c) => c.notNull())
    .addColumn('holdout', 'integer', (c) => c.notNull())
    .addColumn('split_key', 'text')
    .addColumn('variant', 'text')
    .addColumn('prev_at', 'text')
    .addColumn('break_at', 'text')
    .addColumn('variant_from', 'text')
    .addColumn('run_variant', 'text')
    .addColumn('run_split_key', 'text')
    .addColumn('orders', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('revenue_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('window_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_entries_pk', ['store_id', 'workflow_id', 'started_at', 'run_id'])
  if (dialect === 'sqlite') table = table.modifyEnd(sql`without rowid`)
  await table.execute()
  await db.schema.createIndex('workflow_entries_customer').on('workflow_entries').columns(['store_id', 'customer_key']).execute()
  await db.schema
    .createIndex('workflow_entries_buyers')
    .on('workflow_entries')
    .columns(['store_id', 'workflow_id', 'started_at'])
    .where(sql<boolean>`orders > 0 or break_at is not null`)
    .execute()
  const stores = await db.selectFrom('stores').select('id').execute()
  for (const s of stores) await rebuildWorkflowEntries(db, s.id as string)
}
