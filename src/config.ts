import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { UserError } from './lib/errors.ts'
import { parseRate, type Rate } from './lib/token-bucket.ts'

/**
 * Configuration by flags, environment (STOREFLOW_*, DATABASE_URL, SMTP_URL) or a
 * storeflow.config.{json,js,mjs} file in the working directory, in that order.
 */
export interface Config {
  /** `./data` or STOREFLOW_DATA_DIR */
  dataDir: string
  /** DATABASE_URL, else the SQLite file data/storeflow.db */
  databaseUrl: string
  port: number
  host: string
  /** where customers' mail links point (tracking, unsubscribe); default http://host:port */
  publicUrl: string
  /**
   * HMAC key for tracking tokens and the key that encrypts secrets at rest. Empty when none is set
   * and the database is PostgreSQL: createApp then refuses to start (see requireSecretKey).
   */
  secretKey: string
  smtpUrl: string | undefined
  mailFrom: string
  allowPrivateHttp: boolean
  /** ceiling on any one request made on a tenant's behalf (connector APIs, http_request, SMS, chat webhooks), ms; default 60000 */
  httpTimeoutMs: number
  /** max request body, bytes; default 1 MiB */
  bodyLimit: number
  /**
   * STOREFLOW_INGEST_RATE_LIMIT: ingest requests per API key (events API) and per store (webhooks),
   * like `600/min`, `10/s`, `36000/h` or a bare count per minute; null (unset or 0) = unlimited,
   * the default. See docs/limits.md.
   */
  ingestRateLimit: Rate | null
  /**
   * STOREFLOW_FORM_RATE_LIMIT: form posts (POST /forms/:store/:form) per client IP and store, in
   * the same notation; default `20/min`; 0 turns it off. See docs/http-api.md, Forms.
   */
  formRateLimit: Rate | null
  /** how long a worker holds a claimed run before another may take it over, ms; default 60000 */
  leaseMs: number
  /**
   * STOREFLOW_WORKER_HEARTBEAT_MS: how often each worker writes its row in the list of workers
   * (GET /api/v1/workers, /metrics); default 10000. A worker not seen for 3 of these is lost.
   */
  workerHeartbeatMs?: number
  /**
   * STOREFLOW_TRUST_PROXY=1: the server sits behind a reverse proxy it trusts, so X-Forwarded-Proto,
   * -For and -Host say the client's scheme, address and host (the Secure flag of the dashboard's
   * cookie, sign-in rate limits per client). Off by default: then those headers are ignored.
   */
  trustProxy?: boolean
  /**
   * STOREFLOW_RETENTION_EVENTS_DAYS: routed events received longer ago than this many days are
   * deleted (never ahead of the router, never a run's trigger); 0, the default, keeps them forever.
   */
  retentionEventsDays: number
  /** STOREFLOW_RETENTION_RUNS_DAYS: ended runs (with their steps) ended longer ago are deleted; 0, the default, keeps them */
  retentionRunsDays: number
  /** STOREFLOW_RETENTION_DELIVERIES_DAYS: raw webhook deliveries are kept this many days; default 30, 0 keeps them */
  retentionDeliveriesDays: number
}

export type ConfigFlags = Partial<Pick<Config, 'port' | 'host' | 'dataDir' | 'databaseUrl' | 'publicUrl'>>

