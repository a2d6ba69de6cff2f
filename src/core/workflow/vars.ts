import type { VarValue } from '../../contracts/workflow.ts'

/**
 * A workflow's `vars:` in the places that need a typed value. A string that is exactly one
 * `{{ vars.NAME }}` — a wait, a timeout, a reentry window, an action's `percent` — is replaced by
 * the var's value when the file is parsed, so the saved definition holds `3d` or `10` and is
 * checked like any other. Conditions (CEL) and the fields an action renders itself (send_email's
 * subject and html) keep their references: they read `vars` from the run's scope. The value keeps
 * its type: `percent: '15'` in vars is text, and refused where a number goes.
 */

export type Path = Array<string | number>

export interface VarReference {
  path: Path
  name: string
  defined: boolean
}

const WHOLE_VAR = /^\s*\{\{\s*vars\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$/

/** The name in a string that is exactly `{{ vars.NAME }}`, else null. */
export function wholeVar(value: unknown): string | null {
  return typeof value === 'string' ? (WHOLE_VAR.exec(value)?.[1] ?? null) : null
}

/**
 * The vars a Liquid string reads (`{{ vars.x }}`, `{% if cart.total_price > vars.threshold %}`,
 * `vars["x"]`), found inside its tags and outside their quoted text.
 */
export function liquidVarReferences(source: string): string[] {
  const names = new Set<string>()
  for (const tag of source.matchAll(/\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g)) {
    const inner = tag[1] ?? tag[2] ?? ''
    for (const m of inner.matchAll(/(?<![\w.])vars\s*\[\s*(['"])([^'"]+)\1\s*\]/g)) names.add(m[2]!)
    const unquoted = inner.replace(/"[^"]*"|'[^']*'/g, '""')
    for (const m of unquoted.matchAll(/(?<![\w.])vars\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]!)
  }
  return [...names]
}

/** The keys of a file's `vars:` and the values usable in place of a reference (well-typed ones). */
export function declaredVars(raw: unknown): { names: Set<string>; values: Map<string, VarValue> } {
  const names = new Set<string>()
  const values = new Map<string, VarValue>()
  const vars = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>).vars : undefined
  if (vars && typeof vars === 'object' && !Array.isArray(vars)) {
    for (const [name, value] of Object.entries(vars)) {
      names.add(name)
      if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) values.set(name, value)
    }
  }
  return { names, values }
}

/**
 * Replaces, in place, every whole `{{ vars.NAME }}` string of a parsed file (before its shape is
 * checked) outside conditions and an action's own rendered fields. Returns every such reference,
 * replaced or (when the var is not declared) left as it was.
 */
export function substituteVars(
  raw: unknown,
  declared: ReturnType<typeof declaredVars>,
  rawFieldsOf: (action: string) => ReadonlySet<string> | undefined,
): VarReference[] {
  const refs: VarReference[] = []
  const value = (v: unknown, path: Path): unknown => {
    const name = wholeVar(v)
    if (name !== null) {
      const defined = declared.names.has(name)
      refs.push({ path, name, defined })
      return declared.values.get(name) ?? v
    }
    if (Array.isArray(v)) return v.map((item, i) => value(item, [...path, i]))
    if (isObject(v)) {
      for (const [k, item] of Object.entries(v)) v[k] = value(item, [...path, k])
    }
    return v
  }
  const object = (v: unknown, path: Path, each: (key: string, item: unknown, here: Path) => unknown) => {
    if (!isObject(v)) return
    for (const [k, item] of Object.entries(v)) v[k] = each(k, item, [...path, k])
  }
  const steps = (list: unknown, path: Path) => {
    if (!Array.isArray(list)) return
    list.forEach((step, i) => {
      const rawFields = isObject(step) && typeof step.action === 'string' ? rawFieldsOf(step.action) : undefined
      object(step, [...path, i], (key, item, here) => {
        if (key === 'if' || key === 'for_each') return item // CEL
        if (key === 'then' || key === 'else' || key === 'steps' || key === 'received' || key === 'timed_out') {
          steps(item, here)
          return item
        }
        if (key === 'wait_for') {
          object(item, here, (k, v, p) => (k === 'match' ? v : value(v, p)))
          return item
        }
        if (key === 'split') {
          object(item, here, (k, variants, p) => {
            if (k !== 'variants' || !Array.isArray(variants)) return value(variants, p)
            for (const [j, variant] of variants.entries()) {
              object(variant, [...p, j], (vk, vv, vp) => {
                if (vk !== 'steps') return value(vv, vp)
                steps(vv, vp)
                return vv
              })
            }
            return variants
          })
          return item
        }
        if (key === 'with' && isObject(step) && 'action' in step) {
          object(item, here, (k, v, p) => (rawFields?.has(k) ? v : value(v, p)))
          return item
        }
        return value(item, here)
      })
    })
  }
  object(raw, [], (key, item, here) => {
    if (key === 'vars' || key === 'when') return item
    if (key === 'trigger') {
      object(item, here, (k, v, p) => (k === 'filter' ? v : value(v, p)))
      return item
    }
    if (key === 'exit_when') {
      if (Array.isArray(item)) for (const [i, goal] of item.entries()) object(goal, [...here, i], (k, v, p) => (k === 'match' ? v : value(v, p)))
      return item
    }
    if (key === 'steps') {
      steps(item, here)
      return item
    }
    return value(item, here)
  })
  return refs
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}
