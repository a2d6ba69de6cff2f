import { defineTrigger } from '../../plugin-api/define-trigger.ts'
import { CATCH_UP_MS, iso, settingMs, SWEEP_LIMIT } from '../sweep.ts'

/**
 * subscription.renewal_due: `renewal_notice` (store setting, default 7 d) before an active
 * subscription's next_renewal_at. Once per renewal date: the next renewal date makes a new one.
 * A renewal already past is not announced.
 */
export const subscriptionRenewalDue = defineTrigger({
  kind: 'derived',
  type: 'subscription.renewal_due',
  title: 'Subscription renewal due',
  description: "renewal_notice (default 7d) before an active subscription's next_renewal_at; once per renewal date.",
  reactsTo: { schedule: { cron: '*/15 * * * *', timezone: 'UTC' } },
  async derive({ cause, store, view, now }) {
    if (cause.kind !== 'schedule') return []
    const notice = settingMs(store.settings, 'renewal_notice')
    const renewsBefore = now.getTime() + notice
    const notBefore = Math.max(now.getTime(), renewsBefore - CATCH_UP_MS)
    const due = await view.renewalsDue({ renewsBefore: iso(renewsBefore), notBefore: iso(notBefore) }, SWEEP_LIMIT)
    return due.map((s) => ({
      id: s.event_id,
      occurred_at: iso(Math.min(now.getTime(), Date.parse(s.renews_at) - notice)),
      data: { ...s.data, ...(s.customer ? { customer: s.customer } : {}) },
    }))
  },
})
