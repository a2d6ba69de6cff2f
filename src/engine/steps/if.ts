import { evaluateCondition } from '../../core/cel.ts'
import { saveRun } from '../run-lifecycle.ts'
import { moveTo, record, scopeFor, type ControlStep } from '../step-kit.ts'

/** `if`: the condition picks the branch. */
export const ifStep: ControlStep<'if'> = async ({ deps, tx, workflow, run, now }, instr) => {
  const result = evaluateCondition(workflow.cel(instr.cond), await scopeFor(deps, tx, run))
  await tx.upsertStep(
    record(run, instr, 'if', { status: 'completed', input: { condition: instr.cond }, output: { result, branch: result ? 'then' : 'else' } }, now),
  )
  return saveRun(tx, moveTo(run, result ? instr.then : instr.else))
}
