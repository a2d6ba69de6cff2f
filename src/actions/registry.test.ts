import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { actionContext } from '../../test/helpers/action-context.ts'
import { ManualClock } from '../lib/clock.ts'
import { defineAction, type ActionServices } from '../plugin-api/index.ts'
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

/**
 * What `storeflow simulate` does with each action is part of its declaration: performed when it
 * stays inside storeflow, and never when it reaches outside, where it either renders a dry run
 * or is not run at all.
 */
describe('what simulate does with each action', () => {
  it.each(BUILT_IN_ACTIONS.map((a) => [a.type, a] as const))('%s declares it, consistently with its effects', (_name, action) => {
    expect(['perform', 'dry_run', 'skip']).toContain(action.simulate)
    if (action.effects === 'external') expect(action.simulate).not.toBe('perform')
    else expect(action.simulate).toBe('perform')
  })

  const dryRuns = BUILT_IN_ACTIONS.filter((a) => a.simulate === 'dry_run')

  it.each(dryRuns.map((a) => [a.type, a] as const))(
    '%s, declared a dry run, touches nothing on any of its examples and answers in its output shape',
    async (_name, action) => {
      // reading a template is allowed; any write or outside call fails the test
      const refuse = (what: string) => () => {
        throw new Error(`a dry run of ${action.type} called ${what}`)
      }
      const services = {
        templates: { load: async (_store: string, name: string) => ({ name, subject: 'Hello {{ customer.first_name }}', html: '<p>Hi</p>', preheader: null }) },
        customers: { addTags: refuse('customers.addTags'), removeTags: refuse('customers.removeTags') },
        messages: {
          record: refuse('messages.record'),
          lastMarketingSentAt: refuse('messages.lastMarketingSentAt'),
          reserveMarketingSlot: refuse('messages.reserveMarketingSlot'),
          update: refuse('messages.update'),
        },
        events: { emit: refuse('events.emit') },
        // reads that plan a purchase order are allowed; making or marking one is not
        purchasing: {
          suggestedQuantity: async () => 12,
          suppliersFor: async (skus: string[]) =>
            new Map(skus.map((sku) => [sku, { id: 'acme', name: 'Acme', email: 'po@acme.test', lead_time_days: 7, min_order_quantity: 1, skus }])),
          titlesOf: async () => new Map(),
          createOrders: refuse('purchasing.createOrders'),
          markSent: refuse('purchasing.markSent'),
        },
        http: { request: refuse('http.request') },
        config: {
          smtpUrl: 'smtp://127.0.0.1:1',
          allowPrivateHttp: false,
          publicUrl: 'https://shop.example.test',
          secretKey: 'test-secret',
          mailFrom: 'shop@example.test',
        },
      } as unknown as ActionServices
      for (const example of action.examples ?? []) {
        const ctx = actionContext(action.input.parse(example), { services, clock: new ManualClock('2026-06-10T12:00:00Z'), dryRun: true, scope: { steps: {} } })
        const output = await action.run(ctx)
        expect(action.output.safeParse(output).success, JSON.stringify(output)).toBe(true)
      }
    },
  )

  it('defaults from effects, and refuses a declaration simulate could not honour', () => {
    const declaration = { title: 'T', description: 'A test action.', input: z.object({}), output: z.object({}), retry: { safe: true }, run: async () => ({}) }
    expect(defineAction({ ...declaration, type: 'inside', effects: 'internal' }).simulate).toBe('perform')
    expect(defineAction({ ...declaration, type: 'pure', effects: 'none' }).simulate).toBe('perform')
    expect(defineAction({ ...declaration, type: 'outside', effects: 'external' }).simulate).toBe('skip')
    expect(() => defineAction({ ...declaration, type: 'outside', effects: 'external', simulate: 'perform' })).toThrow(/never performs an external action/)
    expect(() => defineAction({ ...declaration, type: 'inside', effects: 'internal', simulate: 'dry_run' })).toThrow(/declare simulate: 'perform'/)
  })
})
