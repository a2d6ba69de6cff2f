import { z } from 'zod'
import { defineAction, SkipStep } from '../../plugin-api/index.ts'

export const tagCustomer = defineAction({
  type: 'tag_customer',
  title: 'Tag customer',
  description: 'Adds tags to the customer who started the run.',
  input: z.object({ tags: z.array(z.string().min(1)).min(1).describe('Tags to add') }),
  output: z.object({ added: z.array(z.string()) }),
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{ tags: ['vip'] }],
  async run({ input, customer, services }) {
    if (!customer) throw new SkipStep('no_customer')
    return { added: await services.customers.addTags(customer.key, input.tags) }
  },
})
