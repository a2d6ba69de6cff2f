import type { ActionDefinition } from '../plugin-api/define-action.ts'
import { createInvoice } from './create-invoice/create-invoice.action.ts'
import { awardLoyaltyPoints } from './award-loyalty-points/award-loyalty-points.action.ts'
import { createDiscountCode } from './create-discount-code/create-discount-code.action.ts'
import { emitEvent } from './emit-event/emit-event.action.ts'
import { httpRequest } from './http-request/http-request.action.ts'
import { logAction } from './log/log.action.ts'
import { notifyTeam } from './notify-team/index.ts'
import { sendEmail } from './send-email/index.ts'
import { sendSms } from './send-sms/index.ts'
import { tagCustomer } from './tag-customer/tag-customer.action.ts'
import { untagCustomer } from './untag-customer/untag-customer.action.ts'
import { COMMERCE_ACTIONS } from './commerce.ts'
import { createPurchaseOrder } from './create-purchase-order/create-purchase-order.action.ts'
import { adjustInventory } from './adjust-inventory/adjust-inventory.action.ts'
import { REMOTE_ACTIONS } from './remote.ts'
import { syncChannels } from './sync-channels/sync-channels.action.ts'
import { updateProduct } from './update-product/update-product.action.ts'

/** Every built-in action, by the name users write in workflow files. */
export const BUILT_IN_ACTIONS: ActionDefinition[] = [
  sendEmail,
  sendSms,
  notifyTeam,
  logAction,
  tagCustomer,
  untagCustomer,
  emitEvent,
  httpRequest,
  createInvoice,
  createDiscountCode,
  awardLoyaltyPoints,
  ...COMMERCE_ACTIONS,
  createPurchaseOrder,
  adjustInventory,
  ...REMOTE_ACTIONS,
  updateProduct,
  syncChannels,
]

export function createActionRegistry(extra: ActionDefinition[] = []): Map<string, ActionDefinition> {
  const registry = new Map<string, ActionDefinition>()
  for (const action of [...BUILT_IN_ACTIONS, ...extra]) registry.set(action.type, action)
  return registry
}
