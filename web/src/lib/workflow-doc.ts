import { isScalar, isSeq, parseDocument, stringify, type Document } from 'yaml'
import type { StepSpec } from '../../../src/contracts/workflow.ts'

/**
 * The editor's edits, made on the YAML text itself: parsed to a Document, changed at a path and
 * printed again, so comments and the author's layout outside the change survive.
 */

export type YamlPath = Array<string | number>

function parse(source: string): Document | null {
  const doc = parseDocument(source)
  return doc.errors.length > 0 ? null : doc
}

/** The file with the value at `path` set (or removed when `value` is undefined or ''); null when the text does not parse. */
export function setAt(source: string, path: YamlPath, value: unknown): string | null {
  const doc = parse(source)
  if (!doc) return null
  if (value === undefined || value === '') {
    doc.deleteIn(path)
    return String(doc)
  }
  const spliced = spliceScalar(source, doc, path, value)
  if (spliced !== null) return spliced
  // a new node (a key that was not there, or a value the text cannot take in place); the old one's comments kept
  const node = doc.createNode(value)
  const old = doc.getIn(path, true)
  if (isScalar(old) && isScalar(node)) {
    node.comment = old.comment
    node.commentBefore = old.commentBefore
    node.spaceBefore = old.spaceBefore
  }
  doc.setIn(path, node)
  return String(doc)
}

/**
 * A one-line scalar replaced in place in the text, so that nothing else of the file changes (the
 * printer would refold long lines); null when that cannot be done safely, and the caller reprints.
 */
function spliceScalar(source: string, doc: Document, path: YamlPath, value: unknown): string | null {
  const old = doc.getIn(path, true)
  if (!isScalar(old) || !old.range) return null
  if (old.type === 'BLOCK_LITERAL' || old.type === 'BLOCK_FOLDED') return null
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return null
  // a string keeps the author's quotes (the printer falls back to another style when they cannot hold it)
  const quoted = typeof value === 'string' && (old.type === 'QUOTE_SINGLE' || old.type === 'QUOTE_DOUBLE')
  const text = stringify(value, { lineWidth: 0, ...(quoted ? { defaultStringType: old.type } : {}) }).trimEnd()
  if (text.includes('\n')) return null
  const [start, end] = old.range
  const next = source.slice(0, start) + text + source.slice(end)
  // the text must read back as the same file with this one value changed (a plain scalar in a flow map may not)
  const check = parseDocument(next)
  if (check.errors.length > 0 || check.getIn(path) !== value) return null
  return next
}

/** The list a step sits in and its index there. */
function listOf(stepPath: YamlPath): { list: YamlPath; index: number } {
  return { list: stepPath.slice(0, -1), index: stepPath[stepPath.length - 1] as number }
}

/** The text of a block sequence's item: from the start of its `- ` line to the end of its last line. */
function itemSpan(source: string, node: unknown): [number, number] | null {
  const range = (node as { range?: [number, number, number] } | null)?.range
  if (!range) return null
  const start = source.lastIndexOf('\n', range[0] - 1) + 1
  const dash = source.slice(start, range[0])
  if (!/^\s*-\s/.test(dash)) return null
  let end = range[1]
  if (end === 0 || source[end - 1] !== '\n') {
    const nl = source.indexOf('\n', end)
    end = nl < 0 ? source.length : nl + 1
  }
  return [start, end]
}

/** The spliced text when it reads back as the reprinted document would; else the reprint (it refolds long lines). */
function preferSplice(doc: Document, spliced: string | null): string {
  const printed = String(doc)
  if (spliced === null) return printed
  const check = parseDocument(spliced)
  if (check.errors.length > 0) return printed
  return JSON.stringify(check.toJS()) === JSON.stringify(doc.toJS()) ? spliced : printed
}

/** Inserts a step after `after` (or at the end of the top-level steps); answers the text and the new step's path. */
export function insertStep(source: string, after: YamlPath | null, step: Record<string, unknown>): { source: string; path: YamlPath } | null {
  const doc = parse(source)
  if (!doc) return null
  const { list, index } = after ? listOf(after) : { list: ['steps'], index: -1 }
  let seq = doc.getIn(list, true)
  if (!isSeq(seq)) {
    doc.setIn(list, doc.createNode([]))
    seq = doc.getIn(list, true)
  }
  if (!isSeq(seq)) return null
  const at = index < 0 ? seq.items.length : index + 1
  const before = seq.items[at - 1]
  const span = before ? itemSpan(source, before) : null
  let spliced: string | null = null
  if (span) {
    const indent = /^\s*/.exec(source.slice(span[0], span[1]))?.[0] ?? ''
    const text = stringify([step], { lineWidth: 0 })
      .split('\n')
      .map((line) => (line ? indent + line : line))
      .join('\n')
    spliced = source.slice(0, span[1]) + (source[span[1] - 1] === '\n' || span[1] === 0 ? '' : '\n') + text + source.slice(span[1])
  }
  seq.items.splice(at, 0, doc.createNode(step))
  return { source: preferSplice(doc, spliced), path: [...list, at] }
}

