import { z } from 'zod'
import { defineAction, SkipStep } from '../../plugin-api/index.ts'
import { subjectOrder } from '../shared/subject-order.ts'

export const tagOrder = defineAction({
  type: 'tag_order',
  title: 'Tag order',
  description:
    "Adds tags to the order the run's trigger is about, in storeflow's view (`order.tags` in later conditions, beside the shop's own tags). Skipped when the trigger is about no order.",
  input: z.object({ tags: z.array(z.string().min(1)).min(1).describe('Tags to add; ones the order already has are left as they are') }),
  output: z.object({ added: z.array(z.string()) }),
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{ tags: ['review'] }],
  async run({ input, scope, services }) {
    const order = subjectOrder(scope)
    if (!order) throw new SkipStep('no_order')
    const added = await services.orders.addTags(order.id, input.tags)
    if (added === null) throw new SkipStep('no_order')
    return { added }
  },
})
