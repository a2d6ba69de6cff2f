import { parseEvent } from '../contracts/events.ts'
import { UserError } from '../lib/errors.ts'
import { integrationFor, listIntegrations, putIntegration, removeIntegration, tokenMatches } from '../store/integrations.repo.ts'
import { orderForTracking } from '../store/shipments.repo.ts'
import { audited } from './audit-log.ts'
import type { ServiceContext } from './context.ts'

/**
 * Shippo's tracking statuses (track_updated webhook, `data.tracking_status.status`, documented at
 * https://docs.goshippo.com/docs/Tracking/Webhooks and the Track object) as shipment.updated
 * statuses. PRE_TRANSIT (label made, nothing scanned) and UNKNOWN say nothing a customer would be
 * told: acknowledged, no event. TRANSIT with substatus `out_for_delivery` is out for delivery.
 */
const SHIPPO_STATUS: Record<string, 'in_transit' | 'delivered' | 'exception'> = {
  TRANSIT: 'in_transit',
  DELIVERED: 'delivered',
  FAILURE: 'exception',
  RETURNED: 'exception',
}

/** The remote services' credentials (integrations) and the Shippo tracking webhook. */
export function createRemoteService(ctx: ServiceContext) {
  const db = ctx.handle.db
  const secretKey = ctx.config.secretKey
  return {
    list: (storeId: string) => listIntegrations(db, secretKey, storeId),
    put: (storeId: string, kind: string, input: unknown, actor?: string) =>
      audited(
        ctx,
        storeId,
        actor,
        (trx) => putIntegration(trx, secretKey, storeId, kind, input, ctx.clock.now()),
        // the integration's kind and address; its credentials stay sealed
        (v) => ({ action: 'integration.changed', target_id: v.kind, details: { kind: v.kind, api_url: v.api_url } }),
      ),
    remove: (storeId: string, kind: string, actor?: string) =>
      audited(
        ctx,
        storeId,
        actor,
        (trx) => removeIntegration(trx, storeId, kind),
        () => ({ action: 'integration.removed', target_id: kind }),
      ),

    /**
     * A Shippo track_updated delivery for `storeId`. Shippo signs nothing by default; its documented
     * protection is a self-generated token in the webhook URL (`?token=`), here the shippo
     * integration's `webhook_token`, compared in constant time. A wrong or missing token, or a
     * store without a shippo integration, is the same 401. Redeliveries of one update map to one
     * event id (tracking number, status and status date), so they are accepted once. `admit` runs
     * once the token matched (the route's STOREFLOW_INGEST_RATE_LIMIT check: a caller without the
     * token spends no budget) and throws to refuse the delivery.
     */
    async shippoWebhook(storeId: string, token: string | undefined, body: unknown, admit: () => void = () => {}) {
      const integration = await integrationFor(db, secretKey, storeId, 'shippo').catch(() => null)
      const expected = integration?.credentials.webhook_token
      if (!expected || !token || !tokenMatches(token, expected)) {
        throw new UserError("the webhook token does not match the store's shippo integration (?token= in the webhook URL)", { code: 'unauthorized' })
      }
      admit()
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw new UserError('body: must be a JSON object', { code: 'validation_failed', details: { field: 'body' } })
      const b = body as Record<string, unknown>
      if (b.event !== 'track_updated') return { accepted: false, reason: `event ${String(b.event)} is not handled` }
      const data = (b.data ?? {}) as Record<string, unknown>
      const trackingNumber = typeof data.tracking_number === 'string' ? data.tracking_number : null
      if (!trackingNumber) throw new UserError('data.tracking_number: required', { code: 'validation_failed', details: { field: 'data.tracking_number' } })
      const ts = (data.tracking_status ?? {}) as Record<string, unknown>
      const substatus = (ts.substatus ?? {}) as Record<string, unknown>
      const shippoStatus = String(ts.status ?? 'UNKNOWN')
      const status = shippoStatus === 'TRANSIT' && substatus.code === 'out_for_delivery' ? 'out_for_delivery' : SHIPPO_STATUS[shippoStatus]
      if (!status) return { accepted: false, reason: `tracking status ${shippoStatus} is not a shipment update` }
      const label = await orderForTracking(db, storeId, trackingNumber)
      if (!label) return { accepted: false, reason: 'no label of this store has this tracking number' }
      const now = ctx.clock.now()
      const statusDate = typeof ts.status_date === 'string' ? ts.status_date : null
      const parsed = parseEvent(
        {
          id: `shippo:${trackingNumber}:${shippoStatus}:${String(substatus.code ?? '')}:${statusDate ?? String(ts.object_id ?? '')}`.slice(0, 255),
          type: 'shipment.updated',
          store: storeId,
          occurred_at: statusDate && !Number.isNaN(Date.parse(statusDate)) ? new Date(statusDate).toISOString() : now.toISOString(),
          data: {
            order_id: label.orderId,
            status,
            carrier: typeof data.carrier === 'string' ? data.carrier : label.carrier,
            tracking_number: trackingNumber,
            ...(typeof data.eta === 'string' && !Number.isNaN(Date.parse(data.eta)) ? { estimated_delivery_at: new Date(data.eta).toISOString() } : {}),
          },
        },
        { store: storeId, now },
      )
      if (!parsed.ok) throw new UserError(`${parsed.issues[0]!.path}: ${parsed.issues[0]!.message}`, { code: 'validation_failed' })
      const [result] = await ctx.engine.ingest([parsed.event], { historical: false, source: 'webhook' })
      return { accepted: true, event_id: parsed.event.id, duplicate: result?.duplicate ?? false }
    },
  }
}
