import { OperationalError } from './errors.ts'

/**
 * "The database cannot be reached right now" — down, restarting, failing over, or the connection
 * was cut — as opposed to an error in what was asked of it. Such an error is transient: the same
 * work succeeds once the database is back. Work whose outcome it leaves unknown (a COMMIT in
 * flight) must be safe to repeat before it is repeated; see src/engine/ARCHITECTURE.md.
 */

/** Socket errors of a server that is not there (yet), or went away. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED'])

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception); 57P01 admin_shutdown (terminating
 * connection due to administrator command), 57P02 crash_shutdown, 57P03 cannot_connect_now
 * (starting up or shutting down); 53300 too_many_connections.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300'])

/**
 * SQLite with several processes on one file (serve plus `storeflow worker`s): another process
 * holds the write lock past busy_timeout, or wrote since this transaction's snapshot
 * (BUSY_SNAPSHOT, which busy_timeout cannot wait out). The same work succeeds when tried again
 * shortly, so it is handled like an outage: retried soon, never left to wait out a lease.
 */
const SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED'])

/** node-postgres reports a lost connection with these messages and no code. */
const PG_MESSAGES = [/^Connection terminated/, /^timeout exceeded when trying to connect/, /is not queryable$/]

/** Thrown when work was given up because the database stayed unreachable; answered 503. */
export class DatabaseUnavailableError extends OperationalError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'unavailable', ...(cause === undefined ? {} : { cause }) })
  }
}

export function isDatabaseUnavailable(err: unknown): boolean {
  return causes(err).some((e) => {
    if (e instanceof DatabaseUnavailableError) return true
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATES.has(code) || SQLITE_CODES.has(code) || /^08...$/.test(code))) return true
    const message = (e as { message?: unknown }).message
    return typeof message === 'string' && PG_MESSAGES.some((m) => m.test(message))
  })
}

/** A short reason for people: `connection refused`, `the database system is starting up`, … */
export function unavailableReason(err: unknown): string {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code
    switch (code) {
      case 'ECONNREFUSED':
        return 'connection refused'
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return 'host not found'
      case 'ETIMEDOUT':
        return 'connection timed out'
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return 'host unreachable'
      case 'ECONNRESET':
      case 'EPIPE':
        return 'connection reset'
    }
  }
  const first = causes(err).find((e) => typeof (e as { message?: unknown }).message === 'string' && (e as Error).message !== '')
  return first ? (first as Error).message.split('\n')[0]! : String(err)
}

/** The error, its causes, and the errors of an AggregateError (a host with several addresses). */
function causes(err: unknown, depth = 0): object[] {
  if (!err || typeof err !== 'object' || depth > 5) return []
  const out: object[] = [err]
  const cause = (err as { cause?: unknown }).cause
  if (cause) out.push(...causes(cause, depth + 1))
  if (err instanceof AggregateError) for (const e of err.errors) out.push(...causes(e, depth + 1))
  return out
}

/**
 * A failure that running the same transaction again may not meet: unique violation (two writers
 * creating one row), serialization failure, deadlock (PostgreSQL); busy (SQLite, a second process
 * writing).
 */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === '23505' || code === '40001' || code === '40P01' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY'))
}