export function deleteStep(source: string, path: YamlPath): string | null {
  const doc = parse(source)
  if (!doc) return null
  const { list, index } = listOf(path)
  const seq = doc.getIn(list, true)
  if (!isSeq(seq)) return null
  const span = itemSpan(source, seq.items[index])
  seq.items.splice(index, 1)
  return preferSplice(doc, span ? source.slice(0, span[0]) + source.slice(span[1]) : null)
}

/** Moves a step one place up (-1) or down (+1) in its list; answers the text and its new path. */
export function moveStep(source: string, path: YamlPath, by: -1 | 1): { source: string; path: YamlPath } | null {
  const doc = parse(source)
  if (!doc) return null
  const { list, index } = listOf(path)
  const seq = doc.getIn(list, true)
  if (!isSeq(seq)) return null
  const to = index + by
  if (to < 0 || to >= seq.items.length) return null
  const first = itemSpan(source, seq.items[Math.min(index, to)])
  const second = itemSpan(source, seq.items[Math.max(index, to)])
  let spliced: string | null = null
  if (first && second && first[1] <= second[0]) {
    const a = source.slice(first[0], first[1])
    const b = source.slice(second[0], second[1])
    spliced = source.slice(0, first[0]) + b + source.slice(first[1], second[0]) + a + source.slice(second[1])
  }
  const [item] = seq.items.splice(index, 1)
  seq.items.splice(to, 0, item)
  return { source: preferSplice(doc, spliced), path: [...list, to] }
}
/** Moves a step to another place in its own list, one place at a time; null when it is not in that list. */
export function moveStepTo(source: string, path: YamlPath, to: number): { source: string; path: YamlPath } | null {
  let current = { source, path }
  let index = path[path.length - 1] as number
  while (index !== to) {
    const next = moveStep(current.source, current.path, to < index ? -1 : 1)
    if (!next) return null
    current = next
    index = next.path[next.path.length - 1] as number
  }
  return current
}

/** Whether two steps sit in the same list. */
export function sameList(a: YamlPath, b: YamlPath): boolean {
  return a.length === b.length && a.slice(0, -1).every((p, i) => p === b[i])
}

/** The value at a path of a plain object (the parsed file). */
export function getAt(value: unknown, path: YamlPath): unknown {
  let v = value
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string | number, unknown>)[p]
  }
  return v
}

/** The lists of steps nested in a step, with the YAML key path of each and the graph's label. */
function branchesOf(step: StepSpec): Array<{ key: YamlPath; label: string; steps: StepSpec[] }> {
  const s = step as Record<string, unknown>
  const out: Array<{ key: YamlPath; label: string; steps: StepSpec[] }> = []
  const list = (key: string, label = key) => {
    if (Array.isArray(s[key])) out.push({ key: [key], label, steps: s[key] as StepSpec[] })
  }
  if ('if' in s) {
    list('then')
    list('else')
  } else if ('wait_for' in s) {
    list('received')
    list('timed_out', 'timed out')
  } else if ('split' in s) {
    const variants = (s.split as { variants?: Array<{ id: string; steps: StepSpec[] }> } | undefined)?.variants ?? []
    for (const [k, v] of variants.entries()) if (Array.isArray(v?.steps)) out.push({ key: ['split', 'variants', k, 'steps'], label: v.id, steps: v.steps })
  } else if ('for_each' in s) list('steps', 'each')
  return out
}

/** The graph's node id of every step (as web/src/components/workflow-graph-layout.ts names them) → its YAML path. */
export function stepPaths(steps: StepSpec[]): Map<string, YamlPath> {
  const paths = new Map<string, YamlPath>()
  const walk = (list: StepSpec[], prefix: string, at: YamlPath) => {
    for (const [i, step] of list.entries()) {
      if (!step || typeof step !== 'object') continue
      const id = `step:${step.id ?? `${prefix}${i + 1}`}`
      const path = [...at, i]
      paths.set(id, path)
      for (const b of branchesOf(step)) walk(b.steps, `${id.slice(5)}.${b.label}.`, [...path, ...b.key])
    }
  }
  walk(steps, '', ['steps'])
  return paths
}

/** The kind of a step, as the graph shows it. */
export function kindOf(step: unknown): string {
  if (!step || typeof step !== 'object') return 'step'
  for (const k of ['action', 'if', 'wait_for', 'wait', 'split', 'for_each', 'exit']) if (k in step) return k
  return 'step'
}
