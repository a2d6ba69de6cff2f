import { stringify as toYaml } from 'yaml'
import { BUILT_IN_ACTIONS } from '../../src/actions/index.ts'
import { DEFAULT_BASE_DELAY_MS, DEFAULT_MAX_ATTEMPTS } from '../../src/engine/action-protocol.ts'
import { formatDuration } from '../../src/lib/durations.ts'
import type { ActionDefinition, ActionEffects, SimulateMode } from '../../src/plugin-api/define-action.ts'
import { jsonSchemaOf, ShapeRenderer } from './json-schema.ts'
import { anchor, byText, code, codeBlock, document, generatedBanner, table } from './markdown.ts'

/** What each `effects` value means to someone writing a workflow (see ActionEffects). */
const EFFECTS: Record<ActionEffects, string> = {
  none: 'none: computes its output and touches nothing.',
  internal: "internal: writes only storeflow's own database, in the transaction that records the step, so it happens exactly once even across crashes.",
  external: "external: talks to the outside world, using the step's idempotency key so that a retry is recognised and does not act twice.",
}

/** What `storeflow simulate` does with a step of the action (see SimulateMode). */
const SIMULATE: Record<SimulateMode, string> = {
  perform: 'performed, in an in-memory database, never the real one.',
  dry_run: 'a dry run: it shows what it would send and sends nothing.',
  skip: 'not run: the timeline shows the input it would have had.',
}

function retryText(action: ActionDefinition): string {
  const attempts = action.retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  const base = formatDuration(action.retry.baseDelayMs ?? DEFAULT_BASE_DELAY_MS)
  const crash = action.retry.safe
    ? 'an attempt cut short by a crash is made again (the action checks its idempotency key first)'
    : 'an attempt cut short by a crash fails the step rather than risk acting twice'
  return `up to ${attempts} attempts on a transient failure, waiting about ${base} before the second and doubling after that; ${crash}.`
}

function actionSection(action: ActionDefinition): string {
  const renderer = new ShapeRenderer()
  const input = jsonSchemaOf(action.input)
  const output = jsonSchemaOf(action.output, 'output')
  const examples = (action.examples ?? []).map((example) => codeBlock(toYaml([{ action: action.type, with: example }], { lineWidth: 0 }).trimEnd(), 'yaml'))
  const raw = action.rawFields ?? []
  return [
    `## ${action.type}`,
    `**${action.title}.** ${action.description}`,
    table(
      ['', ''],
      [
        ['effects', EFFECTS[action.effects]],
        ['simulate', SIMULATE[action.simulate]],
        ['retry', retryText(action)],
      ],
    ),
    renderer.section('Input (`with`)', 3, input, `${action.type}.with`),
    raw.length > 0
      ? `The action renders ${raw.map(code).join(', ')} itself, as Liquid over the run's scope plus its own variables; every other string with \`{{\` or \`{%\` is rendered before the input is checked.`
      : null,
    renderer.section(`Output (\`steps.<id>\`)`, 3, output, `${action.type}.output`),
    examples.length > 0 ? `### Example${examples.length > 1 ? 's' : ''}\n\n${examples.join('\n\n')}` : null,
  ]
    .filter((part): part is string => part !== null)
    .join('\n\n')
}

/** docs/actions.md: every built-in action from its declaration in the action registry. */
export function actionsDoc(): string {
  const actions = [...BUILT_IN_ACTIONS].sort(byText((a) => a.type))
  return document([
    generatedBanner(["the action registry (src/actions/index.ts and each action's declaration)"]),
    '# Actions',
    "The built-in actions a workflow step can run (`- action: NAME` with its input under `with:`; see [workflows.md](workflows.md#action)). A step's `with` is checked against the action's input when the workflow is saved, naming the line; values that hold Liquid (`{{ … }}`, `{% … %}`) are rendered over the run's scope at run time and checked then. A value that is exactly one `{{ expression }}` giving a number stays a number. The output is kept on the run's timeline and is `steps.<id>` to later steps.",
    'Every action runs at most once per run step, even across crashes and retries: each step has an idempotency key (run id and step), stable across its attempts.',
    table(
      ['action', 'does', 'effects', 'simulate'],
      actions.map((a) => [`[${a.type}](#${anchor(a.type)})`, a.title, a.effects, a.simulate]),
    ),
    ...actions.map(actionSection),
  ])
}
