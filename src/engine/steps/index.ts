import type { RunRecord } from '../ports.ts'
import type { ControlInstruction, ControlStep, StepContext } from '../step-kit.ts'
import { endStep } from './end.ts'
import { exitStep } from './exit.ts'
import { forEachStep, loopNextStep } from './for-each.ts'
import { gotoStep } from './goto.ts'
import { ifStep } from './if.ts'
import { splitStep } from './split.ts'
import { waitForStep } from './wait-for.ts'
import { waitStep } from './wait.ts'

/**
 * The control instructions of a compiled program (core/workflow/program.ts), one file each.
 * Actions are not here: they follow the action protocol (action-protocol.ts).
 */
const CONTROL_STEPS: { [Op in ControlInstruction['op']]: ControlStep<Op> } = {
  goto: gotoStep,
  end: endStep,
  exit: exitStep,
  if: ifStep,
  split: splitStep,
  for_each: forEachStep,
  loop_next: loopNextStep,
  wait: waitStep,
  wait_for: waitForStep,
}

/** Runs one control instruction in ctx.tx: its effect and the cursor past it commit together. */
export function runControlStep(ctx: StepContext, instr: ControlInstruction): Promise<RunRecord> {
  return (CONTROL_STEPS[instr.op] as ControlStep<ControlInstruction['op']>)(ctx, instr)
}
