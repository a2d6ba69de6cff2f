import { defineTrigger } from '../../plugin-api/define-trigger.ts'
import { CATCH_UP_MS, iso, settingMs, SWEEP_LIMIT } from '../sweep.ts'

/**
 * customer.inactive: a customer whose last order is `inactive_after` (store setting, default
 * 90 d) ago. Once per inactive spell: the spell is named by the last order's time, so a new order
 * starts a new spell, announced in its turn if it too runs its course.
 */
export const customerInactive = defineTrigger({
  kind: 'derived',
  type: 'customer.inactive',
  title: 'Customer inactive',
  description: 'A customer with no order for inactive_after (default 90d); once per inactive spell (a new order starts a new one).',
  reactsTo: { schedule: { cron: '*/15 * * * *', timezone: 'UTC' } },
  async derive({ cause, store, view, now }) {
    if (cause.kind !== 'schedule') return []
    const after = settingMs(store.settings, 'inactive_after')
    const lastOrderBefore = now.getTime() - after
    const customers = await view.inactiveCustomers({ lastOrderBefore: iso(lastOrderBefore), notBefore: iso(lastOrderBefore - CATCH_UP_MS) }, SWEEP_LIMIT)
    return customers.map((c) => ({
      id: c.event_id,
      occurred_at: iso(Date.parse(c.last_order_at) + after),
      data: { customer: c.customer, last_order_at: c.last_order_at, inactive_after: store.settings.inactive_after ?? null },
    }))
  },
})
