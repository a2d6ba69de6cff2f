import { z } from 'zod'
import { defineAction } from '../../plugin-api/index.ts'

export const logAction = defineAction({
  type: 'log',
  title: 'Log a message',
  description: 'Writes a message to the run timeline and the server log. Useful for debugging a workflow.',
  input: z.object({
    message: z.string().min(1).describe('The text to log; Liquid over the run context, e.g. "order {{ order.number }}"'),
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Log level; default info'),
  }),
  output: z.object({ message: z.string(), level: z.string() }),
  effects: 'none',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{ message: 'Order {{ order.number }} paid', level: 'info' }],
  async run({ input, log }) {
    log[input.level as 'info']({ message: input.message }, 'workflow log')
    return { message: input.message, level: input.level }
  },
})
