import { UserError } from '../lib/errors.ts'

/** `?limit=` between 1 and 500, default 50. */
export function parseLimit(value: unknown, fallback = 50): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new UserError('limit: must be a whole number from 1 to 500', { code: 'validation_failed', details: { field: 'limit' } })
  return n
}

/**
 * A page of a list a store keeps small (workflows, message templates, connectors), read whole and
 * cut here: `?limit=` as everywhere, and `?cursor=` naming the last key of the previous page. The
 * items come in a stable order (the repo's), and each has a unique key.
 */
export function pageOf<T>(items: T[], keyOf: (item: T) => string, query: { limit?: unknown; cursor?: unknown }): { items: T[]; next_cursor: string | null } {
  const limit = parseLimit(query.limit)
  let start = 0
  if (query.cursor !== undefined && query.cursor !== '') {
    const after = decodeKeyCursor(query.cursor)
    const at = items.findIndex((item) => keyOf(item) === after)
    // the item the cursor names may have been deleted since: go on after where it would have been
    start = at >= 0 ? at + 1 : items.findIndex((item) => keyOf(item) > after)
    if (start < 0) start = items.length
  }
  const page = items.slice(start, start + limit)
  const last = page[page.length - 1]
  return { items: page, next_cursor: start + limit < items.length && last !== undefined ? Buffer.from(JSON.stringify({ after: keyOf(last) })).toString('base64url') : null }
}

function decodeKeyCursor(cursor: unknown): string {
  try {
    const parsed = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8')) as { after?: unknown }
    if (typeof parsed.after === 'string') return parsed.after
  } catch {
    // not base64url JSON: answered below
  }
  throw new UserError('cursor: not a cursor from a previous page', { code: 'validation_failed', details: { field: 'cursor' } })
}
