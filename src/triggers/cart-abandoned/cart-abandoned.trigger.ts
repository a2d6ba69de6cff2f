import { defineTrigger } from '../../plugin-api/define-trigger.ts'
import { CATCH_UP_MS, iso, settingMs, SWEEP_LIMIT } from '../sweep.ts'

/**
 * cart.abandoned: a cart or checkout with an email and no order `cart_abandoned_after` (store
 * setting, default 1 h) after its last update. None when an order for it (its checkout_id) or
 * any order of the same customer came after that update. Once per cart and update: a cart
 * updated after its announcement is announced again if it is left again. Carries the cart as it
 * was (line items, total, recovery_url) and who it belongs to.
 */
export const cartAbandoned = defineTrigger({
  kind: 'derived',
  type: 'cart.abandoned',
  title: 'Cart abandoned',
  description: 'A cart or checkout with an email and no order, cart_abandoned_after (default 1h) after its last update; the recovery URL carried along.',
  reactsTo: { schedule: { cron: '* * * * *', timezone: 'UTC' } },
  async derive({ cause, store, view, now }) {
    if (cause.kind !== 'schedule') return []
    const after = settingMs(store.settings, 'cart_abandoned_after')
    const idleBefore = now.getTime() - after
    const carts = await view.abandonedCarts({ idleBefore: iso(idleBefore), notBefore: iso(idleBefore - CATCH_UP_MS) }, SWEEP_LIMIT)
    return carts.map((cart) => ({
      id: cart.event_id,
      occurred_at: iso(Date.parse(cart.updated_at) + after),
      data: { ...cart.data, ...(cart.customer ? { customer: cart.customer } : {}) },
    }))
  },
})
