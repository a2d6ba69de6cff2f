import { unitHash } from '../holdout.ts'
import { saveRun } from '../run-lifecycle.ts'
import { moveTo, record, type ControlStep } from '../step-kit.ts'

/**
 * `split`: one variant by weight. The draw hashes the workflow, the split's step id and the
 * customer, so a customer meets the same variant on every run of the workflow, across restarts
 * and new versions (as long as the split keeps its id and weights), and a retried or resumed run
 * takes the same branch. A run without a customer draws by its own id.
 */
export const splitStep: ControlStep<'split'> = async ({ tx, run, now }, instr) => {
  const total = instr.variants.reduce((n, v) => n + v.weight, 0)
  let point = unitHash(`${run.workflow_id}:${instr.id}:${run.customer_key ?? run.id}`) * total
  const chosen =
    instr.variants.find((v) => {
      point -= v.weight
      return point < 0
    }) ?? instr.variants[instr.variants.length - 1]!
  await tx.upsertStep(record(run, instr, 'split', { status: 'completed', output: { variant: chosen.id } }, now))
  return saveRun(tx, moveTo(run, chosen.start, {}, { id: instr.id, value: { variant: chosen.id } }))
}
