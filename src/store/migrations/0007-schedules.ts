import { sql, type Kysely } from 'kysely'

/**
 * Schedules: one row per schedule a worker fires (a workflow's `cron:` trigger, a derived
 * trigger's schedule), holding its next tick. Frozen once shipped: later changes go in new
 * numbered files.
 *
 * A worker records a tick only by moving `next_at` past it with `UPDATE … WHERE next_at = <the
 * tick it read>`, in the transaction that stores the tick's event: of several workers, exactly
 * one moves it, and the tick's event and run commit with that move or not at all.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('schedules')
    .addColumn('store_id', 'text', (c) => c.notNull())
    /** `workflow:<workflow id>` or `trigger:<derived event type>` */
    .addColumn('key', 'text', (c) => c.notNull())
    /** the workflow the schedule starts; null for a derived trigger's */
    .addColumn('workflow_id', 'text')
    .addColumn('cron', 'text', (c) => c.notNull())
    /** the IANA zone the expression is read in */
    .addColumn('timezone', 'text', (c) => c.notNull())
    /** the next tick (UTC ISO); null when the expression never fires again */
    .addColumn('next_at', 'text')
    /** the last tick recorded */
    .addColumn('last_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('schedules_pk', ['store_id', 'key'])
    .execute()
  await db.schema.createIndex('schedules_next_idx').on('schedules').columns(['next_at']).execute()

  // Cron workflows already active were never fired before this version. Without a row, the first
  // pass would count from their last save and fire a "missed" tick at once (a Monday newsletter
  // sent on the Wednesday of the upgrade). A row with no cron yet reads as a changed schedule,
  // which counts from the pass that first sees it: their first tick is their next one.
  const now = new Date().toISOString()
  await sql`
    insert into schedules (store_id, key, workflow_id, cron, timezone, next_at, last_at, updated_at)
    select store_id, 'workflow:' || id, id, '', '', null, null, ${now}
    from workflows where active = 1 and trigger_type = 'schedule.tick'
  `.execute(db)
}
