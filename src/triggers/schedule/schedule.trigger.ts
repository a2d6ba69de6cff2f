import { SCHEDULE_TICK, type ScheduleTriggerSpec } from '../../contracts/workflow.ts'
import { defineTrigger } from '../../plugin-api/define-trigger.ts'

/**
 * `trigger: { cron, timezone }`. The engine's scheduler (engine/scheduler.ts) records each tick
 * as a `schedule.tick` event naming its workflow; only that workflow starts on it, with no
 * customer, and the run's `trigger` is the tick.
 */
export const scheduleTrigger = defineTrigger({
  kind: 'schedule',
  title: 'Schedule',
  description: "Starts a run at each time of a cron expression, in a time zone (default: the store's, else UTC).",
  emits: SCHEDULE_TICK,
  accepts: (spec): spec is ScheduleTriggerSpec => 'cron' in spec,
  listensTo: () => SCHEDULE_TICK,
  matches: ({ event, workflowId }) => event.type === SCHEDULE_TICK && event.data.workflow_id === workflowId,
  tickEvent: ({ storeId, workflowId, cron, timezone, at }) => ({
    id: `schedule:${workflowId}:${at.toISOString()}`,
    type: SCHEDULE_TICK,
    occurred_at: at.toISOString(),
    store: storeId,
    data: { workflow_id: workflowId, scheduled_at: at.toISOString(), cron, timezone },
  }),
})
