import type { Clock } from '../lib/clock.ts'
import { UserError } from '../lib/errors.ts'
import type { Storage } from './ports.ts'
import type { WorkflowCache } from './workflow-cache.ts'

/**
 * Cancel and retry from the API. Both are ordinary versioned run updates, so a worker that
 * holds the run at that moment finds its version changed and lets go.
 */
export async function cancelRun(storage: Storage, clock: Clock, storeId: string, runId: string): Promise<void> {
  await storage.transaction(async (tx) => {
    const run = await tx.getRun(runId)
    if (!run || run.store_id !== storeId) throw new UserError(`run "${runId}" not found`, { code: 'not_found' })
    if (run.status !== 'running' && run.status !== 'waiting') throw new UserError(`run "${runId}" has already ended (${run.status})`, { code: 'conflict' })
    const ok = await tx.updateRun({ ...run, status: 'cancelled', due_at: null, ended_at: clock.now().toISOString(), lease_owner: null, state: { ...run.state, current: null } }, run.version)
    if (!ok) throw new UserError(`run "${runId}" changed while cancelling; try again`, { code: 'conflict' })
    await tx.deleteCorrelations(run.id)
  })
}

/**
 * A failed run continues from the step that failed, with a fresh attempt count. Its exit goals
 * listen again (they were dropped when it failed).
 */
export async function retryRun(storage: Storage, clock: Clock, cache: WorkflowCache, storeId: string, runId: string): Promise<void> {
  await storage.transaction(async (tx) => {
    const run = await tx.getRun(runId)
    if (!run || run.store_id !== storeId) throw new UserError(`run "${runId}" not found`, { code: 'not_found' })
    if (run.status !== 'failed') throw new UserError(`only failed runs can be retried; run "${runId}" is ${run.status}`, { code: 'conflict' })
    const now = clock.now().toISOString()
    const ok = await tx.updateRun({ ...run, status: 'running', due_at: now, ended_at: null, lease_owner: null, state: { ...run.state, current: null, exitReason: undefined } }, run.version)
    if (!ok) throw new UserError(`run "${runId}" changed while retrying; try again`, { code: 'conflict' })
    const workflow = await cache.get(tx, run.store_id, run.workflow_id, run.workflow_version)
    const goals = workflow?.file.exit_when ?? []
    await tx.deleteCorrelations(run.id, 'exit_when')
    await tx.addCorrelations(run.store_id, run.id, goals.map((g, i) => ({ eventType: g.event, key: run.customer_key ?? '*', purpose: 'exit_when' as const, ref: i })))
  })
}