export async function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<Config> {
  const file = await readConfigFile(cwd)
  const pick = <T>(flag: T | undefined, envValue: T | undefined, fileValue: T | undefined, fallback: T): T => flag ?? envValue ?? fileValue ?? fallback
  const dataDir = resolve(cwd, pick(flags.dataDir, env.STOREFLOW_DATA_DIR, file.dataDir as string | undefined, './data'))
  const port = Number(pick(flags.port, env.STOREFLOW_PORT ? Number(env.STOREFLOW_PORT) : undefined, file.port as number | undefined, 3000))
  const host = pick(flags.host, env.STOREFLOW_HOST, file.host as string | undefined, '127.0.0.1')
  const databaseUrl = pick(flags.databaseUrl, env.DATABASE_URL, file.databaseUrl as string | undefined, join(dataDir, 'storeflow.db'))
  return {
    dataDir,
    databaseUrl,
    port,
    host,
    publicUrl: pick(
      flags.publicUrl,
      env.STOREFLOW_PUBLIC_URL,
      file.publicUrl as string | undefined,
      `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`,
    ).replace(/\/$/, ''),
    secretKey: env.STOREFLOW_SECRET_KEY || (file.secretKey as string | undefined) || localSecret(dataDir, databaseUrl),
    smtpUrl: env.SMTP_URL ?? (file.smtpUrl as string | undefined),
    mailFrom: env.STOREFLOW_MAIL_FROM ?? (file.mailFrom as string | undefined) ?? 'storeflow@localhost',
    allowPrivateHttp: (env.STOREFLOW_ALLOW_PRIVATE_HTTP ?? String(file.allowPrivateHttp ?? '')) === '1' || file.allowPrivateHttp === true,
    httpTimeoutMs: positiveMs('STOREFLOW_HTTP_TIMEOUT_MS', env.STOREFLOW_HTTP_TIMEOUT_MS ?? file.httpTimeoutMs, 60_000),
    bodyLimit: Number(env.STOREFLOW_BODY_LIMIT ?? file.bodyLimit ?? 1024 * 1024),
    ingestRateLimit: ingestRate(env.STOREFLOW_INGEST_RATE_LIMIT ?? (file.ingestRateLimit as string | number | undefined)),
    formRateLimit: namedRate('STOREFLOW_FORM_RATE_LIMIT', env.STOREFLOW_FORM_RATE_LIMIT ?? (file.formRateLimit as string | number | undefined) ?? '20/min'),
    leaseMs: Number(env.STOREFLOW_LEASE_MS ?? file.leaseMs ?? 60_000),
    workerHeartbeatMs: positiveMs('STOREFLOW_WORKER_HEARTBEAT_MS', env.STOREFLOW_WORKER_HEARTBEAT_MS ?? file.workerHeartbeatMs, 10_000),
    trustProxy: ['1', 'true'].includes(env.STOREFLOW_TRUST_PROXY ?? '') || file.trustProxy === true,
    retentionEventsDays: days('STOREFLOW_RETENTION_EVENTS_DAYS', env.STOREFLOW_RETENTION_EVENTS_DAYS ?? file.retentionEventsDays, 0),
    retentionRunsDays: days('STOREFLOW_RETENTION_RUNS_DAYS', env.STOREFLOW_RETENTION_RUNS_DAYS ?? file.retentionRunsDays, 0),
    retentionDeliveriesDays: days('STOREFLOW_RETENTION_DELIVERIES_DAYS', env.STOREFLOW_RETENTION_DELIVERIES_DAYS ?? file.retentionDeliveriesDays, 30),
  }
}

function positiveMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const ms = Number(value)
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`${name} must be a whole number of milliseconds above 0, got "${String(value)}"`)
  return ms
}

/** A retention in whole days, 0 meaning keep forever; anything else is an error naming the variable. */
function days(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = typeof value === 'number' ? value : String(value).trim() === '' ? Number.NaN : Number(value)
  if (!Number.isInteger(n) || n < 0)
    throw new UserError(`${name} must be a whole number of days (0 keeps forever), got "${String(value)}"`, { code: 'validation_failed' })
  return n
}

function ingestRate(value: string | number | undefined): Rate | null {
  if (value === undefined) return null
  return namedRate('STOREFLOW_INGEST_RATE_LIMIT', value)
}

function namedRate(name: string, value: string | number): Rate | null {
  try {
    return parseRate(value)
  } catch (err) {
    throw new UserError(`${name} ${(err as Error).message}`, { code: 'validation_failed' })
  }
}

async function readConfigFile(cwd: string): Promise<Record<string, unknown>> {
  for (const name of ['storeflow.config.json', 'storeflow.config.mjs', 'storeflow.config.js']) {
    const path = join(cwd, name)
    if (!existsSync(path)) continue
    if (name.endsWith('.json')) return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    const mod = (await import(pathToFileURL(path).href)) as { default?: Record<string, unknown> }
    return mod.default ?? {}
  }
  return {}
}

/**
 * Without STOREFLOW_SECRET_KEY, a SQLite install keeps a random key in its data directory, next to
 * the database file every process on the machine opens, so secrets and tracking links keep working
 * across restarts and processes. PostgreSQL is shared by processes that share no disk: a key made
 * up by each would seal secrets and sign links that no other process can open, so none is made up
 * ('' here) and createApp stops with requireSecretKey's message.
 */
function localSecret(dataDir: string, databaseUrl: string): string {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return ''
  const path = join(dataDir, 'secret.key')
  if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  const key = randomBytes(32).toString('base64url')
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(path, `${key}\n`, { mode: 0o600 })
  return key
}

/**
 * Stops a process that would encrypt, decrypt or sign without a key every process shares.
 * One line, naming the variable and the fix.
 */
export function requireSecretKey(config: Config): void {
  if (config.secretKey !== '') return
  throw new UserError(
    'STOREFLOW_SECRET_KEY is not set: with PostgreSQL every storeflow process must use the same key (it encrypts connector secrets and signs mail links); set it to one random value on every machine, e.g. STOREFLOW_SECRET_KEY=$(openssl rand -base64 32)',
    { code: 'validation_failed' },
  )
}
