import type { Kysely } from 'kysely'

/**
 * Insight (issue 13): when a message was first opened, first clicked, and when its unsubscribe
 * link was first used. The per-workflow counters (workflow_stats_daily) count unique messages:
 * the router sets each of these once, in the transaction that routes the event, and counts the
 * message only when it was the one to set it (store/workflow-stats.repo.ts), so a second open,
 * a click on another link or a replayed event counts nothing. Frozen once shipped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('first_opened_at', 'text').execute()
  await db.schema.alterTable('messages').addColumn('first_clicked_at', 'text').execute()
  await db.schema.alterTable('messages').addColumn('unsubscribed_at', 'text').execute()
}
