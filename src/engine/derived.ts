import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import type { Logger } from '../lib/logger.ts'
import type { DerivedTriggerCause, DerivedTriggerDefinition } from '../plugin-api/define-trigger.ts'
import type { StorageTx } from './ports.ts'
import { sweepSegments } from './segments.ts'
import type { StoreCache } from './store-cache.ts'

/** How deep derived events may derive further ones (a chain, not a loop). */
export const MAX_DERIVED_DEPTH = 4

/**
 * Asks a derived trigger what a cause derives and hands each event to `ingest`, inside the
 * caller's transaction: the derived events commit with their cause, or not at all. A trigger
 * that throws, or an event it got wrong (fails its type's schema), is a bug in the trigger: logged
 * and left out, so it cannot make the shop's event be refused.
 */
export async function deriveEvents(
  tx: StorageTx,
  trigger: DerivedTriggerDefinition,
  cause: DerivedTriggerCause,
  storeId: string,
  now: Date,
  deps: { stores: StoreCache; log: Logger },
  ingest: (event: CanonicalEvent) => Promise<unknown>,
): Promise<number> {
  const store = await deps.stores.get(tx, storeId)
  if (!store) return 0
  const log = deps.log.child({ trigger: trigger.type })
  let derived: Awaited<ReturnType<DerivedTriggerDefinition['derive']>>
  try {
    const segments = { sweep: () => sweepSegments(tx, storeId, now, ingest) }
    derived = await trigger.derive({
      cause,
      store: { id: store.id, timezone: store.timezone, settings: store.settings },
      view: tx.derivedView(storeId),
      now,
      log,
      segments,
    })
  } catch (err) {
    log.error({ err }, 'derived trigger failed; its events are left out')
    return 0
  }
  let count = 0
  for (const item of derived) {
    const parsed = parseEvent({ id: item.id, type: trigger.type, occurred_at: item.occurred_at, store: storeId, data: item.data }, { store: storeId, now })
    if (!parsed.ok) {
      log.error({ eventId: item.id, issues: parsed.issues }, 'derived event is invalid; left out')
      continue
    }
    await ingest(parsed.event)
    count++
  }
  return count
}
