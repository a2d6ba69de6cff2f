import type { Kysely } from 'kysely'

/**
 * Dashboard sign-in sessions (issue 14). Frozen once shipped: later changes go in new numbered
 * files. Sessions belong to the installation, like the users they sign in.
 *
 * - `token_hash`: sha256 (hex) of the random cookie value; the value itself is never stored, so a
 *   copy of the database signs no one in.
 * - `user_id`: the user; deleting the user deletes their sessions (and the lookup joins users, so
 *   a session of a user gone is dead either way).
 * - `csrf_token`: what every state-changing request signed in by this cookie must send back in
 *   `X-CSRF-Token`.
 * - `last_seen_at`: moved forward as the session is used (the idle timeout slides from it);
 *   `expires_at`: the absolute end, fixed at sign-in.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute()
  await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute()
}
