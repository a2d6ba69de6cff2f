import type { Kysely } from 'kysely'

/**
 * How many hand-overs of a message started without an answer coming back (`handovers`: the far
 * side may hold a copy of each), and how many of those the sender saw cut off by the connection
 * (`handovers_cut`; the others ended with the sender itself, killed mid-hand-over). A message is
 * not handed over a third time after one of them was seen cut (actions/messaging/send-once.ts).
 * Frozen once shipped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('handovers', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('messages')
    .addColumn('handovers_cut', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
}
