import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../../test/helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../../../test/helpers/smtp-sink.ts'
import { event, installWorkflow } from '../../../test/helpers/workflows.ts'
import { parseEvent } from '../../contracts/events.ts'
import { Scheduler } from '../../engine/scheduler.ts'
import { buildServer } from '../../http/server.ts'
import { silentLogger } from '../../lib/logger.ts'
import { createKey, createStore } from '../../store/stores.repo.ts'

/**
 * create_invoice end to end: a subscription's renewal notice makes an invoice, numbered per
 * store, mailed as HTML (counted at a real SMTP server); invoice.paid pays it; an unpaid one falls
 * overdue once, and the reminder workflow stops the moment it is paid.
 */
const RENEWAL_INVOICE = `
id: renewal-invoice
name: Renewal invoice
trigger: { event: subscription.renewal_due }
steps:
  - id: invoice
    action: create_invoice
    with: { due_in: 10d }
  - action: send_email
    with:
      category: transactional
      subject: 'Invoice {{ steps.invoice.number }}: {{ steps.invoice.total }} {{ steps.invoice.currency }}'
      html: '<p>Hello {{ customer.first_name }},</p>{{ steps.invoice.html | raw }}'
`

const OVERDUE_REMINDERS = `
id: overdue-reminders
name: Overdue reminders
trigger: { event: invoice.overdue }
exit_when:
  - event: invoice.paid
    match: 'event.data.invoice_id == trigger.data.id'
steps:
  - action: send_email
    with:
      category: transactional
      subject: 'Reminder: invoice {{ trigger.data.number }} is overdue'
      html: '<p>Please pay invoice {{ trigger.data.number }}.</p>'
  - wait: 7d
  - action: send_email
    with:
      category: transactional
      subject: 'Second reminder: invoice {{ trigger.data.number }}'
      html: '<p>Please pay invoice {{ trigger.data.number }}.</p>'
`

