import { z } from 'zod'
import { defineAction, SkipStep } from '../../plugin-api/index.ts'
import { subjectOrder } from '../shared/subject-order.ts'

export const holdOrder = defineAction({
  type: 'hold_order',
  title: 'Hold order for review',
  description:
    "Holds the order the run's trigger is about for fraud review in storeflow's view (`order.held` true, `order.held_reason`), and puts the order's risk score and reasons (`order.risk`) in the step's output, so they show on the run's timeline. Skipped when the trigger is about no order.",
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
  }),
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{}, { reason: 'billing and shipping countries differ' }],
  async run({ input, scope, services }) {
    const order = subjectOrder(scope)
    if (!order) throw new SkipStep('no_order')
    const reasons = order.risk?.reasons ?? []
    const reason = input.reason ?? (reasons.length > 0 ? reasons.join('; ') : 'held for review')
    if (!(await services.orders.hold(order.id, reason))) throw new SkipStep('no_order')
    return { held: true as const, reason, score: order.risk?.score ?? 0, level: order.risk?.level ?? 'low', reasons }
  },
})
