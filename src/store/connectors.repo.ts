import { createHmac } from 'node:crypto'
import type { Kysely, Selectable, Transaction } from 'kysely'
import { isPlatform, PLATFORMS } from '../connectors/registry.ts'
import type { ConnectorCredentials, Platform } from '../connectors/types.ts'
import { UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { open, seal } from '../lib/secret-box.ts'
import type { ConnectorsTable, Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** How a connector is shown by the API and the CLI: never a secret, at most its last 4 characters. */
export interface ConnectorView {
  id: string
  store: string
  platform: Platform
  shop_domain: string | null
  api_url: string | null
  secret_set: boolean
  /** how many webhook secrets are valid (2 while rotating) */
  secret_count: number
  /** last 4 characters of each secret, only for secrets of 12 characters or more */
  /** a keyed fingerprint of each secret (HMAC with STOREFLOW_SECRET_KEY), to tell them apart without showing them */
  secret_fingerprints: string[]
  access_token_set: boolean
  created_at: string
  updated_at: string
}

/** A connector with its secrets opened, for verification and the shop's API; never leaves the process. */
export interface ConnectorWithCredentials {
  id: string
  store: string
  platform: Platform
  credentials: ConnectorCredentials
}

export interface ConnectorInput {
  platform: string
  secrets: string[]
  shop_domain?: string | null
  api_url?: string | null
  access_token?: string | null
}

const secretsContext = (id: string) => `connector:${id}:secrets`
const tokenContext = (id: string) => `connector:${id}:access_token`

function validate(input: ConnectorInput, partial = false): void {
  if (!partial && !isPlatform(input.platform)) {
    throw new UserError(`platform: must be one of ${PLATFORMS.join(', ')}, got "${input.platform}"`, {
      code: 'validation_failed',
      details: { field: 'platform' },
    })
  }
  if (
    !Array.isArray(input.secrets) ||
    input.secrets.length < 1 ||
    input.secrets.length > 2 ||
    input.secrets.some((s) => typeof s !== 'string' || s.trim() === '')
  ) {
    throw new UserError('secrets: give 1 webhook secret, or 2 while rotating (--secret twice)', { code: 'validation_failed', details: { field: 'secrets' } })
  }
  if (input.api_url != null) {
    let url: URL
    try {
      url = new URL(input.api_url)
    } catch {
      throw new UserError(`api_url: "${input.api_url}" is not a URL; BigCommerce's is https://api.bigcommerce.com/stores/{store_hash}`, {
        code: 'validation_failed',
        details: { field: 'api_url' },
      })
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new UserError('api_url: must be an http(s) URL', { code: 'validation_failed', details: { field: 'api_url' } })
  }
  if ((input.api_url == null) !== (input.access_token == null) && input.platform === 'bigcommerce') {
    throw new UserError('api_url and access_token go together (BigCommerce fetches each resource a webhook names)', {
      code: 'validation_failed',
      details: { field: input.api_url == null ? 'api_url' : 'access_token' },
    })
  }
}

export async function createConnector(db: Db, secretKey: string, storeId: string, input: ConnectorInput, now: Date): Promise<ConnectorView> {
  validate(input)
  const store = await db.selectFrom('stores').select('id').where('id', '=', storeId).executeTakeFirst()
  if (!store) throw new UserError(`store "${storeId}" not found; create it with: storeflow stores create ${storeId}`, { code: 'not_found' })
  const id = newId('con_')
  const row: Selectable<ConnectorsTable> = {
    id,
    store_id: storeId,
    platform: input.platform,
    secrets: seal(secretKey, JSON.stringify(input.secrets.map((s) => s.trim())), secretsContext(id)),
    shop_domain: input.shop_domain?.trim().toLowerCase() || null,
    api_url: input.api_url?.trim().replace(/\/+$/, '') || null,
    access_token: input.access_token ? seal(secretKey, input.access_token, tokenContext(id)) : null,
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
  }
  await db.insertInto('connectors').values(row).execute()
  return toView(row, secretKey)
}

/** Replaces the secrets (rotation: give the old and the new one, later only the new one) and/or settings. */
export async function updateConnector(
  db: Db,
  secretKey: string,
  storeId: string,
  id: string,
  patch: Partial<ConnectorInput>,
  now: Date,
): Promise<ConnectorView> {
  const row = await getRow(db, storeId, id)
  const values: Partial<Selectable<ConnectorsTable>> = { updated_at: now.toISOString() }
  if (patch.secrets !== undefined) {
    validate({ platform: row.platform, secrets: patch.secrets }, true)
    values.secrets = seal(secretKey, JSON.stringify(patch.secrets.map((s) => s.trim())), secretsContext(id))
  }
  if (patch.shop_domain !== undefined) values.shop_domain = patch.shop_domain?.trim().toLowerCase() || null
  if (patch.api_url !== undefined) {
    validate({ platform: row.platform, secrets: ['x'], api_url: patch.api_url, access_token: 'x' }, true)
    values.api_url = patch.api_url?.trim().replace(/\/+$/, '') || null
  }
  if (patch.access_token !== undefined) values.access_token = patch.access_token ? seal(secretKey, patch.access_token, tokenContext(id)) : null
  await db.updateTable('connectors').set(values).where('id', '=', id).execute()
  return toView({ ...row, ...values }, secretKey)
}

async function getRow(db: Db, storeId: string, id: string): Promise<Selectable<ConnectorsTable>> {
  const row = await db.selectFrom('connectors').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (!row) throw new UserError(`connector "${id}" not found in store "${storeId}"`, { code: 'not_found' })
  return row
}

export async function getConnector(db: Db, secretKey: string, storeId: string, id: string): Promise<ConnectorView> {
  return toView(await getRow(db, storeId, id), secretKey)
}

export async function listConnectors(db: Db, secretKey: string, storeId: string): Promise<ConnectorView[]> {
  const rows = await db.selectFrom('connectors').selectAll().where('store_id', '=', storeId).orderBy('created_at').orderBy('id').execute()
  return rows.map((r) => toView(r, secretKey))
}

/** Removes the connector; its past deliveries stay until they age out (30 days). */
export async function removeConnector(db: Db, storeId: string, id: string): Promise<void> {
  await getRow(db, storeId, id)
  await db.deleteFrom('connector_signature_failures').where('connector_id', '=', id).execute()
  await db.deleteFrom('connectors').where('id', '=', id).execute()
}

/** The store's connectors for one platform, secrets opened: what the webhook route verifies against. */
export async function connectorsFor(db: Db, secretKey: string, storeId: string, platform: Platform): Promise<ConnectorWithCredentials[]> {
  const rows = await db.selectFrom('connectors').selectAll().where('store_id', '=', storeId).where('platform', '=', platform).orderBy('created_at').execute()
  return rows.map((r) => withCredentials(r, secretKey))
}

export async function connectorById(db: Db, secretKey: string, id: string): Promise<ConnectorWithCredentials | null> {
  const row = await db.selectFrom('connectors').selectAll().where('id', '=', id).executeTakeFirst()
  return row ? withCredentials(row, secretKey) : null
}

function withCredentials(row: Selectable<ConnectorsTable>, secretKey: string): ConnectorWithCredentials {
  return {
    id: row.id,
    store: row.store_id,
    platform: row.platform as Platform,
    credentials: {
      secrets: JSON.parse(open(secretKey, row.secrets, secretsContext(row.id))) as string[],
      shopDomain: row.shop_domain,
      apiUrl: row.api_url,
      accessToken: row.access_token ? open(secretKey, row.access_token, tokenContext(row.id)) : null,
    },
  }
}

function toView(row: Selectable<ConnectorsTable>, secretKey: string): ConnectorView {
  let secrets: string[] = []
  try {
    secrets = JSON.parse(open(secretKey, row.secrets, secretsContext(row.id))) as string[]
  } catch {
    // unreadable under this STOREFLOW_SECRET_KEY: shown as set, with no fingerprints
  }
  return {
    id: row.id,
    store: row.store_id,
    platform: row.platform as Platform,
    shop_domain: row.shop_domain,
    api_url: row.api_url,
    secret_set: row.secrets !== '',
    secret_count: secrets.length,
    secret_fingerprints: secrets.map((s) => createHmac('sha256', secretKey).update(`connector-secret:${s}`).digest('hex').slice(0, 12)),
    access_token_set: row.access_token !== null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}

/**
 * Counts deliveries refused for their signature: nothing of a delivery is kept, only this hourly
 * counter. `count` failures at once (the HTTP layer tallies them in memory and writes them together,
 * so a flood of bad deliveries is not a write per delivery), the last at `now`.
 */
export async function recordSignatureFailure(db: Db, connectorIds: string[], reason: string, now: Date, count = 1): Promise<void> {
  const hour = now.toISOString().slice(0, 13)
  const at = now.toISOString()
  for (const connectorId of connectorIds) {
    await db
      .insertInto('connector_signature_failures')
      .values({ connector_id: connectorId, hour, count, last_at: at, last_reason: reason.slice(0, 300) })
      .onConflict((oc) =>
        oc
          .columns(['connector_id', 'hour'])
          .doUpdateSet((eb) => ({ count: eb('connector_signature_failures.count', '+', count), last_at: at, last_reason: reason.slice(0, 300) })),
      )
      .execute()
  }
}

/** Every connector of the installation and whether its sealed secrets open under `secretKey` (storeflow doctor); nothing opened leaves here. */
export async function connectorSealCheck(
  db: Db,
  secretKey: string,
): Promise<Array<{ id: string; store: string; platform: string; api_url: string | null; opens: boolean }>> {
  const rows = await db.selectFrom('connectors').selectAll().orderBy('store_id').orderBy('created_at').orderBy('id').execute()
  return rows.map((r) => {
    let opens = true
    try {
      withCredentials(r, secretKey)
    } catch {
      opens = false
    }
    return { id: r.id, store: r.store_id, platform: r.platform, api_url: r.api_url, opens }
  })
}
