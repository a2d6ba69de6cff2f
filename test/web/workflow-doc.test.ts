import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { layoutWorkflow } from '../../web/src/components/workflow-graph-layout.ts'
import { lineDiff } from '../../web/src/lib/diff.ts'
import { deleteStep, insertStep, moveStep, moveStepTo, setAt, stepPaths } from '../../web/src/lib/workflow-doc.ts'
import { REPO_ROOT } from '../helpers/processes.ts'

/** The dashboard editor's edits of the YAML text: the change made, everything else of the file left as written. */

const TEMPLATE = readFileSync(join(REPO_ROOT, 'templates/workflows/abandoned-checkout.yaml'), 'utf8')
const changedLines = (a: string, b: string) => lineDiff(a, b).filter((l) => l.kind !== 'same')

describe('editing a workflow file from the form', () => {
  it('a field set in the form changes that one line; comments and folding elsewhere stay', () => {
    const next = setAt(TEMPLATE, ['steps', 0, 'wait'], '2h')!
    expect(changedLines(TEMPLATE, next)).toEqual([
      { kind: 'removed', text: "  - wait: '{{ vars.first_reminder }}'" },
      { kind: 'added', text: "  - wait: '2h'" },
    ])
  })

  it('a value in a flow map, and one that needs quotes, read back as typed', () => {
    const path = ['steps', 3, 'then', 0, 'with', 'usage_limit']
    const next = setAt(TEMPLATE, path, 'a, b: {c}')!
    expect(parse(next).steps[3].then[0].with).toMatchObject({ usage_limit: 'a, b: {c}', percent: '{{ vars.discount_percent }}' })
    const cleared = setAt(TEMPLATE, path, '')!
    expect(parse(cleared).steps[3].then[0].with).not.toHaveProperty('usage_limit')
  })

  it('a new key is added where there was none', () => {
    const next = setAt(TEMPLATE, ['steps', 1, 'name'], 'First reminder')!
    expect(parse(next).steps[1]).toMatchObject({ id: 'reminder_1', name: 'First reminder' })
    expect(next).toContain('# Abandoned checkout: three reminders')
  })

  it('steps are added after the selected one, moved and deleted, nested ones too', () => {
    const added = insertStep(TEMPLATE, ['steps', 3, 'then', 0], { wait: '5m' })!
    expect(added.path).toEqual(['steps', 3, 'then', 1])
    expect(parse(added.source).steps[3].then.map((s: { id?: string; wait?: string }) => s.id ?? s.wait)).toEqual(['code', '5m', 'reminder_2'])
    const moved = moveStep(added.source, added.path, -1)!
    expect(moved.path).toEqual(['steps', 3, 'then', 0])
    expect(parse(moved.source).steps[3].then[0]).toEqual({ wait: '5m' })
    expect(moveStep(moved.source, moved.path, -1)).toBeNull()
    const deleted = deleteStep(moved.source, moved.path)!
    expect(parse(deleted)).toEqual(parse(TEMPLATE))
    const atEnd = insertStep(TEMPLATE, null, { exit: 'done' })!
    expect(parse(atEnd.source).steps.at(-1)).toEqual({ exit: 'done' })
  })

  it('adding, moving and deleting a step leave every other line as written', () => {
    const added = insertStep(TEMPLATE, ['steps', 1], { wait: '5m' })!
    expect(changedLines(TEMPLATE, added.source)).toEqual([{ kind: 'added', text: '  - wait: 5m' }])
    const nested = insertStep(TEMPLATE, ['steps', 3, 'else', 0], { exit: 'done' })!
    expect(changedLines(TEMPLATE, nested.source)).toEqual([{ kind: 'added', text: '      - exit: done' }])
    const down = moveStep(added.source, added.path, 1)!
    const up = moveStep(down.source, down.path, -1)!
    expect(up.source).toBe(added.source)
    expect(parse(down.source).steps[3]).toEqual({ wait: '5m' })
    expect(deleteStep(added.source, added.path)).toBe(TEMPLATE)
    expect(deleteStep(nested.source, nested.path)).toBe(TEMPLATE)
  })

  it('a step moved several places lands there, the others keeping their order', () => {
    const moved = moveStepTo(TEMPLATE, ['steps', 5], 1)!
    expect(moved.path).toEqual(['steps', 1])
    const order = parse(moved.source).steps.map((s: { id?: string; wait?: string; if?: string }) => s.id ?? s.wait ?? 'if')
    expect(order).toEqual(['{{ vars.first_reminder }}', 'reminder_3', 'reminder_1', '{{ vars.second_reminder }}', 'if', '{{ vars.last_reminder }}'])
    expect(moveStepTo(moved.source, moved.path, 5)!.source).toBe(TEMPLATE)
  })

  it('text that is not YAML is left alone', () => {
    expect(setAt('steps: [', ['steps', 0], 'x')).toBeNull()
    expect(insertStep('steps: [', null, { exit: true })).toBeNull()
  })

  it("the graph's node ids map to the steps' paths", () => {
    const paths = stepPaths(parse(TEMPLATE).steps)
    expect(paths.get('step:1')).toEqual(['steps', 0])
    expect(paths.get('step:reminder_1')).toEqual(['steps', 1])
    expect(paths.get('step:code')).toEqual(['steps', 3, 'then', 0])
    expect(paths.get('step:reminder_2_plain')).toEqual(['steps', 3, 'else', 0])
    expect(paths.get('step:reminder_3')).toEqual(['steps', 5])
    // every node the graph draws, for this file and one with unnamed nested steps, has its step
    const nested = parse(`steps:
  - if: 'true'
    then: [{ wait: 1h }, { if: 'false', then: [{ exit: x }], else: [{ wait: 2h }] }]
  - split: { variants: [{ id: a, weight: 1, steps: [{ wait: 1h }] }, { id: b, weight: 1, steps: [] }] }
  - for_each: 'trigger.data.items'
    steps: [{ wait: 1m }]
`).steps
    for (const steps of [parse(TEMPLATE).steps, nested]) {
      const drawn = layoutWorkflow(steps, 'x')
        .nodes.map((n) => n.id)
        .filter((id) => id !== 'trigger')
      expect([...stepPaths(steps).keys()].sort()).toEqual(drawn.sort())
    }
  })
})

describe('the version diff', () => {
  it('lines kept, removed and added, in order', () => {
    expect(lineDiff('a\nb\nc', 'a\nc\nd')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'd' },
    ])
    expect(lineDiff('x', 'x')).toEqual([{ kind: 'same', text: 'x' }])
  })
})
