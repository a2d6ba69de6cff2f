import { z } from 'zod'
import { defineAction, SkipStep } from '../../plugin-api/index.ts'

export const untagCustomer = defineAction({
  type: 'untag_customer',
  title: 'Remove customer tags',
  description: 'Removes tags from the customer who started the run; tags they do not have are ignored.',
  input: z.object({ tags: z.array(z.string().min(1)).min(1).describe('Tags to remove') }),
  output: z.object({ removed: z.array(z.string()) }),
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{ tags: ['at-risk'] }],
  async run({ input, customer, services }) {
    if (!customer) throw new SkipStep('no_customer')
    return { removed: await services.customers.removeTags(customer.key, input.tags) }
  },
})
