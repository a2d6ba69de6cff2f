import { readdirSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { createActionRegistry } from '../src/actions/index.ts'
import { loadSource, type SendEmailInput } from '../src/actions/send-email/index.ts'
import { renderEmail } from '../src/actions/send-email/render.ts'
import { lintMail } from '../src/core/messaging/index.ts'
import { loadTemplates } from '../src/services/template-library.ts'
import { getStore } from '../src/store/storage.ts'
import { createStore, updateSettings } from '../src/store/stores.repo.ts'
import type { ActionContext, ActionStoreInfo } from '../src/plugin-api/index.ts'
import { actionContext, actionEnv, type ActionEnv } from './helpers/action-context.ts'
import { DIALECTS } from './helpers/dialects.ts'

/**
 * Every message the template library can send, rendered as send_email renders it (render.ts, the
 * store's settings read back from the database), in a branded store, for a customer whose name
 * is markup: each carries the store's name, logo and colours, has a plain-text part, prints the
 * customer's text as text, and passes the mail lint. A template added to templates/ is covered
 * the day it lands.
 */
const WORKFLOWS = new URL('../templates/workflows/', import.meta.url)
const MESSAGES = new URL('../templates/messages/', import.meta.url)

const STORE_NAME = "Ada's Linen & Co"
const BRAND = {
  logo_url: 'https://cdn.example.test/brand/logo.png',
  logo_width: 180,
  logo_height: 40,
  primary_color: '#0f766e',
  background_color: '#fef3c7',
  footer_text: 'Ada’s Linen & Co · 1 Harbour Street · Bristol BS1 4DJ',
}
/** a name a customer typed into a shop: markup, an ampersand and quotes */
const NAME = '<b>Ada & "Co"</b>'

const lineItems = [
  { sku: 'LIN-SHIRT-M', title: 'Linen shirt <M>', quantity: 2, price: 39.5, product_id: 'p_1' },
  { sku: 'LIN-TOWEL', title: 'Bath towel "Sea"', quantity: 1, price: 24, product_id: 'p_2' },
]

/** what a trigger carries, across the event types the library listens to (docs/event-types.md) */
function triggerData(): Record<string, unknown> {
  return {
    id: '5001',
    order_id: '5001',
    checkout_id: 'chk_77',
    number: '#5001',
    currency: 'USD',
    total_price: 103,
    subtotal_price: 103,
    line_items: lineItems,
    recovery_url: 'https://linen.example.test/cart/recover/chk_77',
    carrier: 'DHL <Express>',
    tracking_number: 'JD014600006281',
    tracking_url: 'https://track.example.test/JD014600006281',
    estimated_delivery_at: '2026-03-06T12:00:00.000Z',
    delivered_at: '2026-03-05T12:00:00.000Z',
    plan: 'Towel club',
    price: 19,
    interval: 'month',
    next_renewal_at: '2026-03-14T00:00:00.000Z',
    status: 'active',
    amount: 57.25,
    due_at: '2026-02-20T00:00:00.000Z',
    sku: 'LIN-TOWEL',
    available: 3,
    url: 'https://linen.example.test/products/towel',
    message_id: 'msg_1',
    workflow_id: 'win-back',
    segment: { id: 'lapsed', name: 'Lapsed customers' },
    customer: { id: '1001', email: 'ada@example.test', first_name: NAME },
  }
}

/** what an earlier step's output looks like to a template: a code, a number, a link */
const STEP_OUTPUT = {
  code: 'THANKS-7QX2K',
  number: 'INV-0042',
  id: 'out_1',
  url: 'https://linen.example.test/x',
  total: '57.25',
  amount: 57.25,
  status: 'sent',
}

interface EmailStep {
  key: string
  with: Record<string, unknown>
}

function emailSteps(steps: unknown[], into: EmailStep[] = [], ids: string[] = [], path = 'steps'): { emails: EmailStep[]; ids: string[] } {
  steps.forEach((raw, i) => {
    const step = raw as Record<string, unknown>
    const here = `${path}[${i}]`
    if (typeof step.id === 'string') ids.push(step.id)
    if (step.action === 'send_email') into.push({ key: typeof step.id === 'string' ? step.id : here, with: (step.with ?? {}) as Record<string, unknown> })
    for (const branch of ['then', 'else', 'received', 'timed_out', 'steps'] as const) {
      if (Array.isArray(step[branch])) emailSteps(step[branch] as unknown[], into, ids, `${here}.${branch}`)
    }
    const split = step.split as { variants?: Array<{ id: string; steps: unknown[] }> } | undefined
    for (const variant of split?.variants ?? []) emailSteps(variant.steps, into, ids, `${here}.${variant.id}`)
  })
  return { emails: into, ids }
}

interface Case {
  name: string
  trigger: string
  step: EmailStep
  stepIds: string[]
}

const workflowCases: Case[] = readdirSync(WORKFLOWS)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((file) => {
    const workflow = parseYaml(readFileSync(new URL(file, WORKFLOWS), 'utf8')) as { id: string; trigger: { event: string }; steps: unknown[] }
    const { emails, ids } = emailSteps(workflow.steps)
    return emails.map((step) => ({ name: `${workflow.id}:${step.key}`, trigger: workflow.trigger.event, step, stepIds: ids }))
  })

const messageCases: Case[] = readdirSync(MESSAGES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((file) => {
    const name = file.replace(/\.yaml$/, '')
    // a stored template is sent by `send_email { template: NAME }`, both ways
    return (['transactional', 'marketing'] as const).map((category) => ({
      name: `message ${name} (${category})`,
      trigger: name.startsWith('shipping') ? 'order.fulfilled' : 'order.paid',
      step: { key: name, with: { template: name, category } },
      stepIds: [],
    }))
  })

describe.each(DIALECTS)('every template message in a branded store on %s', (dialect) => {
  let env: ActionEnv
  let store: ActionStoreInfo
  /** a store with a logo and nothing else: no footer text to lean on for the text-to-image ratio */
  let logoOnly: ActionStoreInfo

  beforeAll(async () => {
    env = await actionEnv(dialect, { at: '2026-03-02T10:00:00.000Z' })
    const db = env.env.app.handle.db
    await updateSettings(db, 'default', {
      store_name: STORE_NAME,
      shop_url: 'https://linen.example.test/',
      review_url: 'https://linen.example.test/reviews',
      brand: BRAND,
    })
    store = (await getStore(db, 'default'))!
    await createStore(db, { id: 'logo-only', name: 'Lo' }, env.clock.now())
    await updateSettings(db, 'logo-only', { brand: { logo_url: 'https://cdn.example.test/lo.png' } })
    logoOnly = (await getStore(db, 'logo-only'))!
  })
  afterAll(() => env.cleanup())

  it('finds the library: every workflow with mail and every stored message', () => {
    expect(workflowCases.length).toBeGreaterThanOrEqual(25)
    expect(messageCases.length).toBeGreaterThanOrEqual(4)
    // and every workflow file still is one (its messages were edited to pass the lint)
    expect(
      loadTemplates(createActionRegistry())
        .filter((t) => t.problem !== null || t.missingActions.length > 0)
        .map((t) => t.name),
    ).toEqual([])
  })

  it.each([...workflowCases, ...messageCases])('$name', async ({ name, trigger, step, stepIds }) => {
    const input = step.with
    const category = input.category === 'transactional' ? 'transactional' : 'marketing'
    const data = triggerData()
    const customer = {
      first_name: NAME,
      last_name: 'Lovelace <script>alert(1)</script>',
      email: 'ada@example.test',
      orders_count: 3,
      total_spent: 512.4,
      accepts_marketing: true,
    }
    const order = { id: '5001', number: '#5001', name: '#5001', currency: 'USD', total_price: 103, line_items: lineItems, customer_id: '1001' }
    const contextIn = (store: ActionStoreInfo) =>
      actionContext(input, {
        services: env.services,
        clock: env.clock,
        customer,
        store,
        workflowId: name.split(':')[0],
        stepKey: step.key,
        scope: {
          event: { id: 'evt_1', type: trigger, occurred_at: '2026-03-02T10:00:00.000Z', store: 'default', data },
          trigger: { id: 'evt_1', type: trigger, occurred_at: '2026-03-02T10:00:00.000Z', store: 'default', data },
          order,
          cart: { id: 'chk_77', total_price: 103, currency: 'USD', line_items: lineItems, recovery_url: data.recovery_url },
          steps: Object.fromEntries(stepIds.map((id) => [id, STEP_OUTPUT])),
          store: { id: store.id, name: store.name, currency: store.currency, timezone: store.timezone, settings: store.settings },
          now: new Date('2026-03-02T10:00:00.000Z'),
        },
      })
    const ctx = contextIn(store)
    const source = await loadSource(ctx as ActionContext<SendEmailInput>)
    const mail = await renderEmail(ctx, source, { category, vars: input.vars as Record<string, unknown> | undefined })

    // the store's look: name, logo (alt text the name, with its size), colours, footer
    expect(mail.html).toContain('<img src="https://cdn.example.test/brand/logo.png" alt="Ada&#39;s Linen &amp; Co" width="180" height="40"')
    expect(mail.html).toContain('<a href="https://linen.example.test/"')
    expect(mail.html).toContain('background-color:#0f766e;')
    expect(mail.html).toContain('background-color:#fef3c7;')
    expect(mail.html).toContain('<p style="margin:0;">Ada&#39;s Linen &amp; Co</p>')
    expect(mail.html).toContain('Ada’s Linen &amp; Co · 1 Harbour Street')
    // a plain-text part that starts with the name where the logo is and says what the mail says
    expect(mail.text.split('\n')[0]).toBe(`${STORE_NAME} [https://linen.example.test/]`)
    expect(mail.text).toContain('1 Harbour Street')
    expect(mail.text).not.toContain('logo.png')
    // the customer's text is text: never markup in the HTML
    expect(mail.html).not.toMatch(/<b>Ada|"Co"<\/b>|<script>|<M>/)
    if (/customer\.first_name/.test(source.html)) expect(mail.html).toContain('&lt;b&gt;Ada &amp;')
    expect(mail.text).not.toContain('&lt;')
    // and the lint has nothing to say
    expect(lintMail({ subject: mail.subject, html: mail.html, text: mail.text, category, headers: mail.headers })).toEqual([])
    if (category === 'marketing') expect(mail.unsubscribeUrl).toBeTruthy()

    // with only a logo, the message's own words still outweigh it
    const plain = await renderEmail(contextIn(logoOnly), source, { category, vars: input.vars as Record<string, unknown> | undefined })
    expect(plain.html).toContain('<img src="https://cdn.example.test/lo.png" alt="Lo" width="160" height="48"')
    expect(lintMail({ subject: plain.subject, html: plain.html, text: plain.text, category, headers: plain.headers })).toEqual([])
  })
})
