import { z } from 'zod'
import { parseEvent } from '../contracts/events.ts'
import { UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { describeRate, TokenBuckets } from '../lib/token-bucket.ts'
import { shopOrigins } from '../store/form-origins.ts'
import { storeExists } from '../store/stores.repo.ts'
import type { ServiceContext } from './context.ts'

/**
 * Forms posted by shoppers' browsers to `POST /forms/:store/:form` (sign-up, contact): no key, so
 * everything here assumes a hostile sender. Accepted as a `form.submitted` event `{ form, fields }`.
 *
 * - Rate limited per client IP and store (STOREFLOW_FORM_RATE_LIMIT, default 20/min): 429.
 * - `_hp` is the honeypot: a field people never see (hide it with CSS), so only bots fill it. When
 *   it is non-empty the answer is the usual one, and nothing is stored.
 * - `_redirect`: after a plain HTML form posts, the browser is sent there (303), if it is a URL on
 *   one of the store's own origins (see shopOrigins); anything else is refused with 400.
 * - Fields whose names start with `_` are storeflow's controls and are not stored.
 * - `accepts_marketing` is the consent field: `true`, `on` (a checked checkbox), `yes`, `1` become
 *   true; `false`, `off`, `no`, `0` and "" become false; absent stays absent (consent unchanged).
 *   Nothing else gives consent.
 * - Limits: at most 50 fields, names up to 64 characters, values strings (or JSON numbers and
 *   booleans) up to 2000 characters; an `email` field must be an email address. A bad field
 *   answers 400 naming it.
 */
export const FORM_LIMITS = { fields: 50, nameLength: 64, valueLength: 2000, bodyBytes: 16 * 1024 } as const

export const HONEYPOT_FIELD = '_hp'
export const REDIRECT_FIELD = '_redirect'
export const CONSENT_FIELD = 'accepts_marketing'

const FORM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const YES = new Set(['true', 'on', 'yes', '1'])
const NO = new Set(['false', 'off', 'no', '0', ''])
const email = z.string().email()

export interface FormOutcome {
  /** the stored event's id; for a honeypot submission a made-up one, so bots cannot tell */
  id: string
  duplicate: false
  /** where to send the browser (303), when `_redirect` asked for an allowed URL */
  redirect: string | null
}

function invalid(field: string, message: string): UserError {
  return new UserError(`${field}: ${message}`, { code: 'validation_failed', details: { field, issues: [{ path: field, message }] } })
}

export function createFormsService(ctx: ServiceContext) {
  const db = ctx.handle.db
  const rate = ctx.config.formRateLimit
  const buckets = rate ? new TokenBuckets(rate) : null

  return {
    /** Seconds until this client may post to this store's forms again, or null if it may now. */
    rateLimited(storeId: string, clientIp: string): number | null {
      if (!buckets) return null
      const taken = buckets.take(`${storeId}\u0000${clientIp}`, ctx.clock.now().getTime())
      return taken.ok ? null : Math.max(1, Math.ceil(taken.retryAfterMs / 1000))
    },

    describeRate: () => (rate ? describeRate(rate, 'form posts') : 'unlimited form posts'),

    /** The store's own origins (CORS and `_redirect`); null when the store does not exist. */
    async origins(storeId: string): Promise<Set<string> | null> {
      if (!(await storeExists(db, storeId))) return null
      return shopOrigins(db, storeId)
    },

    /** Validates and accepts one submission. `origins` is what `origins(storeId)` answered. */
    async submit(storeId: string, form: string, body: Record<string, unknown>, origins: Set<string>): Promise<FormOutcome> {
      if (!FORM_NAME.test(form)) throw invalid('form', 'must be 1–64 letters, digits, "_", "-" or ".", starting with a letter or digit')
      const entries = Object.entries(body)
      if (entries.length > FORM_LIMITS.fields) throw invalid('fields', `at most ${FORM_LIMITS.fields} fields`)
      const fields: Record<string, unknown> = {}
      for (const [name, value] of entries) {
        if (name.length > FORM_LIMITS.nameLength)
          throw invalid(name.slice(0, FORM_LIMITS.nameLength), `field names are at most ${FORM_LIMITS.nameLength} characters`)
        if (typeof value === 'string') {
          if (value.length > FORM_LIMITS.valueLength) throw invalid(name, `at most ${FORM_LIMITS.valueLength} characters`)
        } else if (!(typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))) {
          throw invalid(name, 'must be a string, number or boolean (one value per field)')
        }
        fields[name] = value
      }

      let redirect: string | null = null
      const rawRedirect = fields[REDIRECT_FIELD]
      if (rawRedirect !== undefined && rawRedirect !== '') {
        redirect = typeof rawRedirect === 'string' ? allowedRedirect(rawRedirect, origins) : null
        if (!redirect) throw invalid(REDIRECT_FIELD, "must be an absolute URL on the store's own shop origin")
      }

      const honeypot = fields[HONEYPOT_FIELD]
      if (honeypot !== undefined && honeypot !== '' && honeypot !== false) {
        ctx.log.info({ storeId, form }, 'form honeypot filled; nothing stored')
        return { id: newId('form_'), duplicate: false, redirect }
      }

      const stored: Record<string, unknown> = {}
      for (const [name, value] of Object.entries(fields)) {
        if (name.startsWith('_')) continue
        stored[name] = typeof value === 'string' ? value.trim() : value
      }
      if (CONSENT_FIELD in stored) {
        const v = stored[CONSENT_FIELD]
        const text = typeof v === 'string' ? v.toLowerCase() : String(v)
        if (YES.has(text)) stored[CONSENT_FIELD] = true
        else if (NO.has(text)) stored[CONSENT_FIELD] = false
        else throw invalid(CONSENT_FIELD, 'must be true/on/yes/1 or false/off/no/0')
      }
      if (stored.email === '') delete stored.email
      if (stored.email !== undefined) {
        if (typeof stored.email !== 'string' || !email.safeParse(stored.email).success) throw invalid('email', 'must be an email address')
        stored.email = stored.email.toLowerCase()
      }

      const now = ctx.clock.now()
      const parsed = parseEvent(
        { id: newId('form_'), type: 'form.submitted', store: storeId, occurred_at: now.toISOString(), data: { form, fields: stored } },
        { store: storeId, now },
      )
      if (!parsed.ok) {
        const first = parsed.issues[0]!
        throw invalid(first.path.replace(/^data\.(fields\.)?/, ''), first.message)
      }
      const [result] = await ctx.engine.ingest([parsed.event], { historical: false, source: 'form' })
      return { id: result?.id ?? parsed.event.id, duplicate: false, redirect }
    },
  }
}

/** The URL, normalised, when it is http(s) on one of `origins`; else null. */
function allowedRedirect(url: string, origins: Set<string>): string | null {
  try {
    const u = new URL(url)
    return (u.protocol === 'https:' || u.protocol === 'http:') && origins.has(u.origin) ? u.href : null
  } catch {
    return null
  }
}

export type FormsService = ReturnType<typeof createFormsService>
