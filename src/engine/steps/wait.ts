import { parked, saveRun } from '../run-lifecycle.ts'
import { moveTo, record, scopeFor, type ControlStep } from '../step-kit.ts'
import { resolveUntil } from '../until.ts'

/** `wait`: parks the run until the wake time (invariant 13); resuming before it just parks it again. */
export const waitStep: ControlStep<'wait'> = async ({ deps, tx, run, now }, instr) => {
  if (!run.state.waitUntil) {
    const scope = await scopeFor(deps, tx, run)
    const wake = instr.duration !== undefined ? new Date(now.getTime() + instr.duration) : resolveUntil(instr.until!, instr.timezone, scope, now)
    await tx.upsertStep(
      record(
        run,
        instr,
        'wait',
        { status: 'waiting', input: instr.duration !== undefined ? { duration_ms: instr.duration } : { until: instr.until }, wake_at: wake.toISOString() },
        now,
      ),
    )
    return saveRun(tx, parked(run, wake.toISOString(), { ...run.state, waitUntil: wake.toISOString() }))
  }
  if (now.toISOString() < run.state.waitUntil) return saveRun(tx, parked(run, run.state.waitUntil))
  await tx.upsertStep(record(run, instr, 'wait', { status: 'completed', wake_at: run.state.waitUntil, output: { woke_at: now.toISOString() } }, now))
  return saveRun(tx, moveTo(run, instr.next, { waitUntil: null }))
}
