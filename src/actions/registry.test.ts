import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { BUILT_IN_ACTIONS, createActionRegistry } from './index.ts'

/** One declaration drives validation, forms and docs: every action must be complete. */
describe('action registry', () => {
  it('has unique snake_case names', () => {
    const names = BUILT_IN_ACTIONS.map((a) => a.type)
    expect(new Set(names).size).toBe(names.length)
    for (const name of names) expect(name).toMatch(/^[a-z]+(_[a-z]+)*$/)
    expect(createActionRegistry().size).toBe(names.length)
  })

  it.each(BUILT_IN_ACTIONS.map((a) => [a.type, a] as const))('%s is described, converts to JSON Schema and its examples validate', (_name, action) => {
    expect(action.title.length).toBeGreaterThan(2)
    expect(action.description.length).toBeGreaterThan(20)
    expect(['none', 'internal', 'external']).toContain(action.effects)
    const schema = z.toJSONSchema(action.input, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { description?: string }> }
    for (const [field, prop] of Object.entries(schema.properties ?? {})) {
      expect(prop.description, `${action.type}.${field} has no description`).toBeTruthy()
    }
    expect(action.examples?.length ?? 0).toBeGreaterThan(0)
    for (const example of action.examples ?? []) expect(action.input.safeParse(example).success).toBe(true)
  })
})
