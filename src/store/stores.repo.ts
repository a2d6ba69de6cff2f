import { inTransaction } from './audit-log.repo.ts'
import { createHash, randomBytes } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import { DEFAULT_SETTINGS, brandOf, settingsPatchSchema, type Settings } from '../contracts/settings.ts'
import { isValidTimeZone } from '../core/time-zones.ts'
import { UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import type { Database, StoresTable } from './tables.ts'

export const DEFAULT_STORE = 'default'

export interface StoreSummary {
  id: string
  name: string
  currency: string
  timezone: string
  created_at: string
}

/** The `default` store exists from the first start. */
export async function ensureDefaultStore(db: Kysely<Database>, now: Date): Promise<void> {
  await db
    .insertInto('stores')
    .values({
      id: DEFAULT_STORE,
      name: 'My store',
      currency: 'USD',
      timezone: 'UTC',
      settings: JSON.stringify(DEFAULT_SETTINGS),
      created_at: now.toISOString(),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute()
}

export async function createStore(
  db: Kysely<Database>,
  input: { id: string; name?: string; currency?: string; timezone?: string },
  now: Date,
): Promise<StoreSummary> {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(input.id))
    throw new UserError(`store id "${input.id}" must be lower-case letters, digits, - and _`, { code: 'validation_failed', details: { field: 'id' } })
  if (input.currency && !/^[A-Z]{3}$/.test(input.currency))
    throw new UserError(`currency "${input.currency}" must be a 3-letter ISO code like USD`, { code: 'validation_failed', details: { field: 'currency' } })
  if (input.timezone && !isValidTimeZone(input.timezone)) {
    throw new UserError(`timezone "${input.timezone}" is not an IANA time zone like Europe/Berlin`, {
      code: 'validation_failed',
      details: { field: 'timezone' },
    })
  }
  const exists = await db.selectFrom('stores').select('id').where('id', '=', input.id).executeTakeFirst()
  if (exists) throw new UserError(`store "${input.id}" already exists`, { code: 'conflict' })
  const row = {
    id: input.id,
    name: input.name ?? input.id,
    currency: input.currency ?? 'USD',
    timezone: input.timezone ?? 'UTC',
    settings: JSON.stringify(DEFAULT_SETTINGS),
    created_at: now.toISOString(),
  }
  await db.insertInto('stores').values(row).execute()
  return { id: row.id, name: row.name, currency: row.currency, timezone: row.timezone, created_at: row.created_at }
}

export async function listStores(db: Kysely<Database>): Promise<StoreSummary[]> {
  return db.selectFrom('stores').select(['id', 'name', 'currency', 'timezone', 'created_at']).orderBy('id').execute()
}

export async function storeExists(db: Kysely<Database>, id: string): Promise<boolean> {
  return Boolean(await db.selectFrom('stores').select('id').where('id', '=', id).executeTakeFirst())
}

/** Never seeded: no workflows and no events in any store (a first start, or an empty database). */
export async function neverSeeded(db: Kysely<Database>): Promise<boolean> {
  const workflow = await db.selectFrom('workflows').select('id').limit(1).executeTakeFirst()
  if (workflow) return false
  const event = await db.selectFrom('events').select('seq').limit(1).executeTakeFirst()
  return !event
}

/**
 * The store's settings: the stored JSON over the defaults (`brand` key by key), and `store_name`,
 * which is the stores table's name column (what `store.name` is everywhere).
 */
export async function getSettings(db: Kysely<Database>, storeId: string): Promise<Settings & { store_name: string }> {
  const row = await db.selectFrom('stores').select(['name', 'settings']).where('id', '=', storeId).executeTakeFirst()
  if (!row) throw new UserError(`store "${storeId}" not found`, { code: 'not_found' })
  return settingsOf(row)
}

function settingsOf(row: { name: string; settings: string }): Settings & { store_name: string } {
  const stored = JSON.parse(row.settings) as Partial<Settings>
  const { store_name: _kept, ...rest } = { ...DEFAULT_SETTINGS, ...stored }
  return { store_name: row.name, ...rest, brand: brandOf(stored as Record<string, unknown>) }
}

export async function updateSettings(db: Kysely<Database>, storeId: string, patch: unknown): Promise<Settings & { store_name: string }> {
  const parsed = settingsPatchSchema.safeParse(patch)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const field = issue.path.join('.')
    throw new UserError(`${field || 'body'}: ${issue.message}`, { code: 'validation_failed', details: { field, issues: parsed.error.issues } })
  }
  return inTransaction(db, async (trx) => {
    const current = await getSettings(trx, storeId)
    const { store_name: name, brand, ...changes } = parsed.data
    const { store_name: currentName, ...kept } = current
    // brand changes only the keys it names; every other key is replaced whole
    const next = { ...kept, ...changes, brand: { ...current.brand, ...brand } }
    await trx
      .updateTable('stores')
      .set({ settings: JSON.stringify(next), ...(name !== undefined ? { name: name.trim() } : {}) })
      .where('id', '=', storeId)
      .execute()
    return { store_name: name !== undefined ? name.trim() : currentName, ...next }
  })
}

/** What makes a store itself beside its id: name, currency, time zone and settings (as stored). */
export type StoreProfile = Pick<Selectable<StoresTable>, 'name' | 'currency' | 'timezone' | 'settings'>

export async function getStoreProfile(db: Kysely<Database>, storeId: string): Promise<StoreProfile | undefined> {
  return db.selectFrom('stores').select(['name', 'currency', 'timezone', 'settings']).where('id', '=', storeId).executeTakeFirst()
}

export async function setStoreProfile(db: Kysely<Database>, storeId: string, profile: StoreProfile): Promise<void> {
  await db.updateTable('stores').set(profile).where('id', '=', storeId).execute()
}

export type KeyScope = 'ingest' | 'read' | 'admin'
export const KEY_SCOPES: KeyScope[] = ['ingest', 'read', 'admin']

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** Creates an API key; the key itself is returned once and only its hash is stored. */
export async function createKey(
  db: Kysely<Database>,
  storeId: string,
  scope: KeyScope,
  now: Date,
): Promise<{ id: string; key: string; scope: KeyScope; store: string }> {
  if (!KEY_SCOPES.includes(scope))
    throw new UserError(`scope must be one of ${KEY_SCOPES.join(', ')}`, { code: 'validation_failed', details: { field: 'scope' } })
  const store = await db.selectFrom('stores').select('id').where('id', '=', storeId).executeTakeFirst()
  if (!store) throw new UserError(`store "${storeId}" not found; create it with: storeflow stores create ${storeId}`, { code: 'not_found' })
  const key = `sf_${scope}_${randomBytes(24).toString('base64url')}`
  const id = newId('key_')
  await db
    .insertInto('api_keys')
    .values({ id, store_id: storeId, scope, key_hash: hashKey(key), prefix: key.slice(0, 12), created_at: now.toISOString(), revoked_at: null })
    .execute()
  return { id, key, scope, store: storeId }
}

export async function listKeys(
  db: Kysely<Database>,
  storeId?: string,
): Promise<Array<{ id: string; store: string; scope: string; prefix: string; created_at: string; revoked_at: string | null }>> {
  let q = db.selectFrom('api_keys').select(['id', 'store_id as store', 'scope', 'prefix', 'created_at', 'revoked_at']).orderBy('created_at')
  if (storeId) q = q.where('store_id', '=', storeId)
  return q.execute()
}

/** Revokes one of the store's keys; a key of another store is not found, as everywhere else. */
export async function revokeKey(db: Kysely<Database>, storeId: string, id: string, now: Date): Promise<void> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now.toISOString() })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  if (Number(result.numUpdatedRows) === 0)
    throw new UserError(`key "${id}" not found in store "${storeId}", or already revoked (a key of another store: pass its --store)`, { code: 'not_found' })
}

export async function findKey(db: Kysely<Database>, key: string): Promise<{ id: string; store: string; scope: KeyScope } | null> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'store_id', 'scope'])
    .where('key_hash', '=', hashKey(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return row ? { id: row.id, store: row.store_id, scope: row.scope as KeyScope } : null
}
