import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { verifySmtp } from '../actions/send-email/smtp.ts'
import type { Config } from '../config.ts'
import { createOutboundClient, OutboundError, ResponseTooLargeError, type OutboundClient, type Resolver } from '../lib/guarded-request.ts'
import { errorMessage } from '../lib/errors.ts'
import { connectorSealCheck } from '../store/connectors.repo.ts'
import { isPostgresUrl, openDatabase, postgresAddress, type DatabaseHandle } from '../store/db.ts'
import { integrationSealCheck } from '../store/integrations.repo.ts'
import { migrationStatus } from '../store/migrate.ts'

/**
 * `storeflow doctor`: what an operator checks before blaming storeflow. Each check answers ok,
 * warn or fail with one line of reason and, unless ok, one line of what to do. It changes
 * nothing: no migration is applied, no database file is made, no mail is sent; what it reaches
 * (SMTP, a shop's API) it reaches with a short timeout, and it never prints a secret.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface DoctorCheck {
  name: string
  status: CheckStatus
  reason: string
  /** what to do about it; null when ok */
  fix: string | null
}

export interface DoctorReport {
  /** no check failed */
  ok: boolean
  checks: DoctorCheck[]
}

export interface DoctorOptions {
  /** environment the configuration came from (to tell what is set from what defaulted) */
  env?: NodeJS.ProcessEnv
  /** how long SMTP and a shop's API get to answer, ms; default 5000 */
  timeoutMs?: number
  /** tests answer host names from a table */
  resolveHost?: Resolver
}

const ok = (name: string, reason: string): DoctorCheck => ({ name, status: 'ok', reason, fix: null })
const warn = (name: string, reason: string, fix: string): DoctorCheck => ({ name, status: 'warn', reason, fix })
const fail = (name: string, reason: string, fix: string): DoctorCheck => ({ name, status: 'fail', reason, fix })

/** `text` with every given secret (and its URL-encoded form) replaced by `***`: error messages can quote what they were given. */
function redact(text: string, secrets: Array<string | undefined>): string {
  let out = text
  for (const s of secrets) {
    if (!s || s.length < 3) continue
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***')
  }
  return out.split('\n')[0]!
}

export async function runDoctor(config: Config, options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env
  const timeoutMs = options.timeoutMs ?? 5_000
  const checks: DoctorCheck[] = []
  const handle = await databaseChecks(config, checks)
  try {
    const sealed = await secretKeyCheck(config, env, handle, checks)
    checks.push(await smtpCheck(config, timeoutMs))
    const outbound = createOutboundClient({
      allowPrivate: config.allowPrivateHttp,
      maxTimeoutMs: config.httpTimeoutMs,
      ...(options.resolveHost ? { resolve: options.resolveHost } : {}),
    })
    for (const c of sealed) checks.push(await connectorCheck(c, outbound, timeoutMs))
    checks.push(publicUrlCheck(config, env))
  } finally {
    await handle?.close()
  }
  return { ok: checks.every((c) => c.status !== 'fail'), checks }
}

/** The database answers, which one it is, and whether its migrations are this version's. Returns the open handle, or null. */
async function databaseChecks(config: Config, checks: DoctorCheck[]): Promise<DatabaseHandle | null> {
  const postgres = isPostgresUrl(config.databaseUrl)
  const where = postgres ? `PostgreSQL at ${postgresAddress(config.databaseUrl)}` : `SQLite at ${config.databaseUrl}`
  if (!postgres && config.databaseUrl !== ':memory:' && !existsSync(config.databaseUrl)) {
    checks.push(
      warn(
        'database',
        `${where}: no database file yet`,
        'it is made on first start (storeflow serve, worker or migrate); check STOREFLOW_DATA_DIR or DATABASE_URL if you expected one',
      ),
    )
    return null
  }
  let handle: DatabaseHandle | null = null
  try {
    handle = await openDatabase({ url: config.databaseUrl, connectWaitMs: 2_000, poolSize: 2 })
    await handle.ping()
  } catch (err) {
    await handle?.close().catch(() => undefined)
    checks.push(
      fail(
        'database',
        `${where} does not answer: ${redact(errorMessage(err), [passwordOf(config.databaseUrl)])}`,
        'check that it is running and DATABASE_URL (host, port, user, password, database)',
      ),
    )
    return null
  }
  checks.push(ok('database', `${where} answers`))
  try {
    const { pending, unknown } = await migrationStatus(handle)
    if (unknown.length > 0)
      checks.push(
        fail(
          'migrations',
          `the database has migrations this version does not know (${unknown.join(', ')}): a newer storeflow migrated it`,
          'run the storeflow version that migrated it, or a newer one',
        ),
      )
    else if (pending.length > 0)
      checks.push(
        warn(
          'migrations',
          `${pending.length} migration${pending.length === 1 ? '' : 's'} not applied yet (${pending.slice(0, 3).join(', ')}${pending.length > 3 ? ', …' : ''})`,
          'run storeflow migrate (serve and worker also apply them when they start)',
        ),
      )
    else checks.push(ok('migrations', 'every migration is applied'))
  } catch (err) {
    checks.push(
      fail(
        'migrations',
        `could not read the applied migrations: ${errorMessage(err).split('\n')[0]}`,
        'check the database user may read the storeflow_migrations table',
      ),
    )
  }
  return handle
}

function passwordOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined
  } catch {
    return undefined
  }
}

interface SealedConnector {
  id: string
  store: string
  platform: string
  api_url: string | null
  opens: boolean
}

/** The secret key is there and opens what was sealed with it. Returns the connectors, for their own checks. */
async function secretKeyCheck(config: Config, env: NodeJS.ProcessEnv, handle: DatabaseHandle | null, checks: DoctorCheck[]): Promise<SealedConnector[]> {
  const name = 'secret_key'
  if (config.secretKey === '') {
    checks.push(
      fail(
        name,
        'STOREFLOW_SECRET_KEY is not set (with PostgreSQL every process needs the same key)',
        'set STOREFLOW_SECRET_KEY to one random value on every machine, e.g. $(openssl rand -base64 32)',
      ),
    )
    return []
  }
  const source = env.STOREFLOW_SECRET_KEY
    ? 'STOREFLOW_SECRET_KEY'
    : existsSync(join(config.dataDir, 'secret.key'))
      ? `the key file ${join(config.dataDir, 'secret.key')}`
      : 'the config file'
  const keyName = env.STOREFLOW_SECRET_KEY ? 'STOREFLOW_SECRET_KEY' : `the secret key from ${source} (STOREFLOW_SECRET_KEY is not set)`
  let connectors: SealedConnector[] = []
  let integrations: Array<{ store: string; kind: string; opens: boolean }> = []
  if (handle) {
    try {
      connectors = await connectorSealCheck(handle.db, config.secretKey)
      integrations = await integrationSealCheck(handle.db, config.secretKey)
    } catch {
      // tables not there yet (migrations pending): nothing sealed to try
    }
  }
  const sealed = [
    ...connectors.map((c) => ({ what: `connector ${c.id}`, opens: c.opens })),
    ...integrations.map((i) => ({ what: `integration ${i.store}/${i.kind}`, opens: i.opens })),
  ]
  const closed = sealed.filter((s) => !s.opens)
  if (closed.length > 0) {
    checks.push(
      fail(
        name,
        `${keyName} does not open ${closed.length} of ${sealed.length} sealed secrets (${closed
          .slice(0, 3)
          .map((s) => s.what)
          .join(', ')}${closed.length > 3 ? ', …' : ''}): the key was changed since they were saved`,
        'set STOREFLOW_SECRET_KEY back to the key they were sealed with, or enter those secrets again (storeflow connectors remove ID, then connectors add)',
      ),
    )
  } else if (config.secretKey.length < 16) {
    checks.push(
      warn(
        name,
        `the key from ${source} is short (${config.secretKey.length} characters)`,
        'use a random value of 32 bytes or more, e.g. $(openssl rand -base64 32), and enter sealed secrets again',
      ),
    )
  } else {
    checks.push(
      ok(
        name,
        `set (from ${source})${sealed.length > 0 ? `; opens ${sealed.length === 1 ? 'the 1 sealed secret' : `all ${sealed.length} sealed secrets`}` : '; no sealed secrets to try yet'}`,
      ),
    )
  }
  return connectors
}

