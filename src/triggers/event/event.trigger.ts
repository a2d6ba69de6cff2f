import type { EventTriggerSpec } from '../../contracts/workflow.ts'
import { defineTrigger } from '../../plugin-api/define-trigger.ts'

export const eventTrigger = defineTrigger({
  kind: 'event',
  title: 'Event',
  description: 'Starts a run for each event of a type (a shop event or a derived one), optionally filtered by a CEL condition.',
  accepts: (spec): spec is EventTriggerSpec => 'event' in spec,
  listensTo: (spec) => spec.event,
  matches: ({ spec, event, condition }) => event.type === spec.event && (!spec.filter || condition(spec.filter)),
})
