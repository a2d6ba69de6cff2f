import { z } from 'zod'
import { normaliseMoney, moneyToNumber } from '../../lib/money.ts'
import { defineAction, PermanentError, RetryableError, SkipStep, type StepLabel } from '../../plugin-api/index.ts'
import { callRemote } from '../shared/remote-api.ts'

/**
 * Shippo's REST API as documented at https://docs.goshippo.com (API version 2018-02-08):
 * - `POST /shipments/` with `address_from`, `address_to`, `parcels` and `async: false` answers
 *   the shipment with its `rates` (`object_id`, `amount`, `currency`, `provider`,
 *   `servicelevel.name`, `estimated_days`);
 * - `POST /transactions/` with `rate`, `label_file_type`, `async: false` and `metadata` (≤ 100
 *   characters) buys the label: `status` SUCCESS with `tracking_number`, `label_url`, or ERROR
 *   with `messages[].text`;
 * - `GET /transactions/?rate=<id>` lists the transactions bought with a rate (with their metadata);
 * - every request: `Authorization: ShippoToken <token>`; errors are DRF-style JSON (`detail`).
 */
const DAY_MS = 86_400_000

const input = z.object({
  deliver_by: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}/, 'an ISO-8601 date, e.g. 2026-03-10')
    // 2026-13-45 has the shape but no day: refused here, not compared with rates as NaN days
    .refine(
      (v) => !Number.isNaN(Date.parse(v)) && new Date(`${v.slice(0, 10)}T00:00:00Z`).toISOString().slice(0, 10) === v.slice(0, 10),
      'a calendar date, e.g. 2026-03-10',
    )
    .optional()
    .describe('The promised delivery date (ISO-8601): the cheapest rate whose estimated_days arrives by then is bought'),
  max_days: z.number().int().min(1).max(60).optional().describe('Or: the most days in transit the promise allows; without either, the cheapest rate'),
  parcel: z
    .object({
      length: z.string().describe('Length, in distance_unit'),
      width: z.string().describe('Width, in distance_unit'),
      height: z.string().describe('Height, in distance_unit'),
      distance_unit: z.enum(['cm', 'in', 'ft', 'mm', 'm', 'yd']).describe('Unit of length, width and height'),
      weight: z.string().describe('Weight, in mass_unit'),
      mass_unit: z.enum(['g', 'oz', 'lb', 'kg']).describe('Unit of weight'),
    })
    .optional()
    .describe("The parcel; default: the shippo integration's config.default_parcel"),
  label_file_type: z.enum(['PDF', 'PDF_4x6', 'PNG', 'ZPLII']).default('PDF_4x6').describe('Label format (Shippo label_file_type); default PDF_4x6'),
})

const output = z.object({
  label_url: z.string(),
  tracking_number: z.string(),
  carrier: z.string(),
  service: z.string(),
  amount: z.string(),
  currency: z.string(),
  estimated_days: z.number().nullable(),
})

interface ShippoRate {
  object_id?: string
  amount?: string
  currency?: string
  provider?: string
  servicelevel?: { name?: string; token?: string }
  estimated_days?: number | null
}

interface ShippoTransaction {
  object_id?: string
  status?: string
  tracking_number?: string
  label_url?: string
  metadata?: string
  messages?: Array<{ text?: string }>
}

const shippoError = (body: unknown): string | null => {
  if (!body || typeof body !== 'object') return null
  const b = body as Record<string, unknown>
  if (typeof b.detail === 'string') return b.detail
  return JSON.stringify(b).slice(0, 300)
}

