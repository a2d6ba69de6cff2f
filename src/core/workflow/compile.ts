import { parseDuration } from '../../lib/durations.ts'
import type { StepSpec } from '../../contracts/workflow.ts'
import type { Instruction } from './program.ts'

/**
 * Compiles nested steps into a flat program. Steps without an id get one from their
 * position (`s2`, `s4_then_1`), stable for a given version: runs pin their version.
 */
export function compileProgram(steps: StepSpec[]): Instruction[] {
  const program: Instruction[] = []
  const emit = (instr: Instruction): number => program.push(instr) - 1
  const patch = (at: number, fields: Record<string, unknown>) => Object.assign(program[at]!, fields)

  const block = (list: StepSpec[], prefix: string): void => {
    list.forEach((step, i) => {
      const id = step.id ?? `${prefix}${i + 1}`
      if ('action' in step) {
        emit({ op: 'action', id, action: step.action, with: step.with ?? {}, next: program.length + 1 })
      } else if ('if' in step) {
        const at = emit({ op: 'if', id, cond: step.if, then: program.length + 1, else: -1 })
        block(step.then, `${id}_then_`)
        const skipElse = emit({ op: 'goto', to: -1 })
        patch(at, { else: program.length })
        block(step.else ?? [], `${id}_else_`)
        patch(skipElse, { to: program.length })
      } else if ('wait' in step) {
        if (typeof step.wait === 'string') emit({ op: 'wait', id, duration: parseDuration(step.wait), next: program.length + 1 })
        else emit({ op: 'wait', id, until: step.wait.until, ...(step.wait.timezone ? { timezone: step.wait.timezone } : {}), next: program.length + 1 })
      } else if ('wait_for' in step) {
        const at = emit({
          op: 'wait_for',
          id,
          event: step.wait_for.event,
          ...(step.wait_for.match ? { match: step.wait_for.match } : {}),
          timeout: parseDuration(step.wait_for.timeout),
          received: program.length + 1,
          timedOut: -1,
        })
        block(step.received ?? [], `${id}_received_`)
        const skip = emit({ op: 'goto', to: -1 })
        patch(at, { timedOut: program.length })
        block(step.timed_out ?? [], `${id}_timed_out_`)
        patch(skip, { to: program.length })
      } else if ('split' in step) {
        const at = emit({ op: 'split', id, variants: [] })
        const variants: Array<{ id: string; weight: number; start: number }> = []
        const exits: number[] = []
        for (const v of step.split.variants) {
          variants.push({ id: v.id, weight: v.weight, start: program.length })
          block(v.steps, `${id}_${v.id}_`)
          exits.push(emit({ op: 'goto', to: -1 }))
        }
        patch(at, { variants })
        for (const e of exits) patch(e, { to: program.length })
      } else if ('for_each' in step) {
        const at = emit({ op: 'for_each', id, list: step.for_each, as: step.as ?? 'item', body: program.length + 1, end: -1 })
        block(step.steps, `${id}_`)
        emit({ op: 'loop_next', id, start: at })
        patch(at, { end: program.length })
      } else {
        emit({ op: 'exit', id, reason: step.exit === true ? 'exit step' : step.exit })
      }
    })
  }
  block(steps, 's')
  emit({ op: 'end' })
  return program
}
