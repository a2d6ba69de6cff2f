import { z } from 'zod'
import { defineAction, PermanentError, SkipStep } from '../../plugin-api/index.ts'

export const cancelRuns = defineAction({
  type: 'cancel_runs',
  title: 'Cancel runs',
  description:
    "Ends (status `cancelled`) this customer's running and waiting runs of the named workflows, or of every other workflow when none are named; never the run itself, and never another customer's runs. A run of the same workflow is cancelled only when its workflow is named.",
  input: z.object({
    workflows: z.array(z.string().min(1)).min(1).optional().describe("Ids of the workflows whose runs to end; default: every workflow but this run's own"),
  }),
  output: z.object({ cancelled: z.number().int() }),
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{}, { workflows: ['abandoned-checkout', 'winback'] }],
  async run({ input, customer, run, services }) {
    if (!customer) throw new SkipStep('no_customer')
    if (!services.runs) throw new PermanentError('cancel_runs needs the engine: it was called outside a run')
    const cancelled = await services.runs.cancelCustomerRuns(customer.key, {
      ...(input.workflows ? { workflowIds: input.workflows } : { exceptWorkflowId: run.workflowId }),
      exceptRunId: run.id,
    })
    return { cancelled }
  },
})
