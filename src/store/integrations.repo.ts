import { createHash, timingSafeEqual } from 'node:crypto'
import type { Kysely, Selectable, Transaction } from 'kysely'
import { UserError } from '../lib/errors.ts'
import { open, seal } from '../lib/secret-box.ts'
import type { Database } from './tables.ts'
import type { IntegrationsTable } from './remote-tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * A store's credentials for the remote services its actions call (create_shipping_label,
 * post_social, sync_audience). Not connectors: a connector is a shop that sends webhooks and
 * maps them to events (its registry, verify and map); these are APIs storeflow calls, one per
 * store and kind, with settings of their own (a ship-from address, profile ids). The secrets are
 * sealed with STOREFLOW_SECRET_KEY like a connector's and never shown again.
 */
export const INTEGRATION_KINDS = {
  /** Shippo (https://docs.goshippo.com): `api_token` (ShippoToken), `webhook_token` (the ?token= of the tracking webhook URL) */
  shippo: { base: 'https://api.goshippo.com', secrets: ['api_token', 'webhook_token'] },
  /** Buffer's publish API (https://buffer.com/developers/api): `access_token` */
  buffer: { base: 'https://api.bufferapp.com', secrets: ['access_token'] },
  /** Meta Marketing API, Custom Audiences: `access_token` (ads_management) */
  meta_ads: { base: 'https://graph.facebook.com/v21.0', secrets: ['access_token'] },
  /** The team's chat incoming webhook for notify_team: `webhook_url` (a secret: Slack's carries its token); api_url is not used */
  team_chat: { base: 'https://hooks.slack.com', secrets: ['webhook_url'] },
} as const

export type IntegrationKind = keyof typeof INTEGRATION_KINDS

export function isIntegrationKind(kind: string): kind is IntegrationKind {
  return Object.hasOwn(INTEGRATION_KINDS, kind)
}

export interface IntegrationInput {
  api_url?: string | null
  credentials: Record<string, string>
  config?: Record<string, unknown>
}

/** How the API shows an integration: which secrets are set, never their values. */
export interface IntegrationView {
  store: string
  kind: IntegrationKind
  api_url: string
  api_url_overridden: boolean
  credentials_set: string[]
  config: Record<string, unknown>
  created_at: string
  updated_at: string
}

/** An integration with its secrets opened, for the actions' calls; never leaves the process. */
export interface OpenIntegration {
  kind: IntegrationKind
  apiUrl: string
  credentials: Record<string, string>
  config: Record<string, unknown>
}

/** Shortest Shippo webhook token taken: 16 random characters are out of reach of guessing over HTTP */
const MIN_WEBHOOK_TOKEN = 16

/** Longest secret taken, characters: real API tokens are a few hundred at most */
const MAX_CREDENTIAL = 4096

/** a character below U+0020 or DEL: no header or form field carries one */
const hasControlCharacter = (text: string) => [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)

const context = (storeId: string, kind: string) => `integration:${storeId}:${kind}`
const invalid = (field: string, message: string) => new UserError(`${field}: ${message}`, { code: 'validation_failed', details: { field } })

function kindOf(kind: string): IntegrationKind {
  if (!isIntegrationKind(kind)) throw invalid('kind', `must be one of ${Object.keys(INTEGRATION_KINDS).join(', ')}, got "${kind}"`)
  return kind
}

function validate(kind: IntegrationKind, input: unknown): Required<IntegrationInput> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw invalid('body', 'must be a JSON object')
  const b = input as Record<string, unknown>
  let apiUrl: string | null = null
  if (b.api_url != null) {
    if (typeof b.api_url !== 'string') throw invalid('api_url', 'must be a string')
    let url: URL
    try {
      url = new URL(b.api_url)
    } catch {
      throw invalid('api_url', `"${b.api_url}" is not a URL; the default is ${INTEGRATION_KINDS[kind].base}`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('api_url', 'must be an http(s) URL')
    apiUrl = b.api_url.trim().replace(/\/+$/, '')
  }
  const creds = b.credentials
  if (!creds || typeof creds !== 'object' || Array.isArray(creds))
    throw invalid('credentials', `must be an object with ${INTEGRATION_KINDS[kind].secrets.join(', ')}`)
  const credentials: Record<string, string> = {}
  for (const name of INTEGRATION_KINDS[kind].secrets) {
    const v = (creds as Record<string, unknown>)[name]
    if (typeof v !== 'string' || v.trim() === '') throw invalid(`credentials.${name}`, 'required, a non-empty string')
    // sent as a header or a form field on every call: a control character would fail each run, not here
    if (hasControlCharacter(v.trim()) || v.trim().length > MAX_CREDENTIAL)
      throw invalid(`credentials.${name}`, `must be at most ${MAX_CREDENTIAL} characters with no line break or other control character`)
    credentials[name] = v.trim()
  }
  if (kind === 'team_chat' && !isHttpUrl(credentials.webhook_url!)) throw invalid('credentials.webhook_url', 'must be an http(s) URL')
  // the tracking webhook's only credential, presented in its URL: short enough to guess, it would let anyone forge shipment updates
  if (kind === 'shippo' && credentials.webhook_token !== undefined && credentials.webhook_token.length < MIN_WEBHOOK_TOKEN)
    throw invalid(
      'credentials.webhook_token',
      `must be at least ${MIN_WEBHOOK_TOKEN} characters (e.g. \`openssl rand -hex 16\`): it is the only credential of the tracking webhook URL`,
    )
  const config = b.config ?? {}
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid('config', 'must be an object')
  if (JSON.stringify(config).length > 16_384) throw invalid('config', 'must be at most 16 KiB of JSON')
  return { api_url: apiUrl, credentials, config: config as Record<string, unknown> }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'https:' || url.protocol === 'http:'
  } catch {
    return false
  }
}

