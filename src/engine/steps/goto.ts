import { saveRun } from '../run-lifecycle.ts'
import type { ControlStep } from '../step-kit.ts'

/** A jump the compiler puts where branches meet again: no step on the timeline. */
export const gotoStep: ControlStep<'goto'> = ({ tx, run }, instr) => saveRun(tx, { ...run, state: { ...run.state, pc: instr.to } })
