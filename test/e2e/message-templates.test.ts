import { readdirSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseEvent } from '../../src/contracts/events.ts'
import { compileTemplate } from '../../src/core/templates/index.ts'
import { builtInTemplate } from '../../src/store/templates.repo.ts'
import { createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { installWorkflow } from '../helpers/workflows.ts'

const BUILT_IN = readdirSync(new URL('../../templates/messages/', import.meta.url))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))

describe('message templates: built-in files, overridden by the store', () => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv('sqlite')
  })
  afterEach(async () => {
    await env.cleanup()
  })

  it.each(BUILT_IN)('built-in %s parses as Liquid', (name) => {
    const template = builtInTemplate(name)!
    for (const source of [template.subject, template.html, template.preheader ?? '']) expect(() => compileTemplate(source, name)).not.toThrow()
  })

  const paid = async (id: string) => {
    const parsed = parseEvent(
      {
        id,
        type: 'order.paid',
        data: {
          id: `o-${id}`,
          number: `#${id}`,
          currency: 'EUR',
          total_price: '42.50',
          line_items: [{ sku: 'MUG', title: 'Mug', quantity: 2, price: '21.25' }],
          customer: { id: `c-${id}`, email: `${id}@example.com`, first_name: 'Ada' },
        },
      },
      { store: 'default', now: env.clock.now() },
    )
    if (!parsed.ok) throw new Error('fixture')
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
  }

  it("send_email { template } renders the built-in file, and the store's own template replaces it", async () => {
    await installWorkflow(
      env.app,
      `
id: confirm
name: Confirm
trigger: { event: order.paid }
steps:
  - action: send_email
    with: { template: order-confirmation, category: transactional }
`,
    )
    await paid('1001')
    let [message] = await env.app.handle.db.selectFrom('messages').selectAll().execute()
    expect(message!.subject).toBe('Order #1001 confirmed')
    expect(message!.html).toContain('2 × Mug')
    expect(message!.text).toContain('THANK YOU, ADA!')
    expect(message!.text).toContain('€42.50')

    const { saveMessageTemplate } = await import('../../src/store/templates.repo.ts')
    await saveMessageTemplate(
      env.app.handle.db,
      'default',
      'order-confirmation',
      { subject: 'Got it: {{ order.number }}', html: '<p>Ours</p>' },
      env.clock.now(),
    )
    await paid('1002')
    ;[message] = await env.app.handle.db.selectFrom('messages').selectAll().where('to_addr', '=', '1002@example.com').execute()
    expect(message!.subject).toBe('Got it: #1002')
  })
})
