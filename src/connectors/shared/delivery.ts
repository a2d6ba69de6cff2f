import { createHash } from 'node:crypto'
import type { WebhookDelivery } from '../types.ts'

/** Header value by lower-cased name; empty values count as missing. */
export function header(d: WebhookDelivery, name: string): string | null {
  const value = d.headers[name.toLowerCase()]
  return value === undefined || value.trim() === '' ? null : value.trim()
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * Event ids are derived from the dedupe key, so a redelivery of the same event yields the same ids
 * and the ingest answers `duplicate: true` (docs/events.md, Idempotency). Hashed to keep them short and within
 * the envelope's 255 characters whatever the platform sends.
 */
export function eventId(platform: string, key: string, index?: number): string {
  const base = `${platform}_${sha256Hex(key).slice(0, 32)}`
  return index === undefined ? base : `${base}_${index}`
}

/**
 * `raw.<platform>.<topic>` for topics without a canonical type. The envelope schema only allows
 * lower-case letters and `_` in type segments, so `/`, `.`, camelCase and anything else are folded
 * into snake_case (`store/order/statusUpdated` → `store_order_status_updated`).
 */
export function rawEventType(platform: string, topic: string): string {
  const slug = topic
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '')
  return `raw.${platform}.${slug || 'unknown'}`
}
