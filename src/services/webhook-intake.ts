import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import { checkLimits, type LimitIssue } from '../contracts/limits.ts'
import { connectorFor, ShopApiError } from '../connectors/registry.ts'
import type { MappedDelivery, Platform, WebhookDelivery } from '../connectors/types.ts'
import { errorMessage, OperationalError, StoreflowError, UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { SecretBoxError } from '../lib/secret-box.ts'
import { connectorById, connectorsFor, type ConnectorWithCredentials } from '../store/connectors.repo.ts'
import {
  getDelivery,
  insertDelivery,
  updateDeliveryBody,
  updateDeliveryOutcome,
  type DeliveryResult,
  type DeliveryRow,
  type DeliveryStatus,
} from '../store/deliveries.repo.ts'
import { complianceDuty } from './compliance.ts'
import type { ServiceContext } from './context.ts'
import type { IngestGuards } from './ingest-guards.ts'

/**
 * A shop's webhook delivery, from raw bytes to stored events (docs/events.md, "Ingest paths"):
 * verify against each of the store's connectors for the platform → map → privacy duties for
 * compliance topics → ingest (idempotent on event id) → keep the delivery with its outcome.
 *
 * Answers:
 * - 401: no connector, or no connector's secret verifies it. Nothing of the delivery is stored,
 *   and nothing is written per delivery: the failure is tallied in memory and the connector's
 *   hourly counter row updated once a minute (signature-failures.ts), which feeds the health view.
 * - 429 with Retry-After: a verified delivery over the store's STOREFLOW_INGEST_RATE_LIMIT. Checked
 *   after the signature, so someone without the secret cannot spend a store's budget.
 * - 200: accepted (also for duplicates, unknown topics and the WooCommerce ping), and for a
 *   verified delivery that cannot be taken in as it is: a body over the ingest limits
 *   (docs/limits.md), mapped events that fail the canonical schemas, a mapping that throws. The
 *   platform retrying the same bytes would not help (Shopify retries a non-2xx for hours, and
 *   WooCommerce disables a hook after a few failures), so the delivery is kept as `failed`, shown
 *   in health and the deliveries list, and can be replayed after the fix. Never a 5xx for these.
 * - 503: the shop's API (BigCommerce) failed or the connector lacks what the fetch needs, or
 *   storage failed: the platform retries later. Kept as `failed` when it can be.
 * Used by the webhook routes and by replay (deliveries.ts: the API's and `storeflow deliveries replay`).
 */

export interface WebhookAnswer {
  status: number
  body: Record<string, unknown>
  headers?: Record<string, string>
}

export interface ReplayOutcome {
  id: string
  status: DeliveryStatus
  events: Array<{ id: string; type: string; duplicate: boolean }>
  duplicate: boolean
  error: string | null
}

/** The webhook routes' use case: one delivery, verified, taken in and kept. Replay is the deliveries service's. */
export function createWebhookIntakeService(ctx: ServiceContext) {
  return {
    receive: (platform: Platform, storeId: string, delivery: WebhookDelivery, guards: IngestGuards): Promise<WebhookAnswer> =>
      receiveWebhook(ctx, platform, storeId, delivery, guards),
  }
}

/** Headers that carry credentials are not kept with a delivery. */
const DROP_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'x-auth-token'])

async function receiveWebhook(ctx: ServiceContext, platform: Platform, storeId: string, d: WebhookDelivery, guards: IngestGuards): Promise<WebhookAnswer> {
  let connectors: ConnectorWithCredentials[]
  try {
    connectors = await connectorsFor(ctx.handle.db, ctx.config.secretKey, storeId, platform)
  } catch (err) {
    if (err instanceof SecretBoxError) {
      ctx.log.error({ storeId, platform, err }, 'connector secrets do not open')
      return errorAnswer(503, 'unavailable', `the ${platform} connector's secrets cannot be read with this STOREFLOW_SECRET_KEY; add the connector again`)
    }
    throw err
  }
  // WooCommerce pings every new hook, unsigned, and reports an error unless it gets a 200: the
  // ping may come before the connector is added
  if (connectors.length === 0 && platform === 'woocommerce' && connectorFor(platform).verify(d, { secrets: [] }, ctx.clock.now()).ok) {
    return { status: 200, body: { ok: true, ping: true } }
  }
  if (connectors.length === 0)
    return errorAnswer(
      401,
      'unauthorized',
      `store "${storeId}" has no ${platform} connector; add one with: storeflow connectors add --platform ${platform} --secret S --store ${storeId}`,
    )

  const connector = connectorFor(platform)
  const now = ctx.clock.now()
  let firstReason = ''
  for (const c of connectors) {
    const verdict = connector.verify(d, c.credentials, now)
    if (verdict.ok) {
      if (verdict.ping) return { status: 200, body: { ok: true, ping: true } }
      const rate = guards.rate
      const wait = rate ? rate.forStore(c.store) : null
      if (rate && wait !== null) {
        return {
          ...errorAnswer(
            429,
            'rate_limited',
            `rate limited: store "${c.store}" takes ${rate.describe('webhook deliveries')} (STOREFLOW_INGEST_RATE_LIMIT); retry in ${wait}s`,
          ),
          headers: { 'retry-after': String(wait) },
        }
      }
      return processVerified(ctx, c, d)
    }
    firstReason ||= verdict.reason
  }
  if (
    guards.signatureFailures.record(
      connectors.map((c) => c.id),
      firstReason,
      now,
    )
  ) {
    ctx.log.warn({ storeId, platform, reason: firstReason }, 'webhook signature refused (more are counted and logged once a minute)')
  }
  return errorAnswer(401, 'unauthorized', `signature refused: ${firstReason}`)
}

