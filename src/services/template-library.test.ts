import { describe, expect, it } from 'vitest'
import { createActionRegistry } from '../actions/index.ts'
import { parseWorkflow } from '../core/workflow/parse.ts'
import { loadTemplates, notInstallable } from './template-library.ts'

const registry = createActionRegistry()
const templates = loadTemplates(registry)

describe('built-in template library', () => {
  it('has the whole library (docs/templates.md), each titled and described', () => {
    expect(templates.length).toBeGreaterThanOrEqual(19)
    for (const t of templates) {
      expect(t.title, t.name).not.toBe('')
      expect(t.description.length, t.name).toBeGreaterThan(20)
      expect(t.trigger, t.name).toBeTypeOf('object')
    }
  })

  it.each(templates.filter((t) => t.missingActions.length === 0).map((t) => [t.name, t] as const))('%s parses with the real action registry', (_name, t) => {
    const parsed = parseWorkflow(t.source, (type) => registry.get(type), `${t.name}.yaml`)
    expect(parsed.file.id).toBe(t.name)
    expect(parsed.file.active).toBeUndefined()
    expect(t.problem).toBeNull()
  })

  it('templates that need a missing action say which, and only name actions storeflow plans (README.md, Status)', () => {
    const planned = new Set(['create_discount_code', 'hold_order', 'cancel_runs', 'create_purchase_order', 'create_invoice', 'sync_audience'])
    for (const t of templates.filter((x) => x.missingActions.length > 0)) {
      for (const a of t.missingActions) expect(planned.has(a), `${t.name}: ${a}`).toBe(true)
      expect(notInstallable(t)).toContain(t.missingActions[0])
    }
  })
})
