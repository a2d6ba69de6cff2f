import { endRun } from '../run-lifecycle.ts'
import { record, type ControlStep } from '../step-kit.ts'

/** `exit`: the run ends as exited, with the author's reason. */
export const exitStep: ControlStep<'exit'> = async ({ tx, run, now }, instr) => {
  await tx.upsertStep(record(run, instr, 'exit', { status: 'completed', output: { reason: instr.reason } }, now))
  return endRun(tx, run, 'exited', now, instr.reason)
}