function errorAnswer(status: number, code: string, message: string): WebhookAnswer {
  return { status, body: { error: { code, message, details: null } } }
}

function keptHeaders(d: WebhookDelivery, c: ConnectorWithCredentials): Record<string, string> {
  // BigCommerce custom-header secrets (`header:<Name>:<value>`): that header's value is the secret
  const secretHeaders = new Set(c.credentials.secrets.filter((s) => s.startsWith('header:')).map((s) => s.slice(7).split(':')[0]!.trim().toLowerCase()))
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(d.headers)) if (v !== undefined && !DROP_HEADERS.has(k) && !secretHeaders.has(k)) out[k] = v
  return out
}

interface Outcome {
  status: DeliveryStatus
  result: DeliveryResult
  error: string | null
  mapped: MappedDelivery | null
  /** the body to keep: the raw one, or with the customer's identifiers removed after a redact */
  body: string
  http: number
}

async function processVerified(ctx: ServiceContext, c: ConnectorWithCredentials, d: WebhookDelivery): Promise<WebhookAnswer> {
  const id = newId('dlv_')
  const outcome = await mapAndIngest(ctx, c, d, id)
  const row: DeliveryRow = {
    id,
    connector_id: c.id,
    store_id: c.store,
    platform: c.platform,
    topic: outcome.mapped?.topic ?? topicHeader(c.platform, d),
    headers: keptHeaders(d, c),
    body: outcome.body,
    verified: true,
    verify_error: null,
    dedupe_key: outcome.mapped?.dedupeKey ?? null,
    delivery_id: outcome.mapped?.deliveryId ?? d.headers['x-shopify-webhook-id'] ?? d.headers['x-wc-webhook-delivery-id'] ?? d.headers['webhook-id'] ?? null,
    unknown_topic: outcome.mapped?.unknownTopic ?? false,
    status: outcome.status,
    result: outcome.result,
    error: outcome.error,
    received_at: d.receivedAt.toISOString(),
    processed_at: ctx.clock.now().toISOString(),
  }
  try {
    await insertDelivery(ctx.handle.db, row, { retentionDays: ctx.config.retentionDeliveriesDays })
  } catch (err) {
    ctx.log.error({ err, deliveryId: id }, 'delivery not stored')
    // events (if any) are in; without the record a retry by the platform is the safe outcome
    if (outcome.status !== 'failed') return errorAnswer(503, 'unavailable', 'the delivery could not be stored; retry')
  }
  return answer(id, outcome)
}

function answer(id: string, outcome: Outcome): WebhookAnswer {
  if (outcome.http !== 200)
    return {
      status: outcome.http,
      body: { error: { code: outcome.http === 503 ? 'unavailable' : 'internal', message: outcome.error ?? 'failed', details: { delivery: id } } },
    }
  const events = outcome.result.events
  return {
    status: 200,
    body: {
      ok: outcome.status !== 'failed',
      delivery: id,
      events: events.length,
      // a delivery may map to an event already stored (another topic's delivery carried it) and
      // a new one: `new_events` says how many of `events` this delivery added
      new_events: events.filter((e) => !e.duplicate).length,
      duplicate: events.length > 0 && events.every((e) => e.duplicate),
      ...(outcome.mapped?.unknownTopic ? { unknown_topic: true } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    },
  }
}

function topicHeader(platform: Platform, d: WebhookDelivery): string {
  if (platform === 'shopify') return d.headers['x-shopify-topic'] ?? ''
  if (platform === 'woocommerce') return d.headers['x-wc-webhook-topic'] ?? ''
  // BigCommerce names the scope in the body
  const m = /"scope"\s*:\s*"([^"]{1,200})"/.exec(d.rawBody.toString('utf8'))
  return m?.[1] ?? ''
}

