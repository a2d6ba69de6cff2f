import { z } from 'zod'
import { moneyText } from '../../lib/money.ts'
import { multiplyMoney, wholeUnits } from '../../lib/money-scale.ts'
import { defineAction, PermanentError, SkipStep } from '../../plugin-api/index.ts'

/** The most points one step may award, so that balances stay inside the 32-bit integer column that holds them. */
const MAX_AWARD = 1_000_000

const input = z
  .object({
    points: z
      .number()
      .int()
      .min(0)
      .max(1_000_000_000)
      .optional()
      .describe('Points to award, a whole number up to 1,000,000 (a step awards at most that in all). Default 0 (give this, per_currency_unit, or both).'),
    per_currency_unit: z
      .number()
      .positive()
      .max(1_000_000)
      .optional()
      .describe(
        "Points per unit of the triggering order's total_price (1: one point per dollar), added to `points` and rounded down. Needs a run started by an order.* event.",
      ),
    reason: z.string().max(200).optional().describe('Why the points were given, kept in the ledger. Default: none.'),
  })
  .superRefine((v, ctx) => {
    if (v.points === undefined && v.per_currency_unit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['points'], message: 'give points: N, per_currency_unit: N, or both' })
    }
  })

const output = z.object({ points: z.number(), balance: z.number(), order_id: z.string().nullable() })

export const awardLoyaltyPoints = defineAction({
  type: 'award_loyalty_points',
  title: 'Award loyalty points',
  description:
    "Adds points to the customer's loyalty balance (`customer.loyalty_points` in conditions, `loyalty_points` on GET /api/v1/customers/:id): a fixed number, points per unit of the triggering order's total, or both. " +
    'The step awards once however often it is tried. Points earned for an order are taken back, once, when the order is cancelled or refunded; an order already cancelled or refunded earns nothing (the step is skipped).',
  input,
  output,
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{ points: 100, reason: 'welcome' }, { per_currency_unit: 1 }, { points: 50, per_currency_unit: 2, reason: 'double points weekend' }],
  async run({ input: v, run, customer, scope, services }) {
    if (!customer) throw new SkipStep('no_customer')
    const order = scope.order as { id?: unknown; total_price?: unknown } | null | undefined
    const orderId = order?.id != null ? String(order.id) : null
    let points = v.points ?? 0
    if (v.per_currency_unit !== undefined) {
      const total = order?.total_price != null ? moneyText(order.total_price) : null
      if (total === null)
        throw new SkipStep('no_order', { reason: "per_currency_unit needs the triggering order's total: start the workflow on an order.* event" })
      points += wholeUnits(multiplyMoney(total, moneyText(v.per_currency_unit) ?? '0'))
    }
    if (points === 0) throw new SkipStep('no_points', { order_id: orderId })
    if (points > MAX_AWARD) throw new PermanentError(`an award of ${points} points is over the limit of ${MAX_AWARD} per step`, { reason: 'points_limit' })
    const result = await services.loyalty.award({ runId: run.id, stepKey: run.stepKey, customerKey: customer.key, points, reason: v.reason ?? null, orderId })
    if (result.status === 'order_reversed') throw new SkipStep('order_cancelled_or_refunded', { order_id: result.orderId })
    return { points: result.points, balance: result.balance, order_id: orderId }
  },
})
