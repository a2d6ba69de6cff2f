import { z } from 'zod'
import { applyTracking } from '../../core/messaging/index.ts'
import { PermanentError, RetryableError, SkipStep, defineAction, type ActionContext, type ActionDefinition } from '../../plugin-api/index.ts'
import { LIQUID_MARK, renderMaybe, sendOnce, withTemplateErrors, type Transport } from '../messaging/index.ts'
import { renderEmail, type EmailSource, type RenderedEmail } from './render.ts'
import { RECIPIENT_RULE, isOneRecipient } from './recipient.ts'
import { sendSmtp, serverRefused, type SmtpResult } from './smtp.ts'
import type { EmailTemplateLoader, MessagingTemplateServices } from './template-source.ts'

export type { EmailTemplateLoader, StoredEmailTemplate, MessagingTemplateServices } from './template-source.ts'
export { closeSmtpTransports } from './smtp.ts'

const sendEmailInput = z
  .object({
    template: z.string().min(1).optional().describe('Name of a stored template (subject, HTML, preheader); instead of inline subject and html'),
    subject: z.string().min(1).optional().describe('Subject line, Liquid; required with html when no template is named'),
    html: z
      .string()
      .min(1)
      .optional()
      .describe(
        'HTML body, Liquid; every {{ value }} is HTML-escaped, `{{ vars.banner | raw }}` prints HTML the store wrote as it is; wrapped in the responsive layout unless it is a whole document; `recommendations` is the customer\'s "bought together" list (up to 4 `{ sku, product_id, title, score }`, best first, as GET /api/v1/customers/:id/recommendations), loaded when the template mentions it: `{% for r in recommendations %}{{ r.title }}{% endfor %}`',
      ),
    preheader: z.string().optional().describe("Hidden preview text shown after the subject in inbox lists, Liquid; overrides the template's"),
    to: z
      .string()
      .min(3)
      // a literal is checked when the workflow is saved; Liquid is checked once rendered, before sending
      .refine((to) => LIQUID_MARK.test(to) || isOneRecipient(to.trim()), { message: RECIPIENT_RULE })
      .optional()
      .describe("One recipient, `ada@example.com` or `Ada <ada@example.com>`, Liquid; default: the customer's email"),
    category: z
      .enum(['transactional', 'marketing'])
      .default('marketing')
      .describe('marketing (default): consent, frequency cap and quiet hours apply, with unsubscribe link and headers; transactional: always sent'),
    vars: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Extra values for the template, merged into its scope; string values may be Liquid, rendered as text and escaped where the body prints them'),
    from: z.string().optional().describe('Sender, e.g. "Shop <hello@shop.example>"; default: the store\'s mail_from setting, else STOREFLOW_MAIL_FROM'),
    reply_to: z.string().optional().describe("Reply-To address; default: the store's mail_reply_to setting, else none"),
  })
  .refine((v) => v.template !== undefined || (v.subject !== undefined && v.html !== undefined), {
    message: 'send_email needs a template, or both subject and html',
  })

export type SendEmailInput = z.infer<typeof sendEmailInput>

const sendEmailOutput = z.object({
  message_id: z.string().nullable().describe('The outbox message id; null in a dry run'),
  status: z.enum(['sent', 'rendered']).describe('sent: handed to SMTP or kept in the outbox; rendered: dry run, nothing sent'),
  delivery: z.enum(['smtp', 'outbox', 'none']).describe('smtp: accepted by the SMTP server; outbox: no SMTP_URL, kept in the built-in outbox; none: dry run'),
  to: z.string(),
  subject: z.string(),
  html: z.string().optional().describe('The rendered HTML; in dry runs only, to keep timelines small'),
  text: z.string().optional().describe('The plain-text part; in dry runs only'),
  smtp_message_id: z.string().describe('The Message-ID header; the same on every attempt of this step'),
  smtp_response: z.string().nullable().describe("The SMTP server's reply, when sent over SMTP"),
  already_sent: z.boolean().describe('A previous attempt of this step already sent it; nothing was sent this time'),
  possible_duplicate: z.boolean().describe('A previous attempt crashed after handing the message to SMTP, so it was sent again with the same Message-ID'),
})

export type SendEmailOutput = z.infer<typeof sendEmailOutput>

export interface SendEmailDeps {
  /** loads stored templates; default: ctx.services.templates */
  templates?: EmailTemplateLoader
}

/**
 * Renders the email and hands it to sendOnce (exactly once, or `possible_duplicate: true` with
 * the same Message-ID after a crash); SMTP is its transport, the outbox when there is no SMTP_URL.
 */
export function createSendEmailAction(deps: SendEmailDeps = {}): ActionDefinition<SendEmailInput, SendEmailOutput> {
  return defineAction({
    type: 'send_email',
    rawFields: ['subject', 'html', 'preheader', 'to', 'vars'],
    title: 'Send email',
    description:
      'Sends an email rendered from a Liquid template in the responsive layout, with a plain-text part, open and click tracking, and one-click unsubscribe on marketing mail. Marketing mail respects consent, the frequency cap and quiet hours. Without SMTP_URL the message stays in the built-in outbox.',
    input: sendEmailInput as z.ZodType<SendEmailInput>,
    output: sendEmailOutput,
    effects: 'external',
    // a dry run renders the email and applies consent and quiet hours; nothing is recorded or sent
    simulate: 'dry_run',
    retry: { safe: true, maxAttempts: 8, baseDelayMs: 30_000 },
    examples: [
      { template: 'abandoned-checkout-1', category: 'marketing' },
      {
        subject: 'Your order {{ order.name }} is confirmed',
        html: '<p>Hi {{ customer.first_name }}, thanks for your order of {{ order.total_price | money }}.</p>',
        category: 'transactional',
      },
      { template: 'abandoned-checkout-2', category: 'marketing', vars: { code: '{{ steps.code.code }}' } },
    ],
    run: (ctx) => runSendEmail(ctx, deps),
  })
}

