import type { Kysely } from 'kysely'

/**
 * How many hand-overs of a message were cut off before the far side answered (the SMTP server
 * may hold a copy of each): a message is handed over again after one such cut (and flagged a
 * possible duplicate), never after a second (actions/messaging/send-once.ts). Frozen once shipped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('handovers', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
}
