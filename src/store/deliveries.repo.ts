import type { Kysely, Selectable, Transaction } from 'kysely'
import { UserError } from '../lib/errors.ts'
import type { Database, WebhookDeliveriesTable } from './tables.ts'
import { newestFirst, type Page } from './keyset.ts'

type Db = Kysely<Database> | Transaction<Database>

/** Raw deliveries, signature-failure counters and privacy exports are kept this long. */
export const DELIVERY_RETENTION_DAYS = 30
/**
 * Pruning runs on about 1 in PRUNE_EVERY delivery inserts (see insertDelivery): no scheduler is
 * needed, an idle installation has nothing new to prune, and a busy one prunes often enough that
 * each run deletes a small batch. The delete uses the received_at index.
 */
export const PRUNE_EVERY = 100

export type DeliveryStatus = 'processed' | 'duplicate' | 'failed'

export interface DeliveryEventResult {
  id: string
  type: string
  duplicate: boolean
}

export interface DeliveryResult {
  events: DeliveryEventResult[]
  compliance?: string
  export_id?: string
  erased?: { customers: number } | null
  replayed_from?: string
}

export interface DeliveryRow {
  id: string
  connector_id: string
  store_id: string
  platform: string
  topic: string
  headers: Record<string, string>
  body: string
  verified: boolean
  verify_error: string | null
  dedupe_key: string | null
  delivery_id: string | null
  unknown_topic: boolean
  status: DeliveryStatus
  result: DeliveryResult
  error: string | null
  received_at: string
  processed_at: string | null
}

export async function insertDelivery(db: Db, d: DeliveryRow, options: { prune?: boolean; retentionDays?: number } = {}): Promise<void> {
  await db.insertInto('webhook_deliveries').values(toRow(d)).execute()
  if (options.prune ?? Math.random() < 1 / PRUNE_EVERY) await pruneDeliveries(db, new Date(d.received_at), options.retentionDays)
}

export async function updateDeliveryOutcome(db: Db, id: string, outcome: Pick<DeliveryRow, 'status' | 'result' | 'error' | 'processed_at'>): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: outcome.status, result: JSON.stringify(outcome.result), error: outcome.error, processed_at: outcome.processed_at })
    .where('id', '=', id)
    .execute()
}

/** A replay of a compliance delivery keeps the body with the customer's identifiers removed. */
export async function updateDeliveryBody(db: Db, id: string, body: string): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ body }).where('id', '=', id).execute()
}

function toRow(d: DeliveryRow): Selectable<WebhookDeliveriesTable> {
  return {
    id: d.id,
    connector_id: d.connector_id,
    store_id: d.store_id,
    platform: d.platform,
    topic: d.topic,
    headers: JSON.stringify(d.headers),
    body: d.body,
    verified: d.verified ? 1 : 0,
    verify_error: d.verify_error,
    dedupe_key: d.dedupe_key,
    delivery_id: d.delivery_id,
    unknown_topic: d.unknown_topic ? 1 : 0,
    status: d.status,
    result: JSON.stringify(d.result),
    error: d.error,
    received_at: d.received_at,
    processed_at: d.processed_at,
  }
}

export function fromRow(r: Selectable<WebhookDeliveriesTable>): DeliveryRow {
  return {
    id: r.id,
    connector_id: r.connector_id,
    store_id: r.store_id,
    platform: r.platform,
    topic: r.topic,
    headers: JSON.parse(r.headers) as Record<string, string>,
    body: r.body,
    verified: r.verified === 1,
    verify_error: r.verify_error,
    dedupe_key: r.dedupe_key,
    delivery_id: r.delivery_id,
    unknown_topic: r.unknown_topic === 1,
    status: r.status as DeliveryStatus,
    result: JSON.parse(r.result) as DeliveryResult,
    error: r.error,
    received_at: r.received_at,
    processed_at: r.processed_at,
  }
}

/** A delivery as lists show it: no headers or body (GET /deliveries/:id has them). */
export function deliverySummary(d: DeliveryRow): Record<string, unknown> {
  return {
    id: d.id,
    connector_id: d.connector_id,
    platform: d.platform,
    topic: d.topic,
    status: d.status,
    verified: d.verified,
    verify_error: d.verify_error,
    dedupe_key: d.dedupe_key,
    delivery_id: d.delivery_id,
    unknown_topic: d.unknown_topic,
    event_ids: d.result.events.map((e) => e.id),
    duplicate: d.result.events.length > 0 && d.result.events.every((e) => e.duplicate),
    error: d.error,
    received_at: d.received_at,
    processed_at: d.processed_at,
  }
}

