import type { StepSpec } from '../../../src/contracts/workflow.ts'

/** A workflow's steps as boxes and arrows: one node per step, an edge per `next` and per branch. */

export interface GraphNode {
  id: string
  kind: string
  title: string
  detail: string
  x: number
  y: number
}

export interface GraphEdge {
  id: string
  source: string
  target: string
  label?: string
}

const COLUMN = 280
const ROW = 110

interface Branch {
  label: string
  steps: StepSpec[]
}

function kindOf(step: StepSpec): string {
  for (const k of ['action', 'if', 'wait_for', 'wait', 'split', 'for_each', 'exit'] as const) if (k in step) return k
  return 'step'
}

function describe(step: StepSpec): { title: string; detail: string; branches: Branch[]; terminal: boolean } {
  if ('action' in step)
    return { title: step.name ?? step.action, detail: [step.name ? step.action : null, step.id].filter(Boolean).join(' · '), branches: [], terminal: false }
  if ('if' in step)
    return {
      title: 'if',
      detail: step.if,
      branches: [{ label: 'then', steps: step.then }, ...(step.else ? [{ label: 'else', steps: step.else }] : [])],
      terminal: false,
    }
  if ('wait_for' in step)
    return {
      title: `wait for ${step.wait_for.event}`,
      detail: `timeout ${step.wait_for.timeout}${step.wait_for.match ? ` · ${step.wait_for.match}` : ''}`,
      branches: [
        ...(step.received ? [{ label: 'received', steps: step.received }] : []),
        ...(step.timed_out ? [{ label: 'timed out', steps: step.timed_out }] : []),
      ],
      terminal: false,
    }
  if ('wait' in step)
    return {
      title: 'wait',
      detail: typeof step.wait === 'string' ? step.wait : `until ${step.wait.until}${step.wait.timezone ? ` (${step.wait.timezone})` : ''}`,
      branches: [],
      terminal: false,
    }
  if ('split' in step)
    return {
      title: 'split',
      detail: step.split.variants.map((v) => `${v.id} ${v.weight}`).join(' · '),
      branches: step.split.variants.map((v) => ({ label: v.id, steps: v.steps })),
      terminal: false,
    }
  if ('for_each' in step)
    return { title: `for each ${step.as ?? 'item'}`, detail: step.for_each, branches: [{ label: 'each', steps: step.steps }], terminal: false }
  if ('exit' in step) return { title: 'exit', detail: step.exit === true ? '' : step.exit, branches: [], terminal: true }
  return { title: 'step', detail: '', branches: [], terminal: false }
}

/** Columns a list of steps needs: the widest branching step's branches side by side. */
function width(steps: StepSpec[]): number {
  let w = 1
  for (const step of steps) {
    const { branches } = describe(step)
    if (branches.length > 0)
      w = Math.max(
        w,
        branches.reduce((sum, b) => sum + width(b.steps), 0),
      )
  }
  return w
}

export function layoutWorkflow(steps: StepSpec[], trigger: string): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes: GraphNode[] = [{ id: 'trigger', kind: 'trigger', title: 'trigger', detail: trigger, x: 0, y: 0 }]
  const edges: GraphEdge[] = []

  /** Lays out steps from (column, row), joined from `from`; answers the ends that continue, and the next row. */
  const place = (list: StepSpec[], path: string, column: number, row: number, from: string[], label?: string): { ends: string[]; row: number } => {
    let ends = from
    let nextLabel = label
    for (const [i, step] of list.entries()) {
      // `trigger` is a valid step id too: step nodes get their own prefix
      const id = `step:${step.id ?? `${path}${i + 1}`}`
      const d = describe(step)
      nodes.push({ id, kind: kindOf(step), title: d.title, detail: d.detail, x: column * COLUMN, y: row * ROW })
      for (const source of ends) edges.push({ id: `${source}->${id}`, source, target: id, ...(nextLabel ? { label: nextLabel } : {}) })
      nextLabel = undefined
      row += 1
      if (d.terminal) {
        ends = []
        continue
      }
      if (d.branches.length === 0) {
        ends = [id]
        continue
      }
      let col = column
      let deepest = row
      const joined: string[] = []
      for (const branch of d.branches) {
        const placed = place(branch.steps, `${id.slice(5)}.${branch.label}.`, col, row, [id], branch.label)
        // an empty branch goes straight on from the step
        if (branch.steps.length === 0) joined.push(id)
        else joined.push(...placed.ends)
        deepest = Math.max(deepest, placed.row)
        col += width(branch.steps)
      }
      // an if without else, a wait_for without one of its outcomes, go straight on in that case;
      // a for_each goes on once its body has run for every item
      const kind = kindOf(step)
      const fallsThrough =
        (kind === 'if' && !('else' in step && step.else)) ||
        (kind === 'wait_for' && !('received' in step && step.received && 'timed_out' in step && step.timed_out))
      ends = kind === 'for_each' ? [id] : [...new Set(fallsThrough ? [...joined, id] : joined)]
      row = deepest
    }
    return { ends, row }
  }

  place(steps, '', 0, 1, ['trigger'])
  return { nodes, edges }
}