async function mapAndIngest(ctx: ServiceContext, c: ConnectorWithCredentials, d: WebhookDelivery, deliveryRowId: string): Promise<Outcome> {
  const rawText = d.rawBody.toString('utf8')
  // the ingest limits (docs/limits.md) before the connector parses and maps anything: a body over
  // them is kept as failed and answered 200, since the shop sending it again would not help
  const overLimit = bodyOverLimit(rawText)
  if (overLimit) {
    ctx.log.warn({ connectorId: c.id, path: overLimit.path }, 'webhook body over the ingest limits')
    return { status: 'failed', result: { events: [] }, error: `${overLimit.path}: ${overLimit.message}`, mapped: null, body: rawText, http: 200 }
  }
  let mapped: MappedDelivery
  try {
    mapped = await connectorFor(c.platform).map(d, c.credentials, { http: ctx.http })
  } catch (err) {
    const retry = err instanceof ShopApiError || err instanceof OperationalError || err instanceof UserError
    // a mapping that throws on this body will throw again on the shop's retry: keep it as failed
    // and answer 200, so it can be replayed once the mapping is fixed; only the shop's API being
    // down (or the connector lacking what the fetch needs) is worth the shop's retry
    if (retry) ctx.log.warn({ err, connectorId: c.id }, 'webhook mapping failed')
    else ctx.log.error({ err, connectorId: c.id }, 'webhook mapping threw: kept as failed for replay')
    return { status: 'failed', result: { events: [] }, error: errorMessage(err), mapped: null, body: rawText, http: retry ? 503 : 200 }
  }

  const result: DeliveryResult = { events: [] }
  let body = rawText
  let events = mapped.events
  if (mapped.compliance) {
    const duty = await complianceDuty(ctx, c.store, mapped, deliveryRowId)
    result.compliance = mapped.compliance
    if (duty.exportId) result.export_id = duty.exportId
    if (duty.erased !== undefined) result.erased = duty.erased
    body = duty.body ?? rawText
    events = events.map((e) => ({ ...e, data: duty.eventData }))
  }

  const now = ctx.clock.now()
  const canonical: CanonicalEvent[] = []
  const issues: string[] = []
  for (const e of events) {
    const parsed = parseEvent({ ...e, store: c.store }, { store: c.store, now })
    if (parsed.ok) canonical.push(parsed.event)
    else issues.push(`${e.type} ${e.id}: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`)
  }
  if (issues.length > 0) {
    ctx.log.warn({ connectorId: c.id, issues }, 'mapped events fail their schema')
    return { status: 'failed', result, error: `mapped events fail the canonical schema: ${issues.join(' | ')}`, mapped, body, http: 200 }
  }
  try {
    const ingested = canonical.length === 0 ? [] : await ctx.engine.ingest(canonical, { historical: false, source: c.platform })
    result.events = ingested.map((r, i) => ({ id: r.id, type: canonical[i]!.type, duplicate: r.duplicate }))
  } catch (err) {
    ctx.log.error({ err, connectorId: c.id }, 'webhook ingest failed')
    // storage being unavailable is worth the shop's retry (the ingest is one transaction, so nothing
    // of it is in); bad input or a bug would fail the same way again, so it is kept for replay
    const retry = !(err instanceof StoreflowError && err.status < 500) && !isProgrammingError(err)
    return { status: 'failed', result, error: errorMessage(err), mapped, body, http: retry ? 503 : 200 }
  }
  const duplicate = result.events.length > 0 && result.events.every((e) => e.duplicate)
  return { status: duplicate ? 'duplicate' : 'processed', result, error: null, mapped, body, http: 200 }
}

/** The body's first breach of the ingest limits, or null (also for a body that is not JSON: the connector deals with that). */
function bodyOverLimit(rawText: string): LimitIssue | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(rawText)
  } catch {
    return null
  }
  // the body becomes an event's data, so it sits at level 1 like data does
  return checkLimits(parsed, 'body', 1)
}

/** Errors that say the code met a value it cannot handle, rather than that something was unavailable. */
function isProgrammingError(err: unknown): boolean {
  return err instanceof RangeError || err instanceof TypeError || err instanceof SyntaxError
}

/**
 * Runs a stored delivery through today's mapping again and ingests what it yields. Events keep
 * deterministic ids, so an event that was ingested before is a duplicate; a fixed mapping that now
 * yields different events ingests those. The delivery's outcome is updated in place.
 */
export async function replayDelivery(ctx: ServiceContext, storeId: string, id: string): Promise<ReplayOutcome> {
  const db = ctx.handle.db
  const stored = await getDelivery(db, storeId, id)
  const c = await connectorById(db, ctx.config.secretKey, stored.connector_id)
  if (!c)
    throw new UserError(`delivery "${id}" came through connector ${stored.connector_id}, which was removed; add a ${stored.platform} connector again first`, {
      code: 'conflict',
    })
  const d: WebhookDelivery = { headers: stored.headers, rawBody: Buffer.from(stored.body, 'utf8'), receivedAt: new Date(stored.received_at) }
  const outcome = await mapAndIngest(ctx, c, d, stored.id)
  if (outcome.http === 503) throw new OperationalError(`replay of ${id} failed: ${outcome.error}`, { details: { delivery: id } })
  await updateDeliveryOutcome(db, id, {
    status: outcome.status,
    result: { ...outcome.result, replayed_from: stored.status },
    error: outcome.error,
    processed_at: ctx.clock.now().toISOString(),
  })
  if (outcome.body !== stored.body) await updateDeliveryBody(db, id, outcome.body)
  const events = outcome.result.events
  return {
    id,
    status: outcome.status,
    events: events.map((e) => ({ id: e.id, type: e.type, duplicate: e.duplicate })),
    duplicate: events.length > 0 && events.every((e) => e.duplicate),
    error: outcome.error,
  }
}
