import { endRun } from '../run-lifecycle.ts'
import type { ControlStep } from '../step-kit.ts'

/** The end of the program: the run completed. */
export const endStep: ControlStep<'end'> = ({ tx, run, now }) => endRun(tx, run, 'completed', now)
