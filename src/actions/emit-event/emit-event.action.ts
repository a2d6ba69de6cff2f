import { z } from 'zod'
import { defineAction } from '../../plugin-api/index.ts'

export const emitEvent = defineAction({
  type: 'emit_event',
  title: 'Emit an event',
  description: 'Ingests a new event for this store, which can start or resume other workflows. Its id derives from the step, so a retried step emits it once.',
  input: z.object({
    type: z.string().min(1).describe('Event type, e.g. "customer.updated" or a custom "raw.loyalty.tier_changed"'),
    data: z.record(z.string(), z.unknown()).default({}).describe("The event data; must match the type's schema"),
  }),
  output: z.object({ id: z.string(), duplicate: z.boolean() }),
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{ type: 'raw.loyalty.tier_changed', data: { tier: 'gold' } }],
  async run({ input, idempotencyKey, services }) {
    return services.events.emit({ id: `emit:${idempotencyKey}`, type: input.type, data: input.data })
  },
})