/** Sets (creates or replaces) the store's integration of this kind. */
export async function putIntegration(db: Db, secretKey: string, storeId: string, kindName: string, input: unknown, now: Date): Promise<IntegrationView> {
  const kind = kindOf(kindName)
  const v = validate(kind, input)
  const row: Selectable<IntegrationsTable> = {
    store_id: storeId,
    kind,
    api_url: v.api_url,
    credentials: seal(secretKey, JSON.stringify(v.credentials), context(storeId, kind)),
    config: JSON.stringify(v.config),
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
  }
  const existing = await db.selectFrom('integrations').select('created_at').where('store_id', '=', storeId).where('kind', '=', kind).executeTakeFirst()
  if (existing) {
    row.created_at = existing.created_at
    await db.updateTable('integrations').set(row).where('store_id', '=', storeId).where('kind', '=', kind).execute()
  } else {
    await db.insertInto('integrations').values(row).execute()
  }
  return toView(row, Object.keys(v.credentials))
}

export async function listIntegrations(db: Db, secretKey: string, storeId: string): Promise<IntegrationView[]> {
  const rows = await db.selectFrom('integrations').selectAll().where('store_id', '=', storeId).orderBy('kind').execute()
  return rows.map((r) => toView(r, secretNames(r, secretKey)))
}

export async function removeIntegration(db: Db, storeId: string, kindName: string): Promise<void> {
  const kind = kindOf(kindName)
  const res = await db.deleteFrom('integrations').where('store_id', '=', storeId).where('kind', '=', kind).executeTakeFirst()
  if (Number(res.numDeletedRows) === 0) throw new UserError(`integration "${kind}" not found in store "${storeId}"`, { code: 'not_found' })
}

/** The store's integration of this kind with its secrets opened, or null: only ever this store's row. */
export async function integrationFor(db: Db, secretKey: string, storeId: string, kind: IntegrationKind): Promise<OpenIntegration | null> {
  const row = await db.selectFrom('integrations').selectAll().where('store_id', '=', storeId).where('kind', '=', kind).executeTakeFirst()
  if (!row) return null
  return {
    kind,
    apiUrl: row.api_url ?? INTEGRATION_KINDS[kind].base,
    credentials: JSON.parse(open(secretKey, row.credentials, context(storeId, kind))) as Record<string, string>,
    config: JSON.parse(row.config) as Record<string, unknown>,
  }
}

/** Constant-time comparison of a presented webhook token with the stored one. */
export function tokenMatches(presented: string, expected: string): boolean {
  // digests of both, so the comparison takes the same time whatever the lengths: a wrong length
  // answers no sooner than a wrong token, and the token's length is not told
  const a = createHash('sha256').update(presented, 'utf8').digest()
  const b = createHash('sha256').update(expected, 'utf8').digest()
  return timingSafeEqual(a, b)
}

function secretNames(row: Selectable<IntegrationsTable>, secretKey: string): string[] {
  try {
    return Object.keys(JSON.parse(open(secretKey, row.credentials, context(row.store_id, row.kind))) as object)
  } catch {
    return []
  }
}

function toView(row: Selectable<IntegrationsTable>, credentialsSet: string[]): IntegrationView {
  const kind = row.kind as IntegrationKind
  return {
    store: row.store_id,
    kind,
    api_url: row.api_url ?? INTEGRATION_KINDS[kind].base,
    api_url_overridden: row.api_url !== null,
    credentials_set: credentialsSet,
    config: JSON.parse(row.config) as Record<string, unknown>,
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}

/** Every integration of the installation and whether its sealed credentials open under `secretKey` (storeflow doctor); nothing opened leaves here. */
export async function integrationSealCheck(db: Db, secretKey: string): Promise<Array<{ store: string; kind: string; opens: boolean }>> {
  const rows = await db.selectFrom('integrations').selectAll().orderBy('store_id').orderBy('kind').execute()
  return rows.map((r) => {
    let opens = true
    try {
      JSON.parse(open(secretKey, r.credentials, context(r.store_id, r.kind)))
    } catch {
      opens = false
    }
    return { store: r.store_id, kind: r.kind, opens }
  })
}
