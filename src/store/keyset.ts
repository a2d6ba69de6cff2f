import { sql, type SelectQueryBuilder } from 'kysely'
import { UserError } from '../lib/errors.ts'

/**
 * Pagination, one way for every list the API and the CLI page through. A page is `{ items,
 * next_cursor }`; the cursor is opaque to clients, and its three encodings below are persisted in
 * clients' hands, so they never change:
 *
 * - newest first by `(time, id)` (runs, messages, deliveries, privacy exports): the cursor is the
 *   last row's pair, as base64url JSON. Rows sharing a time stay in order by id, so none is skipped
 *   or repeated between pages while rows are added.
 * - newest first by `seq` (events): the cursor is the last row's seq as base64url text.
 * - a list a store keeps small (workflows, message templates, connectors), read whole in the repo's
 *   order and cut here: the cursor names the last item's key, as base64url JSON `{ after }`.
 *
 * Each reads one row more than the page to learn whether another page follows.
 */

export interface PageRequest {
  /** items per page, checked at the edge (1 to 500) */
  limit: number
  /** `next_cursor` of the previous page; absent or empty for the first page */
  cursor?: string | undefined
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

function notACursor(): UserError {
  return new UserError('cursor: not a cursor from a previous page', { code: 'validation_failed', details: { field: 'cursor' } })
}

export function encodeCursor(parts: Array<string | number>): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url')
}

/** The `(time, id)` pair a newest-first cursor carries; a cursor of any other shape is the client's mistake. */
export function decodeCursor(cursor: string): [string, string] {
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(parts) && parts.length === 2) return [String(parts[0]), String(parts[1])]
  } catch {
    // not base64url JSON: answered below
  }
  throw notACursor()
}

/**
 * One page of `query`, newest first by the `time` column, ties broken by the `id` column, after
 * the row the cursor names. Both columns must be among those the query selects.
 */
export async function newestFirst<DB, TB extends keyof DB, O extends Record<string, unknown>>(
  query: SelectQueryBuilder<DB, TB, O>,
  keys: { time: keyof O & string; id: keyof O & string },
  page: PageRequest,
): Promise<Page<O>> {
  const time = sql.ref(keys.time)
  const id = sql.ref(keys.id)
  let q = query
  if (page.cursor) {
    const [afterTime, afterId] = decodeCursor(page.cursor)
    q = q.where((eb) => eb.or([eb(time, '<', afterTime), eb.and([eb(time, '=', afterTime), eb(id, '<', afterId)])]))
  }
  const rows = (await q
    .orderBy(time, 'desc')
    .orderBy(id, 'desc')
    .limit(page.limit + 1)
    .execute()) as O[]
  const items = rows.slice(0, page.limit)
  const last = items[items.length - 1]
  return { items, next_cursor: rows.length > page.limit && last ? encodeCursor([last[keys.time] as string, last[keys.id] as string]) : null }
}

/** The seq a newest-first-by-seq cursor names, or undefined for the first page. */
export function decodeSeqCursor(page: PageRequest): number | undefined {
  if (!page.cursor) return undefined
  const seq = Number(Buffer.from(page.cursor, 'base64url').toString())
  if (!Number.isFinite(seq)) throw notACursor()
  return seq
}

/** One page of `query`, newest first by its `seq` column, before `before` (decodeSeqCursor's answer). */
export async function newestFirstBySeq<DB, TB extends keyof DB, O extends { seq: number }>(
  query: SelectQueryBuilder<DB, TB, O>,
  before: number | undefined,
  limit: number,
): Promise<Page<O>> {
  const seq = sql.ref('seq')
  const q = before === undefined ? query : query.where((eb) => eb(seq, '<', before))
  const rows = (await q
    .orderBy(seq, 'desc')
    .limit(limit + 1)
    .execute()) as O[]
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items, next_cursor: rows.length > limit && last ? Buffer.from(String(last.seq)).toString('base64url') : null }
}

/**
 * One page of a list read whole, in a stable order, each item with a unique key: the page after
 * the item the cursor names.
 */
export function pageOfList<T>(items: T[], keyOf: (item: T) => string, page: PageRequest): Page<T> {
  let start = 0
  if (page.cursor !== undefined && page.cursor !== '') {
    const after = decodeKeyCursor(page.cursor)
    const at = items.findIndex((item) => keyOf(item) === after)
    // the item the cursor names may have been deleted since: go on after where it would have been
    start = at >= 0 ? at + 1 : items.findIndex((item) => keyOf(item) > after)
    if (start < 0) start = items.length
  }
  const cut = items.slice(start, start + page.limit)
  const last = cut[cut.length - 1]
  return {
    items: cut,
    next_cursor: start + page.limit < items.length && last !== undefined ? Buffer.from(JSON.stringify({ after: keyOf(last) })).toString('base64url') : null,
  }
}

function decodeKeyCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }
    if (typeof parsed.after === 'string') return parsed.after
  } catch {
    // not base64url JSON: answered below
  }
  throw notACursor()
}
