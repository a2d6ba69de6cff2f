import type { ActionDefinition } from '../plugin-api/define-action.ts'
import { cancelRuns } from './cancel-runs/cancel-runs.action.ts'
import { holdOrder } from './hold-order/hold-order.action.ts'
import { tagOrder } from './tag-order/tag-order.action.ts'
import { upsertCustomer } from './upsert-customer/upsert-customer.action.ts'

/** Commerce I's actions (issue 10): orders, runs and profiles. */
export const COMMERCE_ACTIONS: ActionDefinition[] = [tagOrder, holdOrder, cancelRuns, upsertCustomer]
