import { createHmac, randomBytes } from 'node:crypto'
import { UserError } from '../lib/errors.ts'
import { createSession, deleteExpiredSessions, deleteSession, findSession, hashSessionToken, touchSession, type SessionRecord } from '../store/sessions.repo.ts'
import { clearSignInFailures, recordSignInFailure, signInFailuresSince } from '../store/sign-in-failures.repo.ts'
import { listStores } from '../store/stores.repo.ts'
import { findUserByEmail, hashPassword, verifyPassword } from '../store/users.repo.ts'
import type { ServiceContext } from './context.ts'

/** A session ends after this long unused (sliding)… */
export const SESSION_IDLE_MS = 12 * 3_600_000
/** …and this long after sign-in, used or not. */
export const SESSION_ABSOLUTE_MS = 7 * 24 * 3_600_000
/** last_seen_at is written at most this often per session, not on every request */
const TOUCH_EVERY_MS = 60_000

/**
 * Sign-in is rate limited by default (PRODUCT §9): failures only, in a sliding window of 15
 * minutes, 5 per email and client IP (guessing one account's password) and 20 per client IP
 * (trying many accounts). Over either, sign-in answers 429 with Retry-After before any password
 * is checked. Counted in the database (sign_in_failures), so every API node of an installation
 * counts the same failures and a restart forgets none; two failures racing at the very limit may
 * both be counted before either is refused, so the bound can be passed by the requests in flight.
 */
export const SIGN_IN_WINDOW_MS = 15 * 60_000
export const SIGN_IN_FAILURES_PER_EMAIL_AND_IP = 5
export const SIGN_IN_FAILURES_PER_IP = 20

export interface SessionUser {
  id: string
  email: string
  role: string
}

export interface ActiveSession {
  tokenHash: string
  csrf_token: string
  user: SessionUser
}

const WRONG = 'wrong email or password'

/** Dashboard sessions: sign in with a user's email and password, a cookie token stored hashed. */
export function createSessionsService(ctx: ServiceContext) {
  const db = ctx.handle.db
  // keys are stored as an HMAC with the installation's secret: the table names no email or address
  const keyHash = (kind: 'email+ip' | 'ip', key: string) =>
    createHmac('sha256', ctx.config.secretKey || 'storeflow-sign-in')
      .update(`sign-in\u0000${kind}\u0000${key}`)
      .digest('base64url')
  /** ms until the key may try again (0: now): at `limit` failures in the window, until the oldest of the last `limit` leaves it */
  const blockedFor = async (hash: string, limit: number, at: number): Promise<number> => {
    const times = await signInFailuresSince(db, hash, new Date(at - SIGN_IN_WINDOW_MS), limit)
    if (times.length < limit) return 0
    return Math.max(1, Date.parse(times[limit - 1]!) + SIGN_IN_WINDOW_MS - at)
  }
  // an unknown email is checked against this hash, so it takes as long as a wrong password
  let dummyHash: Promise<string> | null = null
  const dummy = () => (dummyHash ??= hashPassword(randomBytes(16).toString('base64url')))
  const now = () => ctx.clock.now()

  return {
    /**
     * The user and a new session when the email and password match. Wrong email and wrong
     * password are the same error, after the same work; over the rate limit, a 429 whose details
     * hold `retry_after` (seconds).
     */
    async signIn(input: { email: string; password: string }, clientIp: string): Promise<{ user: SessionUser; token: string; csrf_token: string }> {
      const email = input.email.trim().toLowerCase()
      const ipKey = keyHash('ip', clientIp)
      const pairKey = keyHash('email+ip', `${email}\u0000${clientIp}`)
      const at = now().getTime()
      const wait = Math.max(await blockedFor(pairKey, SIGN_IN_FAILURES_PER_EMAIL_AND_IP, at), await blockedFor(ipKey, SIGN_IN_FAILURES_PER_IP, at))
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000)
        throw new UserError(
          `too many failed sign-ins (at most ${SIGN_IN_FAILURES_PER_EMAIL_AND_IP} per email and ${SIGN_IN_FAILURES_PER_IP} per client in ${SIGN_IN_WINDOW_MS / 60_000} minutes); retry in ${seconds}s`,
          { code: 'rate_limited', details: { retry_after: seconds } },
        )
      }
      const user = await findUserByEmail(db, email)
      let ok = false
      if (user) ok = await verifyPassword(input.password, user.password_hash)
      else await verifyPassword(input.password, await dummy())
      if (!user || !ok) {
        const failedAt = now()
        await recordSignInFailure(db, [pairKey, ipKey], failedAt, new Date(failedAt.getTime() - SIGN_IN_WINDOW_MS))
        throw new UserError(WRONG, { code: 'unauthorized' })
      }
      await clearSignInFailures(db, pairKey)
      const signedInAt = now()
      await deleteExpiredSessions(db, signedInAt, new Date(signedInAt.getTime() - SESSION_IDLE_MS))
      const session = await createSession(db, user.id, signedInAt, new Date(signedInAt.getTime() + SESSION_ABSOLUTE_MS))
      return { user: { id: user.id, email: user.email, role: user.role }, ...session }
    },

    /** Prepares the hash an unknown email is checked against (the server calls it once at start). */
    warm(): void {
      void dummy()
    },

    /** The live session a cookie token names, or null (unknown, signed out, idle too long, past its end, or its user deleted). */
    async resolve(token: string): Promise<ActiveSession | null> {
      const found: SessionRecord | null = await findSession(db, token)
      if (!found) return null
      const at = now()
      const ms = at.getTime()
      if (ms >= Date.parse(found.expires_at) || ms >= Date.parse(found.last_seen_at) + SESSION_IDLE_MS) {
        await deleteSession(db, found.token_hash)
        return null
      }
      if (ms - Date.parse(found.last_seen_at) >= TOUCH_EVERY_MS) await touchSession(db, found.token_hash, at)
      return { tokenHash: found.token_hash, csrf_token: found.csrf_token, user: found.user }
    },

    async signOut(token: string): Promise<void> {
      await deleteSession(db, hashSessionToken(token))
    },

    /** The stores a signed-in user may pick (all of them: a dashboard user is the installation's admin). */
    async stores(): Promise<Array<{ id: string; name: string; currency: string; timezone: string }>> {
      return (await listStores(db)).map(({ id, name, currency, timezone }) => ({ id, name, currency, timezone }))
    },
  }
}

export type SessionsService = ReturnType<typeof createSessionsService>
