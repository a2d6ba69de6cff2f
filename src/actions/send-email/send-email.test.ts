import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verifyClickToken, verifyUnsubscribeToken } from '../../core/messaging/index.ts'
import { DeferStep, PermanentError, RetryableError, SkipStep } from '../../plugin-api/index.ts'
import { saveMessageTemplate } from '../../store/templates.repo.ts'
import { actionContext, actionEnv, type ActionEnv } from '../../../test/helpers/action-context.ts'
import { DIALECTS } from '../../../test/helpers/dialects.ts'
import { rawHeader, startSmtpSink, type SmtpSink } from '../../../test/helpers/smtp-sink.ts'
import { closeSmtpTransports, sendEmail, type SendEmailInput } from './index.ts'

/** A real SMTP server on 127.0.0.1 that can be told to refuse the next messages. */
let smtp: SmtpSink
let received: SmtpSink['received']

beforeAll(async () => {
  smtp = await startSmtpSink()
  received = smtp.received
})

afterAll(async () => {
  closeSmtpTransports()
  await smtp.close()
})

beforeEach(() => {
  received.length = 0
})

const SECRET = 'test-secret-key-0123456789'
const DAYTIME = '2026-06-10T12:00:00Z'

const cartEmail: SendEmailInput = {
  subject: 'Still thinking about it, {{ customer.first_name }}?',
  html: '<p>Hi {{ customer.first_name }}, your cart of {{ cart.total_price | money }} is waiting.</p><p><a href="{{ cart.recovery_url }}">Back to your cart</a> or <a href="mailto:help@shop.test">write to us</a>.</p>',
  preheader: 'Your cart is saved',
  category: 'marketing',
}
const cartScope = { cart: { total_price: '129.5', recovery_url: 'https://shop.test/cart/abc?utm=x&y=1' } }

