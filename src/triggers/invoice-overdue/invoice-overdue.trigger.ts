import { defineTrigger } from '../../plugin-api/define-trigger.ts'
import { CATCH_UP_MS, iso, SWEEP_LIMIT } from '../sweep.ts'

/**
 * invoice.overdue: an invoice create_invoice made, past its due date and not paid; once per
 * invoice. Reminders until it is paid are the workflow's: a run started by this event that waits
 * and reminds again, with `exit_when: [{ event: invoice.paid }]`, stops the moment it is paid.
 */
export const invoiceOverdue = defineTrigger({
  kind: 'derived',
  type: 'invoice.overdue',
  title: 'Invoice overdue',
  description: 'An invoice made by create_invoice, past its due date and unpaid; once per invoice (reminders: a workflow that exits on invoice.paid).',
  reactsTo: { schedule: { cron: '*/15 * * * *', timezone: 'UTC' } },
  async derive({ cause, view, now }) {
    if (cause.kind !== 'schedule') return []
    const due = await view.overdueInvoices({ dueBefore: iso(now.getTime()), notBefore: iso(now.getTime() - CATCH_UP_MS) }, SWEEP_LIMIT)
    return due.map((invoice) => ({ id: invoice.event_id, occurred_at: invoice.due_at, data: invoice.data }))
  },
})