export const createShippingLabel = defineAction({
  type: 'create_shipping_label',
  title: 'Create shipping label',
  description:
    "Buys a shipping label through Shippo for the order the run's trigger is about: asks Shippo for rates from the store's ship-from address (the shippo integration's config.ship_from) to the order's shipping_address, buys the cheapest rate whose estimated_days meets `deliver_by` or `max_days` (the cheapest of all without either), and answers the label URL, tracking number, carrier, service, price and estimated days. A retried step never buys a second label: the chosen rate is stored before the purchase and the purchase carries the step's idempotency key as Shippo metadata, so a retry after an unclear failure finds the label it bought. The tracking number ties later tracking webhooks (POST /webhooks/shippo/:store) to the order. Fails for good when the store has no shippo integration, when Shippo refuses the token (401), or when no rate meets the date; retries on 429 (after Retry-After), 5xx and network failures. Skipped when the trigger is about no order.",
  input,
  output,
  effects: 'external',
  retry: { safe: true, maxAttempts: 6 },
  examples: [{ max_days: 3, label_file_type: 'PDF_4x6' }],
  async run({ input, scope, services, idempotencyKey, run, clock, dryRun }) {
    const order = scope.order as Record<string, unknown> | null | undefined
    if (!order || order.id == null) throw new SkipStep('no_order')
    const orderId = String(order.id)
    if (dryRun) {
      return {
        label_url: '',
        tracking_number: '',
        carrier: 'dry_run',
        service: 'dry_run',
        amount: '0',
        currency: String(order.currency ?? ''),
        estimated_days: null,
      }
    }
    const account = await services.remote.account('shippo')
    if (!account?.credentials.api_token) {
      throw new PermanentError('the store has no shippo integration; set one with PUT /api/v1/integrations/shippo', { code: 'not_found' })
    }
    const base = account.apiUrl.replace(/\/+$/, '')
    const what = `Shippo (${new URL(base).host})`
    const headers = { authorization: `ShippoToken ${account.credentials.api_token}`, 'shippo-api-version': '2018-02-08' }
    const call = (method: 'GET' | 'POST', path: string, json?: unknown) =>
      callRemote(
        services.http,
        what,
        { method, url: `${base}${path}`, headers, ...(json !== undefined ? { json } : {}) },
        {
          now: clock.now(),
          fix: "check the shippo integration's api_token (PUT /api/v1/integrations/shippo)",
          errorText: shippoError,
        },
      )

    let label = await services.remote.stepLabel(run.id, run.stepKey)
    if (label?.status === 'bought') return outputOf(label)
    if (label) {
      // an earlier attempt chose this rate and may have bought it before failing: look for it
      const listed = await call('GET', `/transactions/?rate=${encodeURIComponent(label.rateId)}&results=100`)
      const found = ((listed.body as { results?: ShippoTransaction[] })?.results ?? []).find((t) => t.metadata === idempotencyKey && t.status === 'SUCCESS')
      if (found) return outputOf(await bought(label, found))
    } else {
      const shipTo = addressOf(order)
      const shipFrom = account.config.ship_from
      if (!shipFrom || typeof shipFrom !== 'object')
        throw new PermanentError('the shippo integration has no config.ship_from address; add it with PUT /api/v1/integrations/shippo')
      const parcel = input.parcel ?? account.config.default_parcel
      if (!parcel) throw new PermanentError('parcel: give one in the step, or config.default_parcel in the shippo integration')
      const shipment = await call('POST', '/shipments/', {
        address_from: shipFrom,
        address_to: shipTo,
        parcels: [parcel],
        async: false,
        metadata: `order ${orderId}`.slice(0, 100),
      })
      const rates = ((shipment.body as { rates?: ShippoRate[] })?.rates ?? []).filter((r) => r.object_id && normaliseMoney(r.amount) !== null)
      if (rates.length === 0) throw new PermanentError(`${what} offered no rates for order ${orderId}; check the addresses and parcel`)
      const maxDays = input.max_days ?? (input.deliver_by ? Math.ceil((Date.parse(input.deliver_by) - clock.now().getTime()) / DAY_MS) : null)
      const eligible = maxDays === null ? rates : rates.filter((r) => typeof r.estimated_days === 'number' && r.estimated_days <= maxDays)
      if (eligible.length === 0) {
        const fastest = Math.min(...rates.map((r) => (typeof r.estimated_days === 'number' ? r.estimated_days : Number.POSITIVE_INFINITY)))
        throw new PermanentError(
          `no rate arrives within ${maxDays} days (the fastest takes ${Number.isFinite(fastest) ? fastest : 'an unknown number of'} days)`,
          {
            reason: 'no_rate_meets_date',
          },
        )
      }
      const cheapest = eligible.reduce((a, b) => (moneyToNumber(b.amount!) < moneyToNumber(a.amount!) ? b : a))
      label = {
        status: 'pending',
        orderId,
        rateId: cheapest.object_id!,
        carrier: cheapest.provider ?? 'unknown',
        service: cheapest.servicelevel?.name ?? cheapest.servicelevel?.token ?? 'unknown',
        amount: normaliseMoney(cheapest.amount)!,
        currency: cheapest.currency ?? '',
        estimatedDays: typeof cheapest.estimated_days === 'number' ? cheapest.estimated_days : null,
        transactionId: null,
        trackingNumber: null,
        labelUrl: null,
      }
      // stored before buying: a retry after a failure we cannot read (a time-out after Shippo
      // charged) looks the purchase up by this rate and the metadata instead of buying again
      await services.remote.saveStepLabel(run.id, run.stepKey, label)
    }
    const transaction = await call('POST', '/transactions/', {
      rate: label.rateId,
      label_file_type: input.label_file_type,
      async: false,
      metadata: idempotencyKey.slice(0, 100),
    })
    const t = transaction.body as ShippoTransaction
    if (t.status === 'QUEUED' || t.status === 'WAITING') throw new RetryableError(`${what} is still buying the label (${t.status})`)
    if (t.status !== 'SUCCESS') {
      throw new PermanentError(`${what} could not buy the label: ${(t.messages ?? []).map((m) => m.text).join('; ') || t.status}`, { reason: 'label_failed' })
    }
    return outputOf(await bought(label, t))

    async function bought(chosen: StepLabel, t: ShippoTransaction): Promise<StepLabel> {
      const done: StepLabel = {
        ...chosen,
        status: 'bought',
        transactionId: t.object_id ?? null,
        trackingNumber: t.tracking_number ?? '',
        labelUrl: t.label_url ?? '',
      }
      await services.remote.saveStepLabel(run.id, run.stepKey, done)
      return done
    }
  },
})

function outputOf(label: StepLabel): z.infer<typeof output> {
  return {
    label_url: label.labelUrl ?? '',
    tracking_number: label.trackingNumber ?? '',
    carrier: label.carrier,
    service: label.service,
    amount: label.amount,
    currency: label.currency,
    estimated_days: label.estimatedDays,
  }
}

/** The order's shipping_address (Shopify's field names, docs/events.md) as a Shippo address. */
function addressOf(order: Record<string, unknown>): Record<string, unknown> {
  const a = order.shipping_address as Record<string, unknown> | null | undefined
  if (!a?.country_code) throw new PermanentError(`order ${String(order.id)} has no shipping_address with a country_code`, { reason: 'no_address' })
  const name = a.name ?? ([a.first_name, a.last_name].filter(Boolean).join(' ') || null)
  const out: Record<string, unknown> = {
    name,
    company: a.company,
    street1: a.address1 ?? a.street1,
    street2: a.address2 ?? a.street2,
    city: a.city,
    state: a.province_code ?? a.province ?? a.state,
    zip: a.zip ?? a.postal_code,
    country: a.country_code,
    phone: a.phone,
    email: order.email ?? (order.customer as Record<string, unknown> | undefined)?.email,
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v != null && v !== ''))
}
