import type { Kysely } from 'kysely'
import type { Database } from './tables.ts'

/** Failed sign-ins, one row per failure and key (migration 0027). */
export interface SignInFailuresTable {
  key_hash: string
  failed_at: string
}

/** The times of the key's failures after `since`, newest first, at most `limit`. */
export async function signInFailuresSince(db: Kysely<Database>, keyHash: string, since: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('sign_in_failures')
    .select('failed_at')
    .where('key_hash', '=', keyHash)
    .where('failed_at', '>', since.toISOString())
    .orderBy('failed_at', 'desc')
    .limit(limit)
    .execute()
  return rows.map((r) => r.failed_at)
}

/** Records a failure against each key, and drops every failure older than `forgetBefore` (of any key). */
export async function recordSignInFailure(db: Kysely<Database>, keyHashes: string[], at: Date, forgetBefore: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('sign_in_failures').where('failed_at', '<=', forgetBefore.toISOString()).execute()
    await trx
      .insertInto('sign_in_failures')
      .values(keyHashes.map((key_hash) => ({ key_hash, failed_at: at.toISOString() })))
      .execute()
  })
}

/** Forgets the key's failures (a right password for that email from that client). */
export async function clearSignInFailures(db: Kysely<Database>, keyHash: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('key_hash', '=', keyHash).execute()
}
