import { compileTemplate, type TemplateOutput } from '../../core/templates/index.ts'
import { UserError } from '../../lib/errors.ts'
import { PermanentError } from '../../plugin-api/index.ts'

/** a string with Liquid in it: rendered at send time, so checked then */
export const LIQUID_MARK = /\{\{|\{%/

/**
 * Renders a Liquid string only when it has Liquid in it; plain strings stay byte-for-byte. The
 * output is text (a subject, a recipient, an SMS, a chat line, a var): nothing is HTML-escaped.
 */
export async function renderMaybe(source: string, name: string, scope: Record<string, unknown>, output: TemplateOutput = 'text'): Promise<string> {
  return LIQUID_MARK.test(source) ? compileTemplate(source, name, { output }).render(scope) : source
}

/**
 * `vars` may carry Liquid (`code: '{{ steps.code.code }}'`); its string values render over the
 * run's scope, as text: they are values like any other, escaped where the body prints them.
 */
export async function renderVars(vars: Record<string, unknown> | undefined, name: string, scope: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(vars ?? {})) {
    out[key] = typeof value === 'string' ? await renderMaybe(value, `${name} vars.${key}`, scope) : value
  }
  return out
}

/**
 * The scope a message renders over: the run's, with the step's `vars` on top (also as top-level
 * names); `vars.NAME` reads the step's var, else the workflow's.
 */
export function withStepVars(scope: Record<string, unknown>, vars: Record<string, unknown>): Record<string, unknown> {
  const workflowVars = scope.vars && typeof scope.vars === 'object' ? (scope.vars as Record<string, unknown>) : {}
  return { ...scope, ...vars, vars: { ...workflowVars, ...vars } }
}

/** A Liquid error at send time is the author's to fix, not a reason to retry. */
export async function withTemplateErrors<T>(render: () => Promise<T>): Promise<T> {
  try {
    return await render()
  } catch (err) {
    if (err instanceof UserError) throw new PermanentError(err.message, { reason: 'template_error', cause: err, details: err.details })
    throw err
  }
}
