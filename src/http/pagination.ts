import { UserError } from '../lib/errors.ts'

/** `?limit=` between 1 and 500, default 50. */
export function parseLimit(value: unknown, fallback = 50): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new UserError('limit: must be a whole number from 1 to 500', { code: 'validation_failed', details: { field: 'limit' } })
  return n
}

/** A list's `?limit=` and `?cursor=` as the services take them; the cursor is opaque here, checked where it is read. */
export function pageRequest(query: { limit?: unknown; cursor?: string | undefined }): { limit: number; cursor: string | undefined } {
  return { limit: parseLimit(query.limit), cursor: query.cursor }
}