export const sendEmail = createSendEmailAction()

async function runSendEmail(ctx: ActionContext<SendEmailInput>, deps: SendEmailDeps): Promise<SendEmailOutput> {
  const { input, services } = ctx
  const category = input.category
  const source = await loadSource(ctx, deps)
  const settings = ctx.store.settings
  const to = input.to ? (await withTemplateErrors(() => renderMaybe(input.to!, `${source.name} to`, ctx.scope))).trim() : (ctx.customer?.email ?? '')
  if (!to) throw new SkipStep('no_recipient', { reason: 'the customer has no email address and the step names no `to`' })
  if (!isOneRecipient(to)) {
    throw new PermanentError(`send_email: to: ${JSON.stringify(to)} ${RECIPIENT_RULE}`, { reason: 'invalid_recipient', details: { field: 'to' } })
  }
  const from = input.from ?? stringSetting(settings, 'mail_from') ?? services.config.mailFrom
  const replyTo = input.reply_to ?? stringSetting(settings, 'mail_reply_to')
  const rendered = await withTemplateErrors(() => renderEmail(ctx, source, { category, vars: input.vars }))
  const smtpUrl = services.config.smtpUrl

  const outcome = await sendOnce(ctx, {
    channel: 'email',
    category,
    guardrails: true,
    prepare: () => ({
      content: { to, from, subject: rendered.subject, html: rendered.html, text: rendered.text, headers: rendered.headers, messageId: rendered.messageId },
      transport: smtpUrl ? smtpDelivery(ctx, smtpUrl, replyTo) : null,
    }),
    log: { sent: 'email sent', keptInOutbox: 'email kept in outbox (no SMTP_URL)' },
  })
  if (outcome.kind === 'dry_run') {
    return {
      message_id: null,
      status: 'rendered',
      delivery: 'none',
      to,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      smtp_message_id: rendered.messageId,
      smtp_response: null,
      already_sent: false,
      possible_duplicate: false,
    }
  }
  const { row, message } = outcome
  const base = { message_id: row.id, to: message.to, subject: message.subject, smtp_message_id: message.messageId, status: 'sent' as const }
  switch (outcome.kind) {
    case 'already_sent':
      return { ...base, delivery: smtpUrl ? 'smtp' : 'outbox', smtp_response: null, already_sent: true, possible_duplicate: outcome.possibleDuplicate === true }
    case 'kept_in_outbox':
      return { ...base, delivery: 'outbox', smtp_response: null, already_sent: false, possible_duplicate: false }
    case 'sent':
      return { ...base, delivery: 'smtp', smtp_response: outcome.receipt.response, already_sent: false, possible_duplicate: outcome.possibleDuplicate }
  }
}

type EmailContent = Pick<RenderedEmail, 'subject' | 'html' | 'text' | 'messageId' | 'headers'> & { to: string; from: string }

/** SMTP: tracking is applied as the mail leaves, so the outbox keeps the clean HTML. */
function smtpDelivery(ctx: ActionContext<SendEmailInput>, smtpUrl: string, replyTo: string | undefined): Transport<EmailContent, SmtpResult> {
  const { config } = ctx.services
  return {
    send: (mail, row) =>
      sendSmtp(smtpUrl, {
        from: senderOf(mail.from, ctx.store.name),
        to: mail.to,
        ...(replyTo ? { replyTo } : {}),
        subject: mail.subject,
        html: applyTracking(mail.html, { publicUrl: config.publicUrl, secretKey: config.secretKey, messageId: row.id }),
        text: mail.text,
        messageId: mail.messageId,
        headers: mail.headers,
      }),
    // 4xx: the server answered and did not take it; a broken connection may have delivered it
    refused: (err) => err instanceof RetryableError && serverRefused(err),
  }
}

/** The step's subject, HTML and preheader: its stored template's, with what the step names itself instead. */
export async function loadSource(ctx: ActionContext<SendEmailInput>, deps: SendEmailDeps = {}): Promise<EmailSource> {
  const { input } = ctx
  if (input.template) {
    const loader = deps.templates ?? (ctx.services as typeof ctx.services & MessagingTemplateServices).templates
    if (!loader)
      throw new PermanentError(`send_email: template "${input.template}" cannot be loaded: no template store is configured`, { reason: 'template_not_found' })
    const stored = await loader.load(ctx.store.id, input.template)
    if (!stored) throw new PermanentError(`send_email: no template named "${input.template}" in store ${ctx.store.id}`, { reason: 'template_not_found' })
    return {
      name: stored.name,
      subject: input.subject ?? stored.subject,
      html: input.html ?? stored.html,
      preheader: input.preheader ?? stored.preheader ?? null,
    }
  }
  return {
    name: `${ctx.run.workflowId}:${ctx.run.stepKey}`,
    subject: input.subject ?? '',
    html: input.html ?? '',
    preheader: input.preheader ?? null,
  }
}

/** A bare address gets the store's name as the display name. */
function senderOf(from: string, storeName: string): string | { name: string; address: string } {
  return from.includes('<') ? from : { name: storeName, address: from.trim() }
}

function stringSetting(settings: Record<string, unknown>, key: string): string | undefined {
  const value = settings[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}
