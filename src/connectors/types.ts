import type { Platform } from '../contracts/platforms.ts'
import type { OutboundClient } from '../lib/guarded-request.ts'

/**
 * Connectors turn a shop's webhook delivery into canonical events (docs/events.md).
 *
 * Glossary:
 * - delivery: one HTTP request from a shop (headers + raw body bytes). Verified on the raw bytes.
 * - topic: the platform's name for what happened (`orders/create`, `order.created`, `store/order/created`).
 * - dedupe key: what identifies the *event* across redeliveries of it; the same key means the same event.
 * - delivery id: identifies one HTTP attempt; a redelivery of the same event gets a new one.
 *
 * A connector is pure apart from `deps.http` (BigCommerce fetches the full resource, its payloads are thin).
 * Storage, routes and replay live above this folder and call `verify` then `map`.
 */

export interface WebhookDelivery {
  /** header names lower-cased */
  headers: Record<string, string | undefined>
  rawBody: Buffer
  receivedAt: Date
}

export type VerifyResult = { ok: true; ping?: boolean } | { ok: false; reason: string }

export interface MappedEvent {
  id: string
  type: string
  occurred_at: string
  data: Record<string, unknown>
}

/** Shopify's mandatory privacy topics; phase 2 exports or erases the customer's data when it sees one. */
export type ComplianceKind = 'data_request' | 'customer_redact' | 'shop_redact'

export interface MappedDelivery {
  /** platform topic, e.g. 'orders/create', 'order.created', 'store/order/created' */
  topic: string
  /** identifies the event across redeliveries (each platform's map.ts says which header or field it is) */
  dedupeKey: string | null
  /** per-delivery id (X-Shopify-Webhook-Id, X-WC-Webhook-Delivery-ID, webhook-id) */
  deliveryId: string | null
  /** canonical events; ids are deterministic so a redelivery yields the same ids */
  events: MappedEvent[]
  /** true → one event `raw.<platform>.<topic>` holding the raw parsed body, so nothing is lost */
  unknownTopic: boolean
  /** set for Shopify's privacy topics so the caller can export or erase */
  compliance?: ComplianceKind
}

export interface ConnectorCredentials {
  /** 1 or 2 valid at once (rotation) */
  secrets: string[]
  shopDomain?: string | null
  /** the shop's API base, store path included (BigCommerce: https://api.bigcommerce.com/stores/{store_hash}) */
  apiUrl?: string | null
  accessToken?: string | null
}

export type { Platform }

export interface MapDeps {
  /**
   * The guarded client, bound to the operator's policy: a connector's API URL is the tenant's to
   * choose, so it calls out through this and nothing else (test/architecture.test.ts).
   */
  http: OutboundClient
}

export interface Connector {
  platform: Platform
  verify(d: WebhookDelivery, creds: ConnectorCredentials, now: Date): VerifyResult
  map(d: WebhookDelivery, creds: ConnectorCredentials, deps: MapDeps): Promise<MappedDelivery>
}
