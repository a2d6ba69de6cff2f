import { z } from 'zod'

/**
 * The workflow file (docs/workflows.md). Names here are what users write in their files:
 * never rename one. CEL conditions are strings here and compiled by core/workflow.
 */
const duration = z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/, 'must be a duration like "90s", "4h" or "3d"')
const cel = z.string().min(1, 'must be a CEL expression')
const stepId = z.string().regex(/^[a-z_][a-z0-9_]*$/i, 'must be letters, digits and _ (it is used as steps.<id>)')

export type StepSpec =
  | { id?: string; action: string; with?: Record<string, unknown>; name?: string }
  | { id?: string; if: string; then: StepSpec[]; else?: StepSpec[] }
  | { id?: string; wait: string | { until: string; timezone?: string } }
  | { id?: string; wait_for: { event: string; match?: string; timeout: string }; received?: StepSpec[]; timed_out?: StepSpec[] }
  | { id?: string; split: { variants: Array<{ id: string; weight: number; steps: StepSpec[] }> } }
  | { id?: string; for_each: string; as?: string; steps: StepSpec[] }
  | { id?: string; exit: true | string }

const STEP_KINDS = ['action', 'if', 'wait', 'wait_for', 'split', 'for_each', 'exit'] as const

const stepSchemas: Record<(typeof STEP_KINDS)[number], z.ZodType> = {
  action: z.strictObject({ id: stepId.optional(), name: z.string().optional(), action: z.string().min(1), with: z.record(z.string(), z.unknown()).optional() }),
  if: z.strictObject({ id: stepId.optional(), if: cel, then: z.array(z.lazy(() => stepSchema)), else: z.array(z.lazy(() => stepSchema)).optional() }),
  wait: z.strictObject({
    id: stepId.optional(),
    wait: z.union([duration, z.strictObject({ until: z.string().min(1), timezone: z.string().optional() })]),
  }),
  wait_for: z.strictObject({
    id: stepId.optional(),
    wait_for: z.strictObject({ event: z.string().min(1), match: cel.optional(), timeout: duration }),
    received: z.array(z.lazy(() => stepSchema)).optional(),
    timed_out: z.array(z.lazy(() => stepSchema)).optional(),
  }),
  split: z.strictObject({
    id: stepId.optional(),
    split: z.strictObject({
      variants: z
        .array(z.strictObject({ id: stepId, weight: z.number().positive(), steps: z.array(z.lazy(() => stepSchema)) }))
        .min(2, 'a split needs at least two variants'),
    }),
  }),
  for_each: z.strictObject({ id: stepId.optional(), for_each: cel, as: stepId.optional(), steps: z.array(z.lazy(() => stepSchema)) }),
  exit: z.strictObject({ id: stepId.optional(), exit: z.union([z.literal(true), z.string()]) }),
}

/**
 * A step is recognised by its one kind key (action, if, wait, …); validating against that kind's
 * schema alone gives messages about the step the user meant, not a list of union failures.
 */
export const stepSchema: z.ZodType<StepSpec> = z.unknown().superRefine((value, ctx) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'a step must be an object like { action: … }, { wait: … } or { if: … }' })
    return
  }
  const kinds = STEP_KINDS.filter((k) => Object.hasOwn(value, k))
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: kinds.length === 0 ? `a step needs one of: ${STEP_KINDS.join(', ')}` : `a step has one kind, found ${kinds.join(' and ')}`,
    })
    return
  }
  const result = stepSchemas[kinds[0]!].safeParse(value)
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path })
}) as unknown as z.ZodType<StepSpec>

export const triggerSchema = z.union([
  z.strictObject({ event: z.string().min(1), filter: cel.optional() }),
  z.strictObject({ cron: z.string().min(1), timezone: z.string().optional() }),
])

export type TriggerSpec = z.infer<typeof triggerSchema>
export type EventTriggerSpec = Extract<TriggerSpec, { event: string }>
export type ScheduleTriggerSpec = Extract<TriggerSpec, { cron: string }>

/** The event a `cron:` trigger's workflow is started by: one per schedule and time. */
export const SCHEDULE_TICK = 'schedule.tick'

/**
 * The event type a workflow's trigger listens for (indexed with the workflow, so ingest finds
 * the workflows an event may start without reading them all).
 */
export function triggerEventType(trigger: TriggerSpec): string {
  return 'event' in trigger ? trigger.event : SCHEDULE_TICK
}

/**
 * A workflow's `vars:`: values a store changes in one place (delays, thresholds, discounts),
 * read as `vars.NAME` in CEL and `{{ vars.NAME }}` in Liquid. Bounded: a workflow is not a
 * settings store, and every var is copied into each run's scope.
 */
export const WORKFLOW_VARS_LIMITS = {
  /** vars in one workflow */
  count: 50,
  /** characters in a var's name */
  nameLength: 64,
  /** characters in a string value */
  valueLength: 1_000,
} as const

const VAR_NAME = /^[a-z_][a-z0-9_]*$/i

export type VarValue = string | number | boolean

export const varsSchema = z
  .record(
    z.string(),
    z.union(
      [
        z
          .string()
          .max(WORKFLOW_VARS_LIMITS.valueLength, `a var's text has at most ${WORKFLOW_VARS_LIMITS.valueLength} characters`)
          .refine((v) => !/\{\{|\{%/.test(v), 'a var is a plain value: Liquid ({{ … }}, {% … %}) is not rendered in vars'),
        z.number().finite(),
        z.boolean(),
      ],
      { error: 'a var is a string, a number or true/false' },
    ),
  )
  .superRefine((vars, ctx) => {
    const names = Object.keys(vars)
    if (names.length > WORKFLOW_VARS_LIMITS.count) ctx.addIssue({ code: 'custom', message: `a workflow has at most ${WORKFLOW_VARS_LIMITS.count} vars` })
    for (const name of names) {
      if (name.length > WORKFLOW_VARS_LIMITS.nameLength)
        ctx.addIssue({ code: 'custom', path: [name], message: `a var name has at most ${WORKFLOW_VARS_LIMITS.nameLength} characters` })
      else if (!VAR_NAME.test(name))
        ctx.addIssue({ code: 'custom', path: [name], message: 'a var name is letters, digits and _, starting with a letter or _ (it is used as vars.<name>)' })
    }
  })

export const workflowFileSchema = z.strictObject({
  // at most 64 characters for a new workflow (store/workflows.repo.ts saveWorkflow); one saved before keeps its id
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - and _'),
  name: z.string().min(1),
  description: z.string().optional(),
  vars: varsSchema.optional(),
  trigger: triggerSchema,
  when: cel.optional(),
  exit_when: z.array(z.strictObject({ event: z.string().min(1), match: cel.optional() })).optional(),
  reentry: z
    .strictObject({
      per_customer: z.enum(['always', 'once', 'once_per']).default('always'),
      window: duration.optional(),
      /** default false: one active run per workflow per customer */
      concurrent: z.boolean().default(false),
    })
    .optional(),
  holdout: z.union([z.string().regex(/^\d+(\.\d+)?%$/, 'must be a percentage like "10%"'), z.number().min(0).max(100)]).optional(),
  active: z.boolean().optional(),
  steps: z.array(stepSchema).min(1, 'a workflow needs at least one step'),
})

export type WorkflowFile = z.infer<typeof workflowFileSchema>
