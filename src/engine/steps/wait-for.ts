import { isStoreLevelEventType } from '../../contracts/events.ts'
import { evaluateCondition } from '../../core/cel.ts'
import type { Instruction } from '../../core/workflow/program.ts'
import { parked, saveRun } from '../run-lifecycle.ts'
import { eventView } from '../scope.ts'
import { moveTo, record, scopeFor, type ControlStep, type StepContext } from '../step-kit.ts'

type WaitFor = Extract<Instruction, { op: 'wait_for' }>

/**
 * `wait_for`: the run listens for an event through a correlation (invariant 14) until the
 * timeout. Ingest signals it (`signal_event_seq`); an event that raced ahead of the wait is
 * found by looking back, on entering and once more at the timeout (invariant 15).
 */
export const waitForStep: ControlStep<'wait_for'> = async (ctx, instr) => {
  const { tx, run, now } = ctx
  if (run.signal_event_seq !== null) return received(ctx, instr, run.signal_event_seq)

  // look back: an event that raced ahead of this wait (arrived after the trigger) still counts
  const earlier = await lookBack(ctx, instr)
  if (earlier !== null) return received(ctx, instr, earlier)

  if (!run.state.waitUntil) {
    const until = new Date(now.getTime() + instr.timeout).toISOString()
    await tx.addCorrelations(run.store_id, run.id, [{ eventType: instr.event, key: run.customer_key ?? '*', purpose: 'wait_for', ref: run.state.pc }])
    await tx.upsertStep(record(run, instr, 'wait_for', { status: 'waiting', input: { event: instr.event, match: instr.match ?? null }, wake_at: until }, now))
    return saveRun(tx, parked(run, until, { ...run.state, waitUntil: until }))
  }
  if (now.toISOString() < run.state.waitUntil) return saveRun(tx, parked(run, run.state.waitUntil))
  await tx.deleteCorrelations(run.id, 'wait_for')
  await tx.upsertStep(record(run, instr, 'wait_for', { status: 'completed', output: { received: false, timed_out: true }, wake_at: run.state.waitUntil }, now))
  return saveRun(tx, moveTo(run, instr.timedOut, { waitUntil: null }, { id: instr.id, value: { received: false } }))
}

async function received({ tx, run, now }: StepContext, instr: WaitFor, eventSeq: number) {
  const event = await tx.getEvent(eventSeq)
  await tx.deleteCorrelations(run.id, 'wait_for')
  await tx.upsertStep(
    record(run, instr, 'wait_for', { status: 'completed', output: { received: true, event_id: event?.id ?? null, event_type: instr.event } }, now),
  )
  const consumed = [...(run.state.consumed ?? []), eventSeq]
  return saveRun(tx, {
    ...moveTo(run, instr.received, { waitUntil: null, eventSeq, consumed }, { id: instr.id, value: { received: true, event: event?.data ?? null } }),
    signal_event_seq: null,
  })
}

async function lookBack({ deps, tx, workflow, run }: StepContext, instr: WaitFor): Promise<number | null> {
  // a store-level event (a SKU back in stock) names no customer: any of them since the trigger counts
  const customerKey = isStoreLevelEventType(instr.event) ? null : run.customer_key
  const candidates = await tx.findEventsAfter(run.store_id, instr.event, customerKey, run.trigger_event_seq, 100)
  if (candidates.length === 0) return null
  const base = await scopeFor(deps, tx, run)
  const consumed = new Set(run.state.consumed ?? [])
  for (const event of candidates) {
    if (consumed.has(event.seq)) continue
    if (!instr.match || evaluateCondition(workflow.cel(instr.match), { ...base, event: eventView(event) })) {
      return event.seq
    }
  }
  return null
}
