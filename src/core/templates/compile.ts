import type { Liquid, Template } from 'liquidjs'
import { UserError } from '../../lib/errors.ts'
import { createLiquidEngine, type TemplateOutput } from './liquid.ts'

const engines: Record<TemplateOutput, Liquid> = { html: createLiquidEngine('html'), chat: createLiquidEngine('chat'), text: createLiquidEngine('text') }

/**
 * Compiled templates keyed by source text, one cache per output kind (HTML escaping is compiled
 * into the template): the same source compiles once per process and kind.
 */
const caches: Record<TemplateOutput, Map<string, Template[]>> = { html: new Map(), chat: new Map(), text: new Map() }
const CACHE_LIMIT = 5000

export interface CompiledTemplate {
  name: string
  render(scope: Record<string, unknown>): Promise<string>
}

export interface CompileOptions {
  /**
   * `html` for anything rendered into HTML (an email body): every `{{ }}` is escaped unless its
   * last filter is `raw`. `chat` for chat messages: `&`, `<` and `>` of every `{{ }}` escaped.
   * `text` (the default) for subjects, SMS, chat and other plain strings;
   * syntax errors are the same either way, so save-time checks may use either.
   */
  output?: TemplateOutput
}

/**
 * Parses a Liquid template, or throws a `UserError` that names the template and the line,
 * e.g. `template "welcome" line 3: tag "iff" not found`. Call it when a template or workflow
 * is saved, so the error reaches the author rather than a customer's inbox.
 */
export function compileTemplate(source: string, name: string, options: CompileOptions = {}): CompiledTemplate {
  const output = options.output ?? 'text'
  const engine = engines[output]
  const cache = caches[output]
  let parsed = cache.get(source)
  if (!parsed) {
    try {
      parsed = engine.parse(source, name)
    } catch (err) {
      throw liquidUserError(err, name)
    }
    if (cache.size >= CACHE_LIMIT) {
      // drop the oldest entry: Map keeps insertion order
      const oldest = cache.keys().next()
      if (!oldest.done) cache.delete(oldest.value)
    }
    cache.set(source, parsed)
  }
  const templates = parsed
  return {
    name,
    async render(scope) {
      try {
        // synchronous rendering: every filter and tag on this engine is synchronous, and the
        // async renderer's generator-and-promise per node costs several times the work itself
        return engine.renderSync(templates, scope)
      } catch (err) {
        throw liquidUserError(err, name)
      }
    },
  }
}

/** Compiles and renders in one go; the compile is cached, so this is cheap on repeat. */
export async function renderTemplate(source: string, name: string, scope: Record<string, unknown>, options: CompileOptions = {}): Promise<string> {
  return compileTemplate(source, name, options).render(scope)
}

function liquidUserError(err: unknown, name: string): UserError {
  const raw = err instanceof Error ? err.message : String(err)
  const token = (err as { token?: { getPosition?: () => [number, number] } } | null)?.token
  const position = token?.getPosition?.()
  const lineFromMessage = /line:(\d+)/.exec(raw)?.[1]
  const line = position?.[0] ?? (lineFromMessage ? Number(lineFromMessage) : undefined)
  // liquidjs appends ", file:NAME, line:N, col:M"; we say it our way instead
  const reason = raw.replace(/,\s*file:.*$/s, '').replace(/,\s*line:\d+.*$/s, '')
  const where = line === undefined ? `template "${name}"` : `template "${name}" line ${line}`
  return new UserError(`${where}: ${reason}`, {
    code: 'validation_failed',
    cause: err,
    details: { template: name, line: line ?? null },
  })
}
