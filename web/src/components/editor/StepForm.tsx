import type { ActionInfo, JsonSchema, Problem } from '../../api/editor-hooks.ts'
import { kindOf, type YamlPath } from '../../lib/workflow-doc.ts'
import { CheckedField, PlainField } from './CheckedField.tsx'

type Change = (path: YamlPath, value: unknown) => void

/** A path as the server's problems name it: steps[3].then[0].with.subject */
export function formatPath(path: YamlPath): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '')
}

/** The messages of the problems at a path or inside it. */
function problemsAt(problems: Problem[], path: YamlPath): string | null {
  const at = formatPath(path)
  const found = problems.filter((p) => p.path === at || p.path.startsWith(`${at}.`) || p.path.startsWith(`${at}[`))
  return found.length > 0 ? found.map((p) => p.message).join('; ') : null
}

const text = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v))
const LONG_FIELDS = new Set(['html', 'text', 'body', 'message', 'content'])

/** A schema's own type, looking through `anyOf` (optional and nullable fields) to the first real branch. */
function shapeOf(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema.anyOf)) {
    const branch = schema.anyOf.find((b) => b.type !== 'null')
    if (branch) return { ...branch, description: schema.description ?? branch.description }
  }
  if (Array.isArray(schema.type)) return { ...schema, type: schema.type.find((t) => t !== 'null') }
  return schema
}

/** One field of an action's `with`, its input chosen from the action's declared schema. */
function WithField({
  name,
  schema,
  value,
  required,
  onChange,
  problem,
}: {
  name: string
  schema: JsonSchema
  value: unknown
  required: boolean
  onChange: (v: unknown) => void
  problem: string | null
}) {
  const s = shapeOf(schema)
  const label = `${name}${required ? ' (required)' : ''}`
  const hint = s.description
  const templated = typeof value === 'string' && /\{\{|\{%/.test(value)
  if (Array.isArray(s.enum) && !templated)
    return <PlainField label={label} value={value} onChange={onChange} problem={problem} type="select" options={s.enum} {...(hint ? { hint } : {})} />
  if (s.type === 'boolean' && !templated)
    return <PlainField label={label} value={value} onChange={onChange} problem={problem} type="boolean" {...(hint ? { hint } : {})} />
  if ((s.type === 'number' || s.type === 'integer') && !templated)
    return <PlainField label={label} value={value} onChange={onChange} problem={problem} type="number" {...(hint ? { hint } : {})} />
  if (s.type === 'string' || templated)
    return (
      <CheckedField
        kind="liquid"
        label={label}
        value={text(value)}
        onChange={onChange}
        problem={problem}
        multiline={LONG_FIELDS.has(name)}
        {...(hint ? { hint } : {})}
      />
    )
  return (
    <div className="field">
      <span className="field-label">{label}</span>
      <code className="muted">{value === undefined ? '(not set)' : JSON.stringify(value)}</code>
      <small className="muted">a {String(s.type ?? 'structured')} value: edit it in the YAML</small>
      {problem ? <small className="field-error">{problem}</small> : null}
    </div>
  )
}

/** The form of one step, generated from its kind (and an action's declared input schema). */
export function StepForm({
  step,
  path,
  actions,
  onChange,
  problems,
}: {
  step: Record<string, unknown>
  path: YamlPath
  actions: ActionInfo[]
  onChange: Change
  problems: Problem[]
}) {
  const kind = kindOf(step)
  const problem = (...rel: YamlPath) => problemsAt(problems, [...path, ...rel])
  const set = (key: YamlPath) => (value: unknown) => onChange([...path, ...key], value)
  const idField = <PlainField label="Step id" value={step.id} onChange={set(['id'])} hint="optional; names the step's output (steps.ID)" />

  if (kind === 'wait') {
    const wait = step.wait
    return (
      <fieldset>
        <legend>Wait</legend>
        {typeof wait === 'object' && wait !== null ? (
          <PlainField label="Wait until (HH:MM)" value={(wait as { until?: string }).until} onChange={set(['wait', 'until'])} />
        ) : (
          <PlainField label="Wait for (duration)" value={wait} onChange={set(['wait'])} problem={problem('wait')} hint="e.g. 30m, 2h, 3d, or {{ vars.NAME }}" />
        )}
        {idField}
      </fieldset>
    )
  }
  if (kind === 'if')
    return (
      <fieldset>
        <legend>Condition</legend>
        <CheckedField
          kind="cel"
          label="If"
          value={text(step.if)}
          onChange={set(['if'])}
          problem={problem('if')}
          hint="then-steps run when this is true, else-steps otherwise"
        />
        {idField}
      </fieldset>
    )
  if (kind === 'exit')
    return (
      <fieldset>
        <legend>Exit</legend>
        <PlainField label="Reason" value={step.exit === true ? '' : step.exit} onChange={(v) => onChange([...path, 'exit'], v === '' ? true : v)} />
      </fieldset>
    )
  if (kind === 'wait_for') {
    const w = (step.wait_for ?? {}) as Record<string, unknown>
    return (
      <fieldset>
        <legend>Wait for an event</legend>
        <PlainField label="Event type" value={w.event} onChange={set(['wait_for', 'event'])} />
        <PlainField label="Timeout (duration)" value={w.timeout} onChange={set(['wait_for', 'timeout'])} />
        <CheckedField kind="cel" label="Match" value={text(w.match)} onChange={set(['wait_for', 'match'])} />
        {idField}
      </fieldset>
    )
  }
  if (kind === 'for_each')
    return (
      <fieldset>
        <legend>For each</legend>
        <CheckedField kind="cel" label="For each (list)" value={text(step.for_each)} onChange={set(['for_each'])} />
        <PlainField label="As" value={step.as} onChange={set(['as'])} />
        {idField}
      </fieldset>
    )
  if (kind === 'action') {
    const type = String(step.action)
    const info = actions.find((a) => a.type === type)
    const input = info ? shapeOf(info.input) : null
    const values = (step.with ?? {}) as Record<string, unknown>
    return (
      <fieldset>
        <legend>Action {type}</legend>
        {info ? <p className="muted">{info.description}</p> : <p className="error">No action "{type}" on this server.</p>}
        {problems
          .filter((p) => p.path === formatPath([...path, 'with']) || p.path === formatPath(path))
          .map((p) => (
            <p key={p.message} className="error">
              {p.message}
            </p>
          ))}
        <PlainField label="Name" value={step.name} onChange={set(['name'])} hint="shown on the graph and in the timeline" />
        {idField}
        {input?.properties
          ? Object.entries(input.properties).map(([name, schema]) => (
              <WithField
                key={name}
                name={name}
                schema={schema}
                value={values[name]}
                required={input.required?.includes(name) ?? false}
                onChange={(v) => onChange([...path, 'with', name], v)}
                problem={problem('with', name)}
              />
            ))
          : null}
      </fieldset>
    )
  }
  return <p className="muted">This {kind} step is edited in the YAML.</p>
}

/** The workflow's own fields, shown when the trigger is selected. */
export function WorkflowForm({ file, onChange }: { file: Record<string, unknown>; onChange: Change }) {
  return (
    <fieldset>
      <legend>Workflow</legend>
      <PlainField label="Name" value={file.name} onChange={(v) => onChange(['name'], v)} />
      <PlainField label="Description" value={file.description} onChange={(v) => onChange(['description'], v)} />
      <CheckedField
        kind="cel"
        label="Start only when"
        value={text(file.when)}
        onChange={(v) => onChange(['when'], v)}
        hint="checked against the trigger event"
      />
    </fieldset>
  )
}
