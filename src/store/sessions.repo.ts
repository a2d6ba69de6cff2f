import { createHash, randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from './tables.ts'
import type { UsersTable } from './users.repo.ts'

/** The `sessions` table (migration 0022-sessions): dashboard sign-ins, installation-wide. */
export interface SessionsTable {
  token_hash: string
  user_id: string
  csrf_token: string
  created_at: string
  last_seen_at: string
  expires_at: string
}

export interface SessionRecord {
  token_hash: string
  csrf_token: string
  created_at: string
  last_seen_at: string
  expires_at: string
  user: { id: string; email: string; role: string }
}

type Db = Kysely<Database & { users: UsersTable; sessions: SessionsTable }>
const withSessions = (db: Kysely<Database>): Db => db as unknown as Db

/** sha256 hex of a session token: what the table holds instead of the token. */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** A new session: 32 random bytes (base64url) for the cookie, stored hashed, and a CSRF token of the same strength. */
export async function createSession(db: Kysely<Database>, userId: string, now: Date, expiresAt: Date): Promise<{ token: string; csrf_token: string }> {
  const token = randomBytes(32).toString('base64url')
  const csrf = randomBytes(32).toString('base64url')
  const at = now.toISOString()
  await withSessions(db)
    .insertInto('sessions')
    .values({ token_hash: hashSessionToken(token), user_id: userId, csrf_token: csrf, created_at: at, last_seen_at: at, expires_at: expiresAt.toISOString() })
    .execute()
  return { token, csrf_token: csrf }
}

/** The session a token names, with its user (a session of a user deleted is not found), or null; expiry is the caller's. */
export async function findSession(db: Kysely<Database>, token: string): Promise<SessionRecord | null> {
  const row = await withSessions(db)
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.token_hash',
      'sessions.csrf_token',
      'sessions.created_at',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'users.id as user_id',
      'users.email',
      'users.role',
    ])
    .where('sessions.token_hash', '=', hashSessionToken(token))
    .executeTakeFirst()
  if (!row) return null
  const { user_id, email, role, ...session } = row
  return { ...session, user: { id: user_id, email, role } }
}

export async function touchSession(db: Kysely<Database>, tokenHash: string, now: Date): Promise<void> {
  await withSessions(db).updateTable('sessions').set({ last_seen_at: now.toISOString() }).where('token_hash', '=', tokenHash).execute()
}

export async function deleteSession(db: Kysely<Database>, tokenHash: string): Promise<void> {
  await withSessions(db).deleteFrom('sessions').where('token_hash', '=', tokenHash).execute()
}

/** Drops sessions past their absolute end or idle since before `idleBefore`; answers how many. */
export async function deleteExpiredSessions(db: Kysely<Database>, now: Date, idleBefore: Date): Promise<number> {
  const result = await withSessions(db)
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now.toISOString()), eb('last_seen_at', '<=', idleBefore.toISOString())]))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