/** The configured SMTP server answers and takes our greeting (and login): nodemailer's verify, with a short timeout. */
async function smtpCheck(config: Config, timeoutMs: number): Promise<DoctorCheck> {
  const name = 'smtp'
  if (!config.smtpUrl) return warn(name, 'no SMTP configured: send_email steps cannot send', 'set SMTP_URL, e.g. smtp://user:password@smtp.example.com:587')
  let url: URL
  try {
    url = new URL(config.smtpUrl)
  } catch {
    return fail(name, 'SMTP_URL is not a URL', 'set SMTP_URL like smtp://user:password@smtp.example.com:587 (smtps:// for TLS on connect)')
  }
  const secure = url.protocol === 'smtps:'
  const where = `${url.hostname}:${url.port || (secure ? '465' : '587')}`
  const password = url.password ? decodeURIComponent(url.password) : undefined
  try {
    await verifySmtp(config.smtpUrl, timeoutMs)
    return ok(name, `the SMTP server at ${where} answers${url.username ? ' and accepts the login' : ''}`)
  } catch (err) {
    return fail(
      name,
      `the SMTP server at ${where} does not take us: ${redact(errorMessage(err), [password, url.username])}`,
      'check SMTP_URL (host, port, user, password) and that this machine may reach it',
    )
  }
}

/** A connector's secrets open, and its shop API (when it has one) answers, through the guarded client. */
async function connectorCheck(c: SealedConnector, outbound: OutboundClient, timeoutMs: number): Promise<DoctorCheck> {
  const name = `connector ${c.id}`
  const what = `${c.platform} connector of store ${c.store}`
  if (!c.opens)
    return fail(
      name,
      `${what}: its secrets do not open with this STOREFLOW_SECRET_KEY`,
      'set STOREFLOW_SECRET_KEY back, or remove the connector and add it again with its secrets',
    )
  if (!c.api_url) return ok(name, `${what}: secrets open; no API URL to try`)
  let host: string
  try {
    host = new URL(c.api_url).host
  } catch {
    return fail(name, `${what}: its API URL is not a URL`, 'remove the connector and add it again with a valid --api-url')
  }
  try {
    const res = await outbound.request(c.api_url, { method: 'GET', timeoutMs, maxResponseBytes: 256 * 1024, redirects: 'return' })
    if (res.status >= 500)
      return warn(
        name,
        `${what}: the API at ${host} answers HTTP ${res.status}`,
        "the shop's API has trouble: try again later, or check the platform's status page",
      )
    return ok(name, `${what}: secrets open; the API at ${host} answers (HTTP ${res.status})`)
  } catch (err) {
    if (err instanceof ResponseTooLargeError) return ok(name, `${what}: secrets open; the API at ${host} answers`)
    const reason = err instanceof OutboundError ? err.message : errorMessage(err)
    return fail(
      name,
      `${what}: the API at ${host} does not answer: ${reason.split('\n')[0]}`,
      err instanceof OutboundError && err.limit === 'private_address'
        ? 'the API is on a private address: set STOREFLOW_ALLOW_PRIVATE_HTTP=1 if that is intended'
        : 'check the connector API URL (storeflow connectors list) and that this machine may reach it',
    )
  }
}

/** Where customers' mail links point: set, and reachable by customers. */
function publicUrlCheck(config: Config, env: NodeJS.ProcessEnv): DoctorCheck {
  const name = 'public_url'
  const fix = 'set STOREFLOW_PUBLIC_URL to the https address customers reach this server at (tracking and unsubscribe links)'
  let url: URL
  try {
    url = new URL(config.publicUrl)
  } catch {
    return fail(name, `STOREFLOW_PUBLIC_URL "${config.publicUrl}" is not a URL`, fix)
  }
  if (!env.STOREFLOW_PUBLIC_URL && config.publicUrl === `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`)
    return warn(name, `STOREFLOW_PUBLIC_URL is not set: mail links point at ${config.publicUrl}, which customers cannot reach`, fix)
  if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))
    return warn(name, `mail links point at ${config.publicUrl}, which customers cannot reach`, fix)
  if (url.protocol !== 'https:') return warn(name, `mail links point at ${config.publicUrl} over plain http`, fix)
  return ok(name, `mail links point at ${config.publicUrl}`)
}
