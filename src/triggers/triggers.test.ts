import { describe, expect, it } from 'vitest'
import { triggerEventType, type TriggerSpec } from '../contracts/workflow.ts'
import { triggerMatches, workflowTriggerFor } from './index.ts'

const tick = (workflowId: string) => ({
  id: 't',
  type: 'schedule.tick',
  occurred_at: '2026-03-02T08:00:00.000Z',
  store: 'default',
  data: { workflow_id: workflowId },
})
const paid = { id: 'e', type: 'order.paid', occurred_at: '2026-03-02T08:00:00.000Z', store: 'default', data: { total_price: '600.00' } }

describe('workflow trigger declarations', () => {
  it.each<TriggerSpec>([
    { event: 'order.paid' },
    { event: 'cart.abandoned', filter: 'true' },
    { cron: '0 9 * * 1' },
    { cron: '0 9 * * 1', timezone: 'Europe/Berlin' },
  ])('index a workflow under the event type its declaration listens to: %j', (spec) => {
    // the store writes the index from the file format (contracts); the declaration must agree
    const trigger = workflowTriggerFor(spec) as { listensTo(s: TriggerSpec): string }
    expect(trigger.listensTo(spec)).toBe(triggerEventType(spec))
  })

  it('an event trigger matches its type and filter', () => {
    const condition = (source: string) => source === 'yes'
    expect(triggerMatches({ event: 'order.paid' }, { workflowId: 'w', event: paid, condition })).toBe(true)
    expect(triggerMatches({ event: 'order.paid', filter: 'no' }, { workflowId: 'w', event: paid, condition })).toBe(false)
    expect(triggerMatches({ event: 'order.created' }, { workflowId: 'w', event: paid, condition })).toBe(false)
  })

  it("a schedule matches only its own workflow's ticks", () => {
    const condition = () => true
    expect(triggerMatches({ cron: '0 9 * * *' }, { workflowId: 'daily', event: tick('daily'), condition })).toBe(true)
    expect(triggerMatches({ cron: '0 9 * * *' }, { workflowId: 'daily', event: tick('weekly'), condition })).toBe(false)
  })
})
