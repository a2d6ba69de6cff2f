import type { Kysely, Transaction } from 'kysely'
import type { ScheduledWorkflowHead, ScheduleRecord } from '../engine/ports.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** Schedules and what they are made from; the invariants are in migrations/0007-schedules.ts. */
export async function scheduledWorkflows(db: Db, triggerType: string): Promise<ScheduledWorkflowHead[]> {
  return db
    .selectFrom('workflows')
    .innerJoin('stores', 'stores.id', 'workflows.store_id')
    .select(['workflows.store_id', 'workflows.id', 'workflows.version', 'workflows.updated_at', 'stores.timezone as store_timezone'])
    .where('workflows.trigger_type', '=', triggerType)
    .where('workflows.active', '=', 1)
    .orderBy('workflows.store_id')
    .orderBy('workflows.id')
    .execute()
}

export async function storeTimeZones(db: Db): Promise<Array<{ id: string; timezone: string }>> {
  return db.selectFrom('stores').select(['id', 'timezone']).orderBy('id').execute()
}

export async function listSchedules(db: Db): Promise<ScheduleRecord[]> {
  return db.selectFrom('schedules').select(['store_id', 'key', 'workflow_id', 'cron', 'timezone', 'next_at']).orderBy('store_id').orderBy('key').execute()
}

export async function putSchedule(db: Db, schedule: ScheduleRecord, now: Date): Promise<void> {
  const at = now.toISOString()
  await db
    .insertInto('schedules')
    .values({ ...schedule, last_at: null, updated_at: at })
    // a second worker putting the same schedule at once changes nothing
    .onConflict((oc) =>
      oc
        .columns(['store_id', 'key'])
        .doUpdateSet((eb) => ({
          workflow_id: eb.ref('excluded.workflow_id'),
          cron: eb.ref('excluded.cron'),
          timezone: eb.ref('excluded.timezone'),
          next_at: eb.ref('excluded.next_at'),
          updated_at: at,
        }))
        .where((eb) => eb.or([eb('schedules.cron', '!=', eb.ref('excluded.cron')), eb('schedules.timezone', '!=', eb.ref('excluded.timezone'))])),
    )
    .execute()
}

export async function deleteSchedule(db: Db, storeId: string, key: string, scheduleTriggerType: string): Promise<void> {
  await db
    .deleteFrom('schedules')
    .where('store_id', '=', storeId)
    .where('key', '=', key)
    // decided by the statement, not by what the caller read: a workflow activated since stays scheduled
    .where((eb) =>
      eb.or([
        eb('workflow_id', 'is', null),
        eb.not(
          eb.exists(
            eb
              .selectFrom('workflows')
              .select('workflows.id')
              .whereRef('workflows.store_id', '=', 'schedules.store_id')
              .whereRef('workflows.id', '=', 'schedules.workflow_id')
              .where('workflows.active', '=', 1)
              .where('workflows.trigger_type', '=', scheduleTriggerType),
          ),
        ),
      ]),
    )
    .execute()
}

export async function advanceSchedule(
  db: Db,
  storeId: string,
  key: string,
  expectedNextAt: string,
  nextAt: string | null,
  firedAt: string,
  now: Date,
): Promise<boolean> {
  // PostgreSQL: a second worker's UPDATE waits for the first one's row lock, then finds next_at
  // moved and updates nothing; SQLite has one writer
  const result = await db
    .updateTable('schedules')
    .set({ next_at: nextAt, last_at: firedAt, updated_at: now.toISOString() })
    .where('store_id', '=', storeId)
    .where('key', '=', key)
    .where('next_at', '=', expectedNextAt)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
