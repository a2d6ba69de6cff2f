import { evaluateValue } from '../../core/cel.ts'
import { saveRun } from '../run-lifecycle.ts'
import { moveTo, record, scopeFor, type ControlStep } from '../step-kit.ts'

/** `for_each`: the list is read once; the body runs per item under a loop frame (`loop_next` steps it). */
export const forEachStep: ControlStep<'for_each'> = async ({ deps, tx, workflow, run, now }, instr) => {
  const value = evaluateValue(workflow.cel(instr.list), await scopeFor(deps, tx, run))
  const items = Array.isArray(value) ? value : []
  await tx.upsertStep(record(run, instr, 'for_each', { status: 'completed', input: { list: instr.list }, output: { count: items.length } }, now))
  if (items.length === 0) return saveRun(tx, moveTo(run, instr.end))
  return saveRun(tx, moveTo(run, instr.body, { loops: [...run.state.loops, { at: run.state.pc, items, index: 0, as: instr.as }] }))
}

/** The end of a for_each body: the next item, or past the loop. */
export const loopNextStep: ControlStep<'loop_next'> = async ({ tx, workflow, run }, instr) => {
  const loops = [...run.state.loops]
  const frame = loops.pop()
  const head = workflow.program[instr.start]
  if (!frame || !head || head.op !== 'for_each') throw new Error(`loop frame missing at ${run.state.pc}`)
  if (frame.index + 1 < frame.items.length) {
    return saveRun(tx, { ...run, state: { ...run.state, pc: head.body, loops: [...loops, { ...frame, index: frame.index + 1 }] } })
  }
  return saveRun(tx, { ...run, state: { ...run.state, pc: head.end, loops } })
}
