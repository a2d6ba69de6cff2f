import { LineCounter, parseDocument, isMap, isSeq, type Node } from 'yaml'
import type { z } from 'zod'
import { UserError } from '../../lib/errors.ts'
import { parseDuration } from '../../lib/durations.ts'
import { workflowFileSchema, type ScheduleTriggerSpec, type StepSpec, type WorkflowFile } from '../../contracts/workflow.ts'
import { isAcceptedEventType, unknownEventType } from '../../contracts/events.ts'
import { cronProblem, timeZoneProblem } from '../cron.ts'
import { compileCel, CelCompileError, varReferences } from '../cel.ts'
import { compileTemplate } from '../templates/index.ts'
import { compileProgram } from './compile.ts'
import type { Instruction } from './program.ts'
import { declaredVars, liquidVarReferences, substituteVars, type Path } from './vars.ts'

export interface WorkflowProblem {
  line: number | null
  path: string
  message: string
}

export type ActionLookup = (type: string) => { input: z.ZodType; rawFields?: string[] } | undefined

export interface ParsedWorkflow {
  file: WorkflowFile
  program: Instruction[]
  format: 'yaml' | 'json'
}

/**
 * Parses a workflow file (YAML or JSON; JSON is YAML), validates its shape, every CEL
 * expression and every action's `with`, and compiles its program. All problems are
 * reported at once, each naming its line, in a UserError whose details list them.
 */
export function parseWorkflow(source: string, lookupAction: ActionLookup, fileName = 'workflow'): ParsedWorkflow {
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, { lineCounter, prettyErrors: false })
  const format = source.trimStart().startsWith('{') ? 'json' : 'yaml'
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      // prettyErrors off leaves linePos unset: the error's offset gives the line
      line: e.linePos?.[0]?.line ?? (e.pos ? lineCounter.linePos(e.pos[0]).line : null),
      path: '',
      message: e.message.split('\n')[0] ?? e.message,
    }))
    throw problemsError(fileName, problems)
  }
  const lineOf = (path: Array<string | number>): number | null => {
    // walk up to the nearest node that exists: a missing key is reported at its parent
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined
      if (node && typeof node === 'object' && 'range' in node && node.range) return lineCounter.linePos(node.range[0]).line
      if (n === 0 && (isMap(doc.contents) || isSeq(doc.contents))) return lineCounter.linePos(doc.contents.range?.[0] ?? 0).line
    }
    return null
  }

  const raw = doc.toJS()
  // vars: a whole `{{ vars.NAME }}` where a typed value goes is replaced before the shape is
  // checked; a problem with a replaced value names the var, and a var never declared is refused
  const declared = declaredVars(raw)
  const refs = substituteVars(raw, declared, (type) => {
    const fields = lookupAction(type)?.rawFields
    return fields ? new Set(fields) : undefined
  })
  const problems: WorkflowProblem[] = []
  const seen = new Set<string>()
  const report = (path: Path, message: string) => {
    const ref = refs.find((r) => r.defined && startsWith(path, r.path))
    const text = ref ? `${message} (from vars.${ref.name} = ${JSON.stringify(declared.values.get(ref.name))}${varLine(ref.name)})` : message
    const key = `${formatPath(path)}\u0000${text}`
    if (seen.has(key)) return
    seen.add(key)
    problems.push({ line: lineOf(path), path: formatPath(path), message: text })
  }
  const varLine = (name: string) => {
    const line = lineOf(['vars', name])
    return line ? `, line ${line}` : ''
  }
  const checkVars = (names: Iterable<string>, path: Path, extra?: ReadonlySet<string>) => {
    for (const name of names) {
      if (!declared.names.has(name) && !extra?.has(name)) report(path, `vars.${name} is not defined: declare it under vars: at the top of the workflow`)
    }
  }
  for (const ref of refs) if (!ref.defined) checkVars([ref.name], ref.path)

  const result = workflowFileSchema.safeParse(raw)
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path as Path
      // a reference to an undeclared var is reported as that, not as the text it left in place
      if (refs.some((r) => !r.defined && startsWith(path, r.path))) continue
      report(path, issue.message)
    }
    throw problemsError(fileName, problems)
  }
  const file = result.data
  const checkCel = (expr: string | undefined, path: Path) => {
    if (expr === undefined) return
    try {
      compileCel(expr)
    } catch (err) {
      if (!(err instanceof CelCompileError)) throw err
      report(path, `condition does not compile: ${err.message}`)
      return
    }
    checkVars(varReferences(expr), path)
  }
  const checkDuration = (text: string, path: Path) => {
    try {
      parseDuration(text)
    } catch (err) {
      report(path, (err as Error).message)
    }
  }

  // an event type no event can have (a typo: order.payed) would make a workflow that never runs:
  // the events endpoint refuses such a type, so the workflow names one it accepts
  const checkEventType = (type: string, path: Path) => {
    if (isAcceptedEventType(type)) return
    report(path, unknownEventType(type))
  }
  if ('event' in file.trigger) checkEventType(file.trigger.event, ['trigger', 'event'])
  if ('filter' in file.trigger) checkCel(file.trigger.filter, ['trigger', 'filter'])
  if ('cron' in file.trigger) problems.push(...scheduleProblems(file.trigger, lineOf))
  checkCel(file.when, ['when'])
  file.exit_when?.forEach((goal, i) => {
    checkEventType(goal.event, ['exit_when', i, 'event'])
    checkCel(goal.match, ['exit_when', i, 'match'])
  })
  if (file.reentry?.per_customer === 'once_per' && !file.reentry.window) {
    report(['reentry'], 'per_customer: once_per needs a window, like window: 30d')
  }

  const ids = new Map<string, string>()
  const walk = (steps: StepSpec[], path: Array<string | number>) => {
    steps.forEach((step, i) => {
      const here = [...path, i]
      if (step.id) {
        const seen = ids.get(step.id)
        if (seen) report([...here, 'id'], `step id "${step.id}" is already used at ${seen}`)
        ids.set(step.id, formatPath(here))
      }
      if ('action' in step) {
        const action = lookupAction(step.action)
        if (!action) {
          report([...here, 'action'], `unknown action "${step.action}"`)
          return
        }
        // Liquid is checked now, not in a customer's inbox: every templated string of the input,
        // and every string of the fields the action renders itself
        const rawFields = new Set(action.rawFields ?? [])
        // send_email's and send_sms's own `vars` are vars too in the fields they render
        const stepVars = step.with?.vars
        const ownVars = stepVars && typeof stepVars === 'object' && !Array.isArray(stepVars) ? new Set(Object.keys(stepVars)) : undefined
        for (const [valuePath, source] of templateStrings(step.with ?? {}, [])) {
          if (!isTemplated(source) && !rawFields.has(String(valuePath[0]))) continue
          const path = [...here, 'with', ...valuePath]
          try {
            compileTemplate(source, `${step.id ?? `step ${i + 1}`}.${valuePath.join('.')}`)
          } catch (err) {
            report(path, (err as Error).message)
            continue
          }
          checkVars(liquidVarReferences(source), path, valuePath[0] === 'vars' ? undefined : ownVars)
        }
        const checked = action.input.safeParse(step.with ?? {})
        if (!checked.success) {
          for (const issue of checked.error.issues) {
            const valuePath = issue.path as Array<string | number>
            if (isTemplated(getAt(step.with, valuePath))) continue // rendered at run time, checked then
            report([...here, 'with', ...valuePath], issue.message)
          }
        }
      } else if ('if' in step) {
        checkCel(step.if, [...here, 'if'])
        walk(step.then, [...here, 'then'])
        if (step.else) walk(step.else, [...here, 'else'])
      } else if ('wait' in step) {
        if (typeof step.wait === 'string') checkDuration(step.wait, [...here, 'wait'])
        else checkVars(varReferences(step.wait.until), [...here, 'wait', 'until'])
      } else if ('wait_for' in step) {
        checkEventType(step.wait_for.event, [...here, 'wait_for', 'event'])
        checkCel(step.wait_for.match, [...here, 'wait_for', 'match'])
        checkDuration(step.wait_for.timeout, [...here, 'wait_for', 'timeout'])
        if (step.received) walk(step.received, [...here, 'received'])
        if (step.timed_out) walk(step.timed_out, [...here, 'timed_out'])
      } else if ('split' in step) {
        for (const [j, v] of step.split.variants.entries()) walk(v.steps, [...here, 'split', 'variants', j, 'steps'])
      } else if ('for_each' in step) {
        checkCel(step.for_each, [...here, 'for_each'])
        if (step.as === 'vars') report([...here, 'as'], "vars is the workflow's vars: name the loop variable something else")
        walk(step.steps, [...here, 'steps'])
      }
    })
  }
  walk(file.steps, ['steps'])
  if (problems.length > 0) throw problemsError(fileName, problems)

  return { file, program: compileProgram(file.steps), format }
}