describe.each(DIALECTS)('create_invoice on %s', (dialect) => {
  let smtp: SmtpSink
  let env: TestEnv
  let scheduler: Scheduler
  beforeAll(async () => {
    smtp = await startSmtpSink()
  })
  afterAll(async () => {
    await smtp.close()
  })
  beforeEach(async () => {
    smtp.received.length = 0
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url } })
    scheduler = new Scheduler(env.app.engine, silentLogger, { everyMs: 0 })
    await scheduler.pass()
  })
  afterEach(async () => {
    await env.cleanup()
  })

  const send = async (raw: ReturnType<typeof event>, store = 'default') => {
    const parsed = parseEvent({ ...raw, store }, { store, now: env.clock.now() })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
  }
  const at = async (iso: string) => {
    env.clock.set(iso)
    await scheduler.pass()
    await env.app.engine.drain()
  }
  const subscription = (id: string, customer: string, plan = 'Coffee <b>club</b>') =>
    event('subscription.created', `sub-${id}`, {
      id,
      customer: { id: customer, email: `${customer}@example.com`, first_name: 'Ada' },
      plan,
      price: '19.00',
      interval: 'month',
      next_renewal_at: '2026-03-20T00:00:00Z',
      status: 'active',
    })
  const api = async (url: string, store = 'default') => {
    const { key } = await createKey(env.app.handle.db, store, 'read', env.clock.now())
    const server = await buildServer(env.app)
    try {
      return await server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
    } finally {
      await server.close()
    }
  }

  it('bills the renewing subscription, numbered in sequence, and mails it as HTML with the plan name escaped', async () => {
    await installWorkflow(env.app, RENEWAL_INVOICE)
    await send(subscription('s1', 'u1'))
    await send(subscription('s2', 'u2'))
    await at('2026-03-13T00:15:00Z')
    const mails = await smtp.waitForMessages(2)
    const subjects = mails.map((m) => m.subject).sort()
    expect(subjects).toEqual(['Invoice INV-000001: 19.00 USD', 'Invoice INV-000002: 19.00 USD'])
    const html = String(mails[0]!.html)
    expect(html).toContain('Coffee &lt;b&gt;club&lt;/b&gt; (month)')
    expect(html).not.toContain('<b>club</b>')
    expect(html).toMatch(/due 2026-03-23/)

    const listed = await api('/api/v1/invoices')
    expect(listed.statusCode).toBe(200)
    const items = listed.json().items as Array<{ number: string; status: string; total: number; reference: string; lines: unknown[] }>
    expect(items.map((i) => [i.number, i.status, i.total]).sort()).toEqual([
      ['INV-000001', 'open', 19],
      ['INV-000002', 'open', 19],
    ])
    expect(items.map((i) => i.reference).sort()).toEqual(['subscription:s1', 'subscription:s2'])
    expect((await api('/api/v1/invoices?status=unknown')).json()).toMatchObject({ error: { details: { field: 'status' } } })
    expect((await api('/api/v1/invoices/INV-000001')).json()).toMatchObject({ number: 'INV-000001', currency: 'USD' })
  })

  it('numbers per store, and a store sees only its own invoices', async () => {
    await createStore(env.app.handle.db, { id: 'b', name: 'B' }, env.clock.now())
    await scheduler.pass()
    await installWorkflow(env.app, RENEWAL_INVOICE)
    await installWorkflow(env.app, RENEWAL_INVOICE, { store: 'b' })
    await send(subscription('s1', 'u1'))
    await send(subscription('s9', 'u9'), 'b')
    await at('2026-03-13T00:15:00Z')
    const a = (await api('/api/v1/invoices')).json().items as Array<{ number: string; reference: string }>
    const b = (await api('/api/v1/invoices', 'b')).json().items as Array<{ number: string; reference: string }>
    expect(a.map((i) => [i.number, i.reference])).toEqual([['INV-000001', 'subscription:s1']])
    expect(b.map((i) => [i.number, i.reference])).toEqual([['INV-000001', 'subscription:s9']])
    const id = (await api('/api/v1/invoices')).json().items[0].id as string
    expect((await api(`/api/v1/invoices/${id}`, 'b')).statusCode).toBe(404)
  })

  it('payments add up: a partial payment leaves the invoice open (and overdue on its day), the rest pays it', async () => {
    await installWorkflow(env.app, RENEWAL_INVOICE)
    await send(subscription('s1', 'u1'))
    await at('2026-03-13T00:15:00Z')
    await smtp.waitForMessages(1)
    await send(event('invoice.paid', 'part-1', { number: 'INV-000001', amount: '0.01' }, '2026-03-14T09:00:00Z'))
    expect((await api('/api/v1/invoices/INV-000001')).json()).toMatchObject({ status: 'open', amount_paid: 0.01, paid_at: null })
    await at('2026-03-23T00:20:00Z')
    expect(await env.app.handle.db.selectFrom('events').select('id').where('type', '=', 'invoice.overdue').execute()).toHaveLength(1)
    await send(event('invoice.paid', 'part-2', { number: 'INV-000001', amount: '18.99' }, '2026-03-24T09:00:00Z'))
    expect((await api('/api/v1/invoices/INV-000001')).json()).toMatchObject({ status: 'paid', amount_paid: 19, paid_at: '2026-03-24T09:00:00.000Z' })
  })

  it('an unpaid invoice falls overdue once and is reminded until paid; a paid one is not', async () => {
    await installWorkflow(env.app, RENEWAL_INVOICE)
    await installWorkflow(env.app, OVERDUE_REMINDERS)
    await send(subscription('s1', 'u1'))
    await send(subscription('s2', 'u2'))
    await at('2026-03-13T00:15:00Z')
    await smtp.waitForMessages(2)
    const items = (await api('/api/v1/invoices')).json().items as Array<{ id: string; number: string; reference: string }>
    const paid = items.find((i) => i.reference === 'subscription:s2')!
    const unpaid = items.find((i) => i.reference === 'subscription:s1')!
    await send(event('invoice.paid', 'pay-1', { number: paid.number, amount: '19.00' }, '2026-03-15T09:00:00Z'))
    expect((await api(`/api/v1/invoices/${paid.id}`)).json()).toMatchObject({ status: 'paid', paid_at: '2026-03-15T09:00:00.000Z' })

    // due on the 23rd
    await at('2026-03-23T00:20:00Z')
    await at('2026-03-24T00:20:00Z')
    const overdue = await env.app.handle.db.selectFrom('events').select(['id']).where('type', '=', 'invoice.overdue').execute()
    expect(overdue.map((e) => e.id)).toEqual([`invoice.overdue:${unpaid.id}`])
    await smtp.waitForMessages(3)
    expect(smtp.received.map((m) => m.subject)).toContain(`Reminder: invoice ${unpaid.number} is overdue`)

    // paid before the second reminder: the run ends, no second reminder
    await send(event('invoice.paid', 'pay-2', { invoice_id: unpaid.id, customer: { id: 'u1', email: 'u1@example.com' } }, '2026-03-26T09:00:00Z'))
    await at('2026-04-01T00:00:00Z')
    await at('2026-04-05T00:00:00Z')
    expect(smtp.received.filter((m) => m.subject?.startsWith('Second reminder'))).toEqual([])
    const run = await env.app.handle.db.selectFrom('runs').select(['status']).where('workflow_id', '=', 'overdue-reminders').executeTakeFirstOrThrow()
    expect(run.status).toBe('exited')
  })
  it('a payment naming only its invoice (no customer) is the invoice customer’s: it ends their reminders', async () => {
    await installWorkflow(env.app, RENEWAL_INVOICE)
    await installWorkflow(env.app, OVERDUE_REMINDERS)
    await send(subscription('s1', 'u1'))
    await at('2026-03-13T00:15:00Z')
    await at('2026-03-24T00:20:00Z')
    await smtp.waitForMessages(2)
    const [invoice] = (await api('/api/v1/invoices')).json().items as Array<{ id: string }>
    await send(event('invoice.paid', 'pay-only-id', { invoice_id: invoice!.id }, '2026-03-26T09:00:00Z'))
    const paid = await env.app.handle.db.selectFrom('events').select(['customer_key']).where('id', '=', 'pay-only-id').executeTakeFirstOrThrow()
    const customer = await env.app.handle.db.selectFrom('customers').select(['key']).where('external_id', '=', 'u1').executeTakeFirstOrThrow()
    expect(paid.customer_key).toBe(customer.key)
    await at('2026-04-05T00:00:00Z')
    expect(smtp.received.filter((m) => m.subject?.startsWith('Second reminder'))).toEqual([])
    const run = await env.app.handle.db.selectFrom('runs').select(['status']).where('workflow_id', '=', 'overdue-reminders').executeTakeFirstOrThrow()
    expect(run.status).toBe('exited')
  })
})
