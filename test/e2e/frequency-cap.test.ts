import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseEvent } from '../../src/contracts/events.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * The cap is one marketing message per customer per 16 h across all workflows. Three workflows
 * started by the same event send at the same moment, in the same worker batch: one goes out.
 */
describe.each(DIALECTS)('frequency cap under concurrent sends on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  it('four workflows sending marketing mail and texts at once: one is sent, three are skipped by the cap', async () => {
    for (const name of ['promo-a', 'promo-b', 'promo-c']) {
      await installWorkflow(env.app, `
id: ${name}
name: ${name}
trigger: { event: order.paid }
steps:
  - action: send_email
    with: { subject: '${name}', html: '<p>{{ customer.first_name }}, a treat for you</p>' }
`)
    }
    // the cap is per customer across channels: a marketing text counts too
    await installWorkflow(env.app, `
id: promo-sms
name: promo-sms
trigger: { event: order.paid }
steps:
  - action: send_sms
    with: { body: 'A treat for you, {{ customer.first_name }}' }
`)
    const parsed = parseEvent({ id: 'p1', type: 'order.paid', data: { id: 'o1', currency: 'USD', total_price: '20.00', customer: { id: 'c1', email: 'c1@example.com', phone: '+15550100', first_name: 'Cy', accepts_marketing: true } } }, { store: 'default', now: env.clock.now() })
    if (!parsed.ok) throw new Error('fixture')
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()

    const messages = await env.app.handle.db.selectFrom('messages').select(['subject', 'status', 'error']).orderBy('subject').execute()
    expect(messages.filter((m) => m.status === 'sent')).toHaveLength(1)
    expect(messages.filter((m) => m.status === 'skipped').map((m) => m.error)).toEqual(['frequency_cap', 'frequency_cap', 'frequency_cap'])
    const steps = await env.app.handle.db.selectFrom('run_steps').select(['status', 'output']).execute()
    expect(steps.map((s) => s.status).sort()).toEqual(['completed', 'skipped', 'skipped', 'skipped'])

    // a day later (past the 16 h cap, and outside quiet hours) the next marketing message may go
    env.clock.advance(24 * 3600_000)
    const again = parseEvent({ id: 'p2', type: 'order.paid', data: { id: 'o2', currency: 'USD', total_price: '20.00', customer: { id: 'c1' } } }, { store: 'default', now: env.clock.now() })
    if (!again.ok) throw new Error('fixture')
    await env.app.engine.ingest([again.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
    expect(await env.app.handle.db.selectFrom('messages').select('id').where('status', '=', 'sent').execute()).toHaveLength(2)
  })
})
