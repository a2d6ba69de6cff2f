import { createHmac } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import { createOutboundClient } from '../lib/guarded-request.ts'
import type { MapDeps, MappedEvent, WebhookDelivery } from './types.ts'

/**
 * Test support for connector tests (not imported by production code).
 * The fixtures are the platforms' documented example payloads, kept in the repository at
 * test/fixtures/webhooks/ (where each came from: SOURCES.md there; signature schemes: SIGNATURES.md).
 */
export const FIXTURES_DIR = new URL('../../test/fixtures/webhooks/', import.meta.url)

/**
 * What the webhook route hands a connector, for tests that call `map` directly: the guarded client
 * with private addresses allowed, as STOREFLOW_ALLOW_PRIVATE_HTTP=1 would, because the stand-in
 * shop APIs listen on 127.0.0.1.
 */
export const localDeps: MapDeps = { http: createOutboundClient({ allowPrivate: true }) }

export function fixtureFiles(platform: 'shopify' | 'woocommerce' | 'bigcommerce'): string[] {
  return readdirSync(fileURLToPath(new URL(`${platform}/`, FIXTURES_DIR)))
    .filter((f) => f.endsWith('.json'))
    .sort()
}

export function fixture(platform: string, file: string): Buffer {
  return readFileSync(new URL(`${platform}/${file}`, FIXTURES_DIR))
}

export function delivery(headers: Record<string, string>, rawBody: Buffer | string, receivedAt = new Date('2026-01-01T00:00:00Z')): WebhookDelivery {
  const lower: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v
  return { headers: lower, rawBody: Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody, 'utf8'), receivedAt }
}

export function hmacBase64(key: string | Buffer, body: Buffer | string): string {
  return createHmac('sha256', key).update(body).digest('base64')
}

export function standardWebhookSignature(key: Buffer, id: string, timestamp: number, body: Buffer): string {
  return `v1,${createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]))
    .digest('base64')}`
}

/** Every mapped event must pass the lead's canonical schemas, exactly as the ingest will check it. */
export function expectCanonical(events: MappedEvent[]): CanonicalEvent[] {
  return events.map((event) => {
    const parsed = parseEvent(event, { store: 'default', now: new Date('2026-01-01T00:00:00Z') })
    if (!parsed.ok) throw new Error(`${event.type} fails its schema: ${JSON.stringify(parsed.issues)}`)
    expect(parsed.event.id).toBe(event.id)
    return parsed.event
  })
}
