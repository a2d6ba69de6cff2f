import { normaliseMoney } from '../../lib/money.ts'
import { isRecord } from './json.ts'

/** Small readers for loosely typed shop payloads: they return null instead of throwing. */

export function rec(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {}
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function str(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return null
}

/** Shop ids as strings (docs/event-types.md); 0 and '' mean "none" on WooCommerce and BigCommerce. */
export function idStr(value: unknown): string | null {
  const s = str(value)
  return s === null || s === '0' ? null : s
}

export function int(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) {
    const n = Number(value)
    return Number.isSafeInteger(n) ? n : null
  }
  return null
}

/** Money stays an exact decimal string ("404.95"); numbers are rendered without float noise. */
export function money(value: unknown): string | null {
  return normaliseMoney(value)
}

/** Any parseable time → ISO-8601 UTC; null when absent or unparseable. */
export function isoTime(value: unknown): string | null {
  const s = str(value)
  if (s === null) return null
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? null : new Date(ms).toISOString()
}

/** WooCommerce `*_gmt` fields are UTC without a zone designator ("2017-03-22T19:28:08"). */
export function isoFromGmt(value: unknown): string | null {
  const s = str(value)
  if (s === null) return null
  return isoTime(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`)
}

export function isoFromUnixSeconds(value: unknown): string | null {
  const n = int(value)
  return n === null ? null : new Date(n * 1000).toISOString()
}

/** Drops keys whose value is undefined so events stay compact and schemas see "absent", not undefined. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  for (const key of Object.keys(obj)) if (obj[key] === undefined) delete obj[key]
  return obj
}

/** "tag1, tag2" (Shopify's comma-separated tags) → ["tag1", "tag2"] */
export function splitTags(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map((t) => str(t)).filter((t): t is string => t !== null)
  const s = str(value)
  if (s === null) return undefined
  return s
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  ndash: '\u2013',
  mdash: '\u2014',
  hellip: '\u2026',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  times: '\u00d7',
}

/** WooCommerce returns product names HTML-escaped ("Ship Your Idea &ndash; Color: Black"); messages want text. */
export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole
  })
}
