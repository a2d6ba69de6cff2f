import type { Selectable } from 'kysely'
import { isLosslessNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json'
import type { CustomersTable } from './tables.ts'

/**
 * How one row's personal data is removed (privacy.ts decides which rows): fields that are personal
 * by name are cleared wherever they appear, addresses keep only their country, and the
 * customer's own strings (email, phone, names, street lines) are replaced in what free text
 * remains, such as a log step's output or an error message.
 */

type Obj = Record<string, unknown>

export const REDACTED = '[redacted]'

/** Objects under these keys are addresses: only the country code survives (for aggregates). */
const ADDRESS_KEYS = new Set(['billing_address', 'shipping_address', 'default_address', 'address', 'billing', 'shipping', 'destination'])
const ADDRESS_LIST_KEYS = new Set(['addresses', 'shipping_addresses'])
/** Scalar fields that are personal data wherever they appear. */
const PERSONAL_KEYS = new Set([
  'email',
  'contact_email',
  'customer_email',
  'phone',
  'first_name',
  'last_name',
  'birthday',
  'date_of_birth',
  'address1',
  'address2',
  'address_1',
  'address_2',
  'street_1',
  'street_2',
  'city',
  'zip',
  'postcode',
  'province',
  'company',
  'latitude',
  'longitude',
  'note',
  'customer_note',
  'ip_address',
  'browser_ip',
  'customer_ip_address',
  'customer_user_agent',
  'client_details',
  'full_name',
  'username',
  'display_name',
  'to',
  'to_addr',
  'recipient',
])
/** Kept inside a scrubbed address. */
const ADDRESS_KEEP = ['country_code', 'country_iso2']
/** Keys whose string value is an email address that identifies whom a payload is about. */
export const EMAIL_KEYS = ['email', 'contact_email', 'customer_email'] as const

function isPersonish(o: Obj): boolean {
  return 'first_name' in o || 'last_name' in o || 'email' in o || 'address1' in o || 'street_1' in o || 'address_1' in o
}

/** JSON objects only: a lossless number (a shop's big id) is a value, not an object to walk. */
export function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** Removes personal fields by name, then replaces the customer's strings in every remaining string. */
export function scrub(value: unknown, needles: readonly string[] | Needles): unknown {
  return scrubWith(value, needles instanceof Needles ? needles.pattern() : patternOf(needles))
}

function scrubWith(value: unknown, rx: RegExp | null): unknown {
  if (typeof value === 'string') return redactWith(value, rx)
  if (Array.isArray(value)) return value.map((v) => scrubWith(v, rx))
  if (!isPlainObject(value)) return value
  const personish = isPersonish(value)
  const out: Obj = {}
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) {
      out[key] = v
    } else if (ADDRESS_KEYS.has(key) && isPlainObject(v)) {
      const kept: Obj = {}
      for (const k of ADDRESS_KEEP) if (k in v) kept[k] = v[k]
      out[key] = kept
    } else if (ADDRESS_LIST_KEYS.has(key) && Array.isArray(v)) {
      out[key] = []
    } else if (PERSONAL_KEYS.has(key) || (personish && key === 'name')) {
      out[key] = null
    } else {
      out[key] = scrubWith(v, rx)
    }
  }
  return out
}

/** Stored JSON text (ours: no numbers beyond 2^53) scrubbed; null stays null. */
export function scrubJson(text: string, needles: Needles): string
export function scrubJson(text: string | null, needles: Needles): string | null
export function scrubJson(text: string | null, needles: Needles): string | null {
  if (text === null) return null
  const parsed = safeJson(text)
  return parsed === undefined ? needles.redact(text) : JSON.stringify(scrubWith(parsed, needles.pattern()))
}

/**
 * A shop's payload as stored (a delivery body): scrubbed as JSON without rounding its big ids
 * (lossless numbers), or, when it is not JSON, only the customer's strings replaced.
 */
export function scrubPayload(text: string, needles: Needles): string {
  const parsed = parsePayload(text)
  if (parsed === undefined) return needles.redact(text)
  return stringifyLossless(scrubWith(parsed, needles.pattern())) ?? needles.redact(text)
}

/** A shop's payload parsed with its big ids intact (LosslessNumber), or undefined when it is not JSON. */
export function parsePayload(text: string): unknown {
  try {
    return parseLossless(text)
  } catch {
    return undefined
  }
}

/** An id as text, whether the payload carried it as a string, a number or a lossless number. */
export function idText(v: unknown): string | null {
  if (typeof v === 'string' && v !== '') return v
  if (typeof v === 'number') return String(v)
  if (isLosslessNumber(v)) return v.toString()
  return null
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * One pattern for all of a customer's strings, longest first ("Jane Doe" before "Jane"), matched
 * case-insensitively as whole words: "Ann" is replaced in "Hi Ann," but not inside "Annual".
 */
function patternOf(needles: Iterable<string>): RegExp | null {
  const list = [...new Set(needles)]
    .filter((n) => n !== '')
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
  return list.length === 0 ? null : new RegExp(`(?<![\\p{L}\\p{N}])(?:${list.join('|')})(?![\\p{L}\\p{N}])`, 'giu')
}

function redactWith(text: string, rx: RegExp | null): string {
  return rx ? text.replace(rx, REDACTED) : text
}

/** The personal strings of one customer (or, for a shop's redact, of one store), gathered from their rows. */
export class Needles {
  private readonly values = new Set<string>()
  private compiled: RegExp | null | undefined

  /** Too short or too plain to stand for a person: skipped ("Al" counts, "12" does not). */
  add(v: unknown): void {
    if (typeof v !== 'string') return
    const s = v.trim()
    const letters = s.replace(/[^\p{L}]/gu, '').length
    if (letters >= 2 || s.length >= 5) {
      this.values.add(s)
      this.compiled = undefined
    }
  }

  addCustomer(c: Selectable<CustomersTable>): void {
    for (const v of [c.email, c.phone, c.first_name, c.last_name]) this.add(v)
    if (c.first_name && c.last_name) this.add(`${c.first_name} ${c.last_name}`)
    this.collect(safeJson(c.attributes))
  }

  /** Walks a JSON value and keeps the values of personal fields. */
  collect(value: unknown): void {
    if (Array.isArray(value)) {
      for (const v of value) this.collect(v)
      return
    }
    if (!isPlainObject(value)) return
    for (const key of [...EMAIL_KEYS, 'phone', 'first_name', 'last_name', 'address1', 'address2', 'address_1', 'address_2', 'street_1', 'street_2'])
      this.add(value[key])
    if (typeof value.first_name === 'string' && typeof value.last_name === 'string') this.add(`${value.first_name} ${value.last_name}`)
    if (isPersonish(value) && typeof value.name === 'string') this.add(value.name)
    for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) this.collect(v)
  }

  pattern(): RegExp | null {
    if (this.compiled === undefined) this.compiled = patternOf(this.values)
    return this.compiled
  }

  redact(text: string): string {
    return redactWith(text, this.pattern())
  }
}
