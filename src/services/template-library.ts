import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { createActionRegistry } from '../actions/index.ts'
import { parseWorkflow, type ParsedWorkflow } from '../core/workflow/parse.ts'
import { StoreflowError, UserError } from '../lib/errors.ts'
import type { ActionDefinition } from '../plugin-api/define-action.ts'

/** The built-in template library: `templates/workflows/<name>.yaml`. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/workflows/', import.meta.url))

export interface Template {
  /** the file name without .yaml; also the workflow id */
  name: string
  title: string
  description: string
  trigger: Record<string, unknown>
  source: string
  file: string
  /** actions the template uses that this installation does not have (empty when installable) */
  missingActions: string[]
  /** set when it is installable */
  parsed: ParsedWorkflow | null
  /** any other reason it does not parse (a bug in the template) */
  problem: string | null
}

function actionsUsed(steps: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(steps)) for (const s of steps) actionsUsed(s, out)
  else if (steps && typeof steps === 'object') {
    for (const [key, value] of Object.entries(steps)) {
      if (key === 'action' && typeof value === 'string') out.add(value)
      else if (key !== 'with' && typeof value === 'object') actionsUsed(value, out)
    }
  }
  return out
}

export function loadTemplates(actions: ReadonlyMap<string, ActionDefinition>, dir = TEMPLATES_DIR): Template[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
  return files.map((f) => {
    const file = join(dir, f)
    const source = readFileSync(file, 'utf8')
    const raw = (parseYaml(source) ?? {}) as Record<string, unknown>
    const missingActions = [...actionsUsed(raw.steps)].filter((a) => !actions.has(a)).sort()
    let parsed: ParsedWorkflow | null = null
    let problem: string | null = null
    if (missingActions.length === 0) {
      try {
        parsed = parseWorkflow(source, (t) => actions.get(t), f)
      } catch (err) {
        if (!(err instanceof StoreflowError)) throw err
        problem = err.message
      }
    }
    return {
      name: f.replace(/\.ya?ml$/, ''),
      title: typeof raw.name === 'string' ? raw.name : f,
      description: typeof raw.description === 'string' ? raw.description.trim() : '',
      trigger: (raw.trigger ?? {}) as Record<string, unknown>,
      source,
      file,
      missingActions,
      parsed,
      problem,
    }
  })
}

/** The library as this installation's built-in actions see it: files only, no database. */
export function builtInTemplates(): Template[] {
  return loadTemplates(createActionRegistry())
}

export function findTemplate(templates: Template[], name: string): Template {
  const t = templates.find((x) => x.name === name)
  if (!t) throw new UserError(`no template named "${name}"; see \`storeflow templates list\``, { code: 'not_found' })
  return t
}

/** Why a template cannot be installed, or null when it can. */
export function notInstallable(t: Template): string | null {
  if (t.missingActions.length > 0) {
    const names = t.missingActions.map((a) => `"${a}"`).join(', ')
    return `template "${t.name}" needs action${t.missingActions.length > 1 ? 's' : ''} ${names}, which this version of storeflow does not have yet`
  }
  if (t.problem) return `template "${t.name}" does not parse: ${t.problem}`
  return null
}
