import { parseDocument } from 'yaml'
import { z } from 'zod'
import { CelCompileError, compileCel } from '../core/cel.ts'
import { compileTemplate } from '../core/templates/index.ts'
import { parseWorkflow } from '../core/workflow/parse.ts'
import { UserError } from '../lib/errors.ts'
import type { ActionDefinition } from '../plugin-api/define-action.ts'

/**
 * What the dashboard's workflow editor asks while someone types: is this file valid (the same
 * parser a save uses, every problem with its line), does this one CEL or Liquid field compile,
 * and which actions exist with the JSON Schema of their `with`. Nothing is stored.
 */

export interface EditorProblem {
  path: string
  line: number | null
  message: string
}

export interface ValidationAnswer {
  ok: boolean
  errors: EditorProblem[]
  /** the checked definition when ok; otherwise the file as far as it reads as YAML (null when it does not) */
  definition: unknown
}

export type ExpressionKind = 'cel' | 'liquid'

export interface ActionCatalogEntry {
  type: string
  title: string
  description: string
  effects: string
  raw_fields: string[]
  input: Record<string, unknown>
}

export function createWorkflowEditor(actions: ReadonlyMap<string, ActionDefinition>) {
  return {
    /** Checks a workflow file as a save would, reporting all problems instead of throwing. */
    validate(source: string): ValidationAnswer {
      try {
        const parsed = parseWorkflow(source, (t) => actions.get(t))
        return { ok: true, errors: [], definition: parsed.file }
      } catch (err) {
        if (!(err instanceof UserError)) throw err
        const details = err.details as { problems?: EditorProblem[] } | undefined
        const doc = parseDocument(source)
        // a file that is not YAML: the parser's own errors, each with its line (linePos needs prettyErrors)
        if (doc.errors.length > 0)
          return {
            ok: false,
            errors: doc.errors.map((e) => ({ path: '', line: e.linePos?.[0]?.line ?? null, message: e.message.split('\n')[0] ?? e.message })),
            definition: null,
          }
        const errors = details?.problems ?? [{ path: '', line: null, message: err.message }]
        return { ok: false, errors, definition: doc.toJS() ?? null }
      }
    },

    /** Compiles one CEL expression or Liquid template; the first error, as a save would word it. */
    check(kind: ExpressionKind, source: string): { ok: boolean; error: string | null } {
      try {
        if (kind === 'cel') compileCel(source)
        else compileTemplate(source, 'field')
        return { ok: true, error: null }
      } catch (err) {
        if (err instanceof CelCompileError || err instanceof UserError) return { ok: false, error: err.message }
        throw err
      }
    },

    /** Every action this installation knows, with the JSON Schema of its input, sorted by type. */
    catalog(): ActionCatalogEntry[] {
      return [...actions.values()]
        .sort((a, b) => a.type.localeCompare(b.type))
        .map((a) => {
          const { $schema: _drop, ...input } = z.toJSONSchema(a.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
          return { type: a.type, title: a.title, description: a.description, effects: a.effects, raw_fields: a.rawFields ?? [], input }
        })
    },
  }
}
