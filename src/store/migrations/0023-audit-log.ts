import type { Kysely } from 'kysely'

/**
 * The audit log (issue 15): who changed a store's workflows, keys, connectors, settings and
 * integrations, and when. One row per change, written in the transaction of the change where the
 * change is one. Frozen once shipped: later changes go in new numbered files.
 *
 * - `actor`: `key:<api key id>` for the HTTP API, `cli:<os user>` for the command line, later
 *   `user:<email>` for dashboard sessions, `system` for anything else.
 * - `action`: `workflow.saved`, `key.created`, `connector.removed`, … (services/audit-log.ts).
 * - `target_id`: the workflow, key or connector id, the integration kind; `''` for the store's settings.
 * - `details`: a JSON object of what changed, never a secret.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('audit_log_store_at').on('audit_log').columns(['store_id', 'at', 'id']).execute()
}