export async function getDelivery(db: Db, storeId: string, id: string): Promise<DeliveryRow> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (!row)
    throw new UserError(
      `delivery "${id}" not found in store "${storeId}" (deliveries are kept ${DELIVERY_RETENTION_DAYS} days unless STOREFLOW_RETENTION_DELIVERIES_DAYS says otherwise)`,
      { code: 'not_found' },
    )
  return fromRow(row)
}

export async function listDeliveries(
  db: Db,
  storeId: string,
  filter: { connector?: string; status?: string; limit: number; cursor?: string },
): Promise<Page<DeliveryRow>> {
  let q = db.selectFrom('webhook_deliveries').selectAll().where('store_id', '=', storeId)
  if (filter.connector) q = q.where('connector_id', '=', filter.connector)
  if (filter.status) q = q.where('status', '=', filter.status)
  const page = await newestFirst(q, { time: 'received_at', id: 'id' }, filter)
  return { items: page.items.map(fromRow), next_cursor: page.next_cursor }
}

export interface ConnectorHealth {
  connector_id: string
  last_delivery_at: string | null
  deliveries_24h: number
  failures_24h: number
  signature_failures_24h: number
  last_signature_failure_at: string | null
  last_signature_failure_reason: string | null
}

/**
 * Health of one connector. Signature failures are counted per UTC hour (nothing of a refused delivery
 * is stored), so "24h" there means the current hour and the 24 before it.
 */
export async function connectorHealth(db: Db, connectorId: string, now: Date): Promise<ConnectorHealth> {
  const since = new Date(now.getTime() - 24 * 3600_000).toISOString()
  const last = await db
    .selectFrom('webhook_deliveries')
    .select('received_at')
    .where('connector_id', '=', connectorId)
    .orderBy('received_at', 'desc')
    .limit(1)
    .executeTakeFirst()
  const counts = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>(eb.case().when('status', '=', 'failed').then(1).else(0).end()).as('failed')])
    .where('connector_id', '=', connectorId)
    .where('received_at', '>=', since)
    .executeTakeFirst()
  const sinceHour = since.slice(0, 13)
  const buckets = await db
    .selectFrom('connector_signature_failures')
    .selectAll()
    .where('connector_id', '=', connectorId)
    .where('hour', '>=', sinceHour)
    .orderBy('last_at', 'desc')
    .execute()
  const newest = buckets[0]
  return {
    connector_id: connectorId,
    last_delivery_at: last?.received_at ?? null,
    deliveries_24h: Number(counts?.n ?? 0),
    failures_24h: Number(counts?.failed ?? 0),
    signature_failures_24h: buckets.reduce((n, b) => n + Number(b.count), 0),
    last_signature_failure_at: newest?.last_at ?? null,
    last_signature_failure_reason: newest?.last_reason ?? null,
  }
}

/**
 * Deletes deliveries older than `deliveryDays` (STOREFLOW_RETENTION_DELIVERIES_DAYS; 0 keeps them),
 * 1000 a statement, and signature-failure counters and privacy exports older than 30 days.
 */
export async function pruneDeliveries(db: Db, now: Date, deliveryDays = DELIVERY_RETENTION_DAYS): Promise<{ deliveries: number }> {
  const day = 86_400_000
  let deliveries = 0
  if (deliveryDays > 0) {
    const cutoff = new Date(now.getTime() - deliveryDays * day).toISOString()
    for (;;) {
      const res = await db
        .deleteFrom('webhook_deliveries')
        .where('id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where('received_at', '<', cutoff).limit(1000))
        .executeTakeFirst()
      const n = Number(res.numDeletedRows)
      deliveries += n
      if (n < 1000) break
    }
  }
  const cutoff = new Date(now.getTime() - DELIVERY_RETENTION_DAYS * day).toISOString()
  await db.deleteFrom('connector_signature_failures').where('hour', '<', cutoff.slice(0, 13)).execute()
  await db.deleteFrom('privacy_exports').where('created_at', '<', cutoff).execute()
  return { deliveries }
}
