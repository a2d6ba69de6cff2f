import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { Kysely } from 'kysely'
import { UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import type { Database } from './tables.ts'

/** The `users` table (migration 0002-users); dashboard sign-ins for the whole installation. */
export interface UsersTable {
  id: string
  email: string
  password_hash: string
  role: string
  created_at: string
  updated_at: string
}

export interface UserSummary {
  id: string
  email: string
  role: string
  created_at: string
}

type Db = Kysely<Database & { users: UsersTable }>
const withUsers = (db: Kysely<Database>): Db => db as unknown as Db

/** scrypt cost: N=2^15, r=8, p=1 (≈ 32 MiB, ≈ 50 ms), as OWASP suggests for scrypt */
const SCRYPT = { N: 32768, r: 8, p: 1, keyLength: 32 } as const
export const MIN_PASSWORD_LENGTH = 8

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))))
}

/** `scrypt$N$r$p$salt$hash` with base64url salt and hash: the parameters travel with the hash. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 128 * SCRYPT.N * SCRYPT.r * 2 })
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$')
  if (kind !== 'scrypt' || !n || !r || !p || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const N = Number(n)
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N, r: Number(r), p: Number(p), maxmem: 128 * N * Number(r) * 2 })
  return key.length === expected.length && timingSafeEqual(key, expected)
}

export function normaliseEmail(email: string): string {
  const e = email.trim().toLowerCase()
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e))
    throw new UserError(`"${email}" is not an email address`, { code: 'validation_failed', details: { field: 'email' } })
  return e
}

/** Creates a dashboard user; the password is stored scrypt-hashed, never as given. */
export async function createUser(db: Kysely<Database>, input: { email: string; password: string; role?: string }, now: Date): Promise<UserSummary> {
  const email = normaliseEmail(input.email)
  if (input.password.length < MIN_PASSWORD_LENGTH)
    throw new UserError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`, { code: 'validation_failed', details: { field: 'password' } })
  const existing = await withUsers(db).selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()
  if (existing) throw new UserError(`user "${email}" already exists`, { code: 'conflict' })
  const at = now.toISOString()
  const row: UsersTable = {
    id: newId('usr_'),
    email,
    password_hash: await hashPassword(input.password),
    role: input.role ?? 'admin',
    created_at: at,
    updated_at: at,
  }
  await withUsers(db).insertInto('users').values(row).execute()
  return { id: row.id, email, role: row.role, created_at: at }
}

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<UsersTable | null> {
  const row = await withUsers(db).selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst()
  return row ?? null
}

/** The user when the email and password match, else null (the same answer for both failures). */
export async function authenticateUser(db: Kysely<Database>, email: string, password: string): Promise<UserSummary | null> {
  const row = await findUserByEmail(db, email)
  if (!row || !(await verifyPassword(password, row.password_hash))) return null
  return { id: row.id, email: row.email, role: row.role, created_at: row.created_at }
}

export async function listUsers(db: Kysely<Database>): Promise<UserSummary[]> {
  return withUsers(db).selectFrom('users').select(['id', 'email', 'role', 'created_at']).orderBy('email').execute()
}

export async function countUsers(db: Kysely<Database>): Promise<number> {
  const row = await withUsers(db)
    .selectFrom('users')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Deletes a user and, with them, every session they hold; false when there was no such user. */
export async function deleteUser(db: Kysely<Database>, email: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await withUsers(trx).selectFrom('users').select('id').where('email', '=', email.trim().toLowerCase()).executeTakeFirst()
    if (!row) return false
    // the foreign key cascades too; said here so it does not depend on it
    await (trx as unknown as Kysely<{ sessions: { user_id: string } }>).deleteFrom('sessions').where('user_id', '=', row.id).execute()
    await withUsers(trx).deleteFrom('users').where('id', '=', row.id).execute()
    return true
  })
}
