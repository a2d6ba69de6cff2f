import type { ActionServices } from '../plugin-api/services.ts'
import type { Storage, StorageTx } from './ports.ts'
import { cancelCustomerRuns } from './run-lifecycle.ts'
import type { Clock } from '../lib/clock.ts'

/**
 * The services an action gets, with the engine's run control added (cancel_runs): inside the
 * action's transaction when it has one (internal actions), else in a transaction of its own.
 */
export function withRunControl(services: ActionServices, storage: Storage, tx: StorageTx | null, storeId: string, clock: Clock): ActionServices {
  return {
    ...services,
    runs: {
      cancelCustomerRuns(customerKey, filter) {
        const work = (t: StorageTx) => cancelCustomerRuns(t, storeId, customerKey, filter, clock.now())
        return tx ? work(tx) : storage.transaction(work)
      },
    },
  }
}
