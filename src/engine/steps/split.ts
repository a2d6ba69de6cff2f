import { unitHash } from '../holdout.ts'
import { saveRun } from '../run-lifecycle.ts'
import { moveTo, record, stepKey, type ControlStep } from '../step-kit.ts'

/** `split`: one variant by weight, deterministic per run and step, so a retried or resumed run takes the same branch. */
export const splitStep: ControlStep<'split'> = async ({ tx, run, now }, instr) => {
  const total = instr.variants.reduce((n, v) => n + v.weight, 0)
  let point = unitHash(`${run.id}:${stepKey(instr.id, run.state)}`) * total
  const chosen =
    instr.variants.find((v) => {
      point -= v.weight
      return point < 0
    }) ?? instr.variants[instr.variants.length - 1]!
  await tx.upsertStep(record(run, instr, 'split', { status: 'completed', output: { variant: chosen.id } }, now))
  return saveRun(tx, moveTo(run, chosen.start, {}, { id: instr.id, value: { variant: chosen.id } }))
}
