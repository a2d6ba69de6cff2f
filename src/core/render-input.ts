import { renderTemplate } from './templates/index.ts'

/**
 * Renders Liquid in an action's `with` before validation: strings holding `{{` or `{%` are
 * templates over the run's scope; other values pass through. Fields an action renders itself
 * (send_email's subject and html) are listed in `skip` and left as written.
 */
export async function renderInput(value: unknown, scope: Record<string, unknown>, skip: ReadonlySet<string> = new Set(), depth = 0): Promise<unknown> {
  if (typeof value === 'string') {
    if (!/\{\{|\{%/.test(value)) return value
    // compiled once per source (cached), on the same sandboxed, bounded engine as messages; a
    // Liquid error is a UserError naming the template's line
    const rendered = await renderTemplate(value, 'with', scope)
    // a template that is exactly one {{ expr }} may stand for a number: keep it numeric
    return /^\s*\{\{[^}]*\}\}\s*$/.test(value) && rendered.trim() !== '' && !Number.isNaN(Number(rendered)) ? Number(rendered) : rendered
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => renderInput(v, scope, skip, depth + 1)))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = depth === 0 && skip.has(k) ? v : await renderInput(v, scope, skip, depth + 1)
    return out
  }
  return value
}