describe.each(DIALECTS)('send_email on the %s outbox', (dialect) => {
  let a: ActionEnv | undefined
  afterEach(async () => {
    await a?.cleanup()
    a = undefined
  })
  const outbox = () => a!.outbox()

  /** the action's services over a fresh database, with or without SMTP */
  async function setup(config: { smtp?: boolean; smtpUrl?: string } = { smtp: true }): Promise<{ services: ActionEnv['services']; clock: ActionEnv['clock'] }> {
    a = await actionEnv(dialect, { at: DAYTIME, config: { smtpUrl: config.smtpUrl ?? (config.smtp === false ? undefined : smtp.url) } })
    return { services: a.services, clock: a.clock }
  }

  describe('send_email over SMTP', () => {
    it('delivers a marketing mail with rendered Liquid, both parts, tracked links and one-click unsubscribe', async () => {
      const { services, clock } = await setup()
      const ctx = actionContext(cartEmail, { services, clock, scope: cartScope })
      const out = await sendEmail.run(ctx)
      expect(out).toMatchObject({ status: 'sent', delivery: 'smtp', to: 'ada@example.test', already_sent: false, possible_duplicate: false })
      expect(received).toHaveLength(1)
      const mail = received[0]!
      expect(mail.subject).toBe('Still thinking about it, Ada?')
      expect(mail.messageId).toBe(out.smtp_message_id)
      expect(mail.messageId).toMatch(/^<[0-9a-f]{64}@shop\.example\.test>$/)
      const html = String(mail.html)
      expect(html).toContain('your cart of $129.50 is waiting')
      expect(html).toContain('Your cart is saved') // preheader
      expect(mail.text).toContain('Hi Ada, your cart of $129.50 is waiting.')
      expect(mail.text).not.toContain('Your cart is saved')

      // links: the cart link goes through a signed click URL that leads back to the original
      const clickHrefs = [...html.matchAll(/href="(https:\/\/shop\.example\.test\/t\/c\/[^"]+)"/g)].map((m) => m[1]!)
      expect(clickHrefs).toHaveLength(1)
      const click = verifyClickToken(SECRET, clickHrefs[0]!.split('/t/c/')[1]!)
      expect(click).toEqual({ kind: 'click', messageId: out.message_id, url: 'https://shop.test/cart/abc?utm=x&y=1' })
      expect(html).toContain('href="mailto:help@shop.test"')
      expect(html).toMatch(/<img src="https:\/\/shop\.example\.test\/t\/o\/[^"]+"/)

      // unsubscribe: header, one-click header and a visible link, all to the same signed /u/ URL
      const unsubUrl = /^List-Unsubscribe:\s*<([^>]+)>$/i.exec(rawHeader(mail, 'list-unsubscribe') ?? '')?.[1] ?? ''
      expect(unsubUrl).toMatch(/^https:\/\/shop\.example\.test\/u\//)
      // the link names its message too (by its idempotency key): insight counts unsubscribes per step
      expect(verifyUnsubscribeToken(SECRET, unsubUrl.split('/u/')[1]!)).toEqual({
        kind: 'unsubscribe',
        storeId: 'default',
        customerKey: 'cus_1',
        messageKey: 'run_1:step_1',
      })
      expect(rawHeader(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
      expect(html).toContain(`href="${unsubUrl}"`)
      expect(html).toMatch(/>Unsubscribe<\/a>/)

      // the outbox keeps the clean HTML (no tracking) and says sent
      const row = (await outbox())[0]!
      expect(row).toMatchObject({ status: 'sent', channel: 'email', category: 'marketing', runId: 'run_1', stepKey: 'step_1', messageId: mail.messageId })
      expect(row.html).not.toContain('/t/c/')
      // the value is escaped into the attribute as HTML requires (& as &amp;); the click above led to the URL itself
      expect(row.html).toContain('href="https://shop.test/cart/abc?utm=x&amp;y=1"')
    })

    it('sends transactional mail without unsubscribe headers or link, even without consent and at night', async () => {
      const { services, clock } = await setup()
      clock.set('2026-06-10T23:30:00Z')
      const ctx = actionContext(
        { subject: 'Order {{ order.name }} confirmed', html: '<p>Total {{ order.total_price | money }}</p>', category: 'transactional' as const },
        { services, clock, customer: { accepts_marketing: false }, scope: { order: { name: '#1001', total_price: 450 } } },
      )
      await sendEmail.run(ctx)
      expect(received).toHaveLength(1)
      const mail = received[0]!
      expect(mail.subject).toBe('Order #1001 confirmed')
      expect(String(mail.html)).toContain('Total $450.00')
      expect(rawHeader(mail, 'list-unsubscribe')).toBeUndefined()
      expect(rawHeader(mail, 'list-unsubscribe-post')).toBeUndefined()
      expect(String(mail.html)).not.toContain('Unsubscribe')
    })

    it('retries after 451 twice and delivers exactly one message', async () => {
      const { services, clock } = await setup()
      smtp.refuse({ code: 451, message: 'Greylisted, try again later' }, { code: 451, message: 'Greylisted, try again later' })
      const errors: unknown[] = []
      let out: Awaited<ReturnType<typeof sendEmail.run>> | undefined
      // the engine runs the same step again after each retryable failure
      for (let attempt = 1; attempt <= 5 && !out; attempt++) {
        const ctx = actionContext(cartEmail, { services, clock, scope: cartScope, attempt })
        try {
          out = await sendEmail.run(ctx)
        } catch (err) {
          errors.push(err)
          clock.advance(60_000)
        }
      }
      expect(errors).toHaveLength(2)
      for (const err of errors) {
        expect(err).toBeInstanceOf(RetryableError)
        expect((err as Error).message).toContain('451')
      }
      expect(out).toMatchObject({ status: 'sent', possible_duplicate: false })
      expect(received).toHaveLength(1)
      expect(await outbox()).toHaveLength(1)
      expect((await outbox())[0]!.status).toBe('sent')

      // and a further run of the same step sends nothing
      const again = await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope, attempt: 4 }))
      expect(again).toMatchObject({ already_sent: true, message_id: out!.message_id })
      expect(received).toHaveLength(1)
    })

    it('fails permanently on 5xx with the server reply', async () => {
      const { services, clock } = await setup()
      smtp.refuse({ code: 554, message: 'Mailbox does not exist' })
      const err = await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope })).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PermanentError)
      expect((err as Error).message).toMatch(/554.*Mailbox does not exist/)
      expect((await outbox())[0]).toMatchObject({ status: 'failed' })
      expect((await outbox())[0]!.error).toContain('Mailbox does not exist')
      expect(received).toHaveLength(0)
    })

    it('resends with the same Message-ID and says so after a crash in the sending window', async () => {
      const { services, clock } = await setup()
      const ctx = actionContext(cartEmail, { services, clock, scope: cartScope })
      // a previous attempt recorded the message and marked it sending, then the process died
      await services.messages.record({
        idempotencyKey: ctx.idempotencyKey,
        runId: 'run_1',
        stepKey: 'step_1',
        workflowId: 'wf_1',
        customerKey: 'cus_1',
        channel: 'email',
        category: 'marketing',
        to: 'ada@example.test',
        status: 'sending',
      })
      const out = await sendEmail.run(ctx)
      expect(out.possible_duplicate).toBe(true)
      expect(received).toHaveLength(1)
      expect(received[0]!.messageId).toBe(out.smtp_message_id)
      expect((await outbox())[0]!.status).toBe('sent')
    })

    it('is unreachable SMTP → retryable', async () => {
      const { services, clock } = await setup({ smtpUrl: 'smtp://127.0.0.1:1' })
      const err = await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope })).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RetryableError)
    })
  })

  describe('send_email guardrails', () => {
    it('skips marketing without consent, recording why', async () => {
      const { services, clock } = await setup()
      const err = await sendEmail
        .run(actionContext(cartEmail, { services, clock, scope: cartScope, customer: { accepts_marketing: false } }))
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SkipStep)
      expect((err as SkipStep).reason).toBe('no_consent')
      expect((await outbox())[0]).toMatchObject({ status: 'skipped', error: 'no_consent' })
      const unsubscribed = await sendEmail
        .run(actionContext(cartEmail, { services, clock, scope: cartScope, runId: 'run_2', customer: { unsubscribed_at: '2026-01-01T00:00:00Z' } }))
        .catch((e: unknown) => e)
      expect((unsubscribed as SkipStep).reason).toBe('no_consent')
      expect(received).toHaveLength(0)
    })

    it('caps marketing across workflows, not transactional', async () => {
      const { services, clock } = await setup({ smtp: false })
      await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope, runId: 'run_a', workflowId: 'wf_a' }))
      clock.advance(2 * 3_600_000)
      const capped = await sendEmail
        .run(actionContext(cartEmail, { services, clock, scope: cartScope, runId: 'run_b', workflowId: 'wf_b' }))
        .catch((e: unknown) => e)
      expect(capped).toBeInstanceOf(SkipStep)
      expect((capped as SkipStep).reason).toBe('frequency_cap')
      expect((capped as SkipStep).output).toMatchObject({ until: '2026-06-11T04:00:00.000Z' })
      const tx = await sendEmail.run(actionContext({ ...cartEmail, category: 'transactional' as const }, { services, clock, scope: cartScope, runId: 'run_c' }))
      expect(tx.status).toBe('sent')
      clock.set('2026-06-11T09:00:00Z')
      const later = await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope, runId: 'run_d', workflowId: 'wf_b' }))
      expect(later.status).toBe('sent')
    })

    it("defers marketing during the customer's quiet hours, then sends when woken", async () => {
      const { services, clock } = await setup()
      clock.set('2026-06-11T02:00:00Z') // 22:00 in New York
      const customer = { timezone: 'America/New_York' }
      const err = await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope, customer })).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DeferStep)
      expect((err as DeferStep).until.toISOString()).toBe('2026-06-11T12:00:00.000Z')
      expect((await outbox())[0]!.status).toBe('deferred')
      expect(received).toHaveLength(0)
      clock.set((err as DeferStep).until)
      const out = await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope, customer, attempt: 2 }))
      expect(out.status).toBe('sent')
      expect(received).toHaveLength(1)
    })
  })

  describe('send_email without SMTP, templates and dry runs', () => {
    it('keeps the message in the outbox with status sent', async () => {
      const { services, clock } = await setup({ smtp: false })
      const out = await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope }))
      expect(out).toMatchObject({ status: 'sent', delivery: 'outbox' })
      expect((await outbox())[0]).toMatchObject({ status: 'sent', subject: 'Still thinking about it, Ada?', sentAt: DAYTIME.replace('Z', '.000Z') })
      expect((await outbox())[0]!.text).toContain('Back to your cart')
    })

    it('loads a stored template and renders vars into it', async () => {
      const { services, clock } = await setup({ smtp: false })
      await saveMessageTemplate(
        a!.env.app.handle.db,
        'default',
        'abandoned-checkout-2',
        { subject: 'Here is {{ code }}', html: '<p>Use {{ vars.code }} at checkout.</p>' },
        clock.now(),
      )
      const input = { template: 'abandoned-checkout-2', category: 'marketing' as const, vars: { code: '{{ steps.code.code }}' } }
      await sendEmail.run(actionContext(input, { services, clock, scope: { steps: { code: { code: 'SAVE10' } } } }))
      expect((await outbox())[0]).toMatchObject({ subject: 'Here is SAVE10' })
      expect((await outbox())[0]!.html).toContain('Use SAVE10 at checkout.')
      const missing = await sendEmail
        .run(actionContext({ template: 'nope', category: 'marketing' as const }, { services, clock, runId: 'r2' }))
        .catch((e: unknown) => e)
      expect(missing).toBeInstanceOf(PermanentError)
      expect((missing as PermanentError).reason).toBe('template_not_found')
    })

    it('reports a Liquid error as a permanent failure naming the line', async () => {
      const { services, clock } = await setup({ smtp: false })
      const err = await sendEmail
        .run(actionContext({ subject: 's', html: '<p>\n{% if x %}', category: 'transactional' as const }, { services, clock }))
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PermanentError)
      expect((err as Error).message).toMatch(/line 2/)
      expect(await outbox()).toHaveLength(0)
    })

    it('renders only in a dry run', async () => {
      const { services, clock } = await setup()
      const out = await sendEmail.run(actionContext(cartEmail, { services, clock, scope: cartScope, dryRun: true }))
      expect(out).toMatchObject({ status: 'rendered', delivery: 'none', message_id: null, subject: 'Still thinking about it, Ada?' })
      expect(out.html).toContain('$129.50')
      expect(await outbox()).toHaveLength(0)
      expect(received).toHaveLength(0)
    })

    it('validates its input and examples', () => {
      for (const example of sendEmail.examples ?? []) expect(sendEmail.input.safeParse(example).success).toBe(true)
      expect(sendEmail.input.safeParse({ subject: 'only a subject' }).success).toBe(false)
      expect(sendEmail.input.parse({ template: 't' })).toMatchObject({ category: 'marketing' })
    })
  })
})
