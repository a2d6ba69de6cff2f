import { z } from 'zod'
import { defineAction, SkipStep } from '../../plugin-api/index.ts'
import { subjectOrder } from '../shared/subject-order.ts'
import { holdInShop } from './shop.ts'

export const holdOrder = defineAction({
  type: 'hold_order',
  title: 'Hold order for review',
  description:
    "Holds the order the run's trigger is about for fraud review in storeflow's view (`order.held` true, `order.held_reason`), and puts the order's risk score and reasons (`order.risk`) in the step's output, so they show on the run's timeline. " +
    "When the store has a Shopify connector with an access token, the order is held in the shop too: each of its fulfillment orders that can be held is put on hold (GraphQL Admin API `fulfillmentOrderHold`, reason `HIGH_RISK_OF_FRAUD` when the risk level is high, else `OTHER`, the reason as the hold's notes), so the shop does not ship it until someone releases the hold; the token needs the read and write merchant-managed fulfillment orders scopes. A retried step does not hold a fulfillment order twice; an order the shop does not know fails the step. " +
    'Output `shop`: `held`, `nothing_to_hold` (no fulfillment order could be held: all fulfilled, closed or cancelled), or `not_connected` when there is no such connector. Shopify throttling and outages retry the step; a refused token (401) fails it, naming the connector. Skipped when the trigger is about no order. Under simulate it shows what it would hold and why, and touches neither the view nor the shop (`shop: dry_run`).',
  input: z.object({
    reason: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe("Why, as `order.held_reason` shows it; default: the order's risk reasons joined with '; ', or 'held for review' when there are none"),
  }),
  output: z.object({
    held: z.literal(true),
    reason: z.string(),
    score: z.number(),
    level: z.string(),
    reasons: z.array(z.string()),
    shop: z.enum(['held', 'not_connected', 'nothing_to_hold', 'dry_run']),
  }),
  effects: 'external',
  simulate: 'dry_run',
  retry: { safe: true },
  examples: [{}, { reason: 'billing and shipping countries differ' }],
  async run({ input, scope, services, idempotencyKey, dryRun }) {
    const order = subjectOrder(scope)
    const reasons = order?.risk?.reasons ?? []
    const reason = input.reason ?? (reasons.length > 0 ? reasons.join('; ') : 'held for review')
    const level = order?.risk?.level ?? 'low'
    const shown = { held: true as const, reason, score: order?.risk?.score ?? 0, level, reasons }
    // simulate: says what it would hold and why, touches nothing (not the view, not the shop)
    if (dryRun) return { ...shown, shop: 'dry_run' as const }
    if (!order) throw new SkipStep('no_order')
    // storeflow's view first (the same mark however often it runs), then the shop
    if (!(await services.orders.hold(order.id, reason))) throw new SkipStep('no_order')
    const shop = await holdInShop(services, { orderId: order.id, highRisk: level === 'high', notes: reason.slice(0, 500), idempotencyKey })
    return { ...shown, shop }
  },
})