/**
 * A schedule is checked when the workflow is saved, not when it should have fired: its time zone
 * (when given; the store's otherwise, which is valid) and its expression in that zone.
 */
function scheduleProblems(trigger: ScheduleTriggerSpec, lineOf: (path: Array<string | number>) => number | null): WorkflowProblem[] {
  const at = (field: string, message: string) => ({ line: lineOf(['trigger', field]), path: `trigger.${field}`, message })
  if (trigger.timezone !== undefined) {
    const zone = timeZoneProblem(trigger.timezone)
    if (zone) return [at('timezone', zone)]
  }
  // validation is no engine decision: the wall clock only tells "never fires" apart
  const cron = cronProblem({ cron: trigger.cron, timezone: trigger.timezone ?? 'UTC' }, new Date())
  return cron ? [at('cron', cron)] : []
}

/** Every string inside a value (such as `vars: { code: '{{ … }}' }`), with its path. */
function templateStrings(value: unknown, path: Array<string | number>): Array<[Array<string | number>, string]> {
  if (typeof value === 'string') return [[path, value]]
  if (Array.isArray(value)) return value.flatMap((v, i) => templateStrings(v, [...path, i]))
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => templateStrings(v, [...path, k]))
  return []
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i])
}

function isTemplated(value: unknown): boolean {
  return typeof value === 'string' && /\{\{|\{%/.test(value)
}

function getAt(value: unknown, path: Array<string | number>): unknown {
  let cur: unknown = value
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[key]
  }
  return cur
}

function formatPath(path: Array<string | number | symbol>): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '')
}

function problemsError(fileName: string, problems: WorkflowProblem[]): UserError {
  const lines = problems.map((p) => `${fileName}${p.line ? ` line ${p.line}` : ''}${p.path ? ` (${p.path})` : ''}: ${p.message}`)
  return new UserError(lines.join('\n'), { code: 'validation_failed', details: { problems } })
}
