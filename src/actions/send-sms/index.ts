import { z } from 'zod'
import { createHash } from 'node:crypto'
import { UserError } from '../../lib/errors.ts'
import { PermanentError, SkipStep, defineAction, outboundFailure, type ActionContext, type ActionDefinition, type OutboundClient, type OutboundResponse, type StoredMessage } from '../../plugin-api/index.ts'
import { decideGuardrails, enforceGuardrails, providerAnswered, recordSendFailure, reserveCapSlot } from '../send-email/admit.ts'
import { renderMaybe, renderVars } from '../send-email/render.ts'
import { smsConfig, type SmsConfig } from './config.ts'
import { httpFailure } from './http-errors.ts'

export { smsConfig, type SmsConfig } from './config.ts'

const sendSmsInput = z.object({
  body: z.string().min(1).describe('The text message, Liquid; keep it under 160 characters to fit one SMS'),
  to: z.string().min(3).optional().describe("Recipient phone number in E.164 form (+15551234567), Liquid; default: the customer's phone"),
  from: z.string().optional().describe('Sending number or sender id; default: STOREFLOW_SMS_FROM'),
  category: z
    .enum(['transactional', 'marketing'])
    .default('marketing')
    .describe('marketing (default): consent, frequency cap and quiet hours apply; transactional: always sent'),
  vars: z.record(z.string(), z.unknown()).optional().describe('Extra values for the body, merged into its scope; string values may be Liquid'),
})

export type SendSmsInput = z.infer<typeof sendSmsInput>

const sendSmsOutput = z.object({
  message_id: z.string().nullable().describe('The outbox message id; null in a dry run'),
  status: z.enum(['sent', 'rendered']).describe('sent: accepted by the provider or kept in the outbox; rendered: dry run'),
  delivery: z.enum(['provider', 'outbox', 'none']).describe('provider: accepted by STOREFLOW_SMS_URL; outbox: no provider configured; none: dry run'),
  to: z.string(),
  body: z.string(),
  provider_id: z.string().nullable().describe("The provider's id for the message (Twilio's sid)"),
  already_sent: z.boolean().describe('A previous attempt of this step already sent it; nothing was sent this time'),
  possible_duplicate: z.boolean().describe('A previous attempt crashed after handing the message over, so it was sent again'),
})

export type SendSmsOutput = z.infer<typeof sendSmsOutput>

export interface SendSmsDeps {
  /** default: smsConfig() from the environment, read on each send so tests and reloads see changes */
  config?: () => SmsConfig | null
}

/** The same exactly-once protocol as send_email: queued → guardrails → sending → sent. */
export function createSendSmsAction(deps: SendSmsDeps = {}): ActionDefinition<SendSmsInput, SendSmsOutput> {
  return defineAction({
    type: 'send_sms',
    rawFields: ['body', 'to', 'vars'],
    title: 'Send SMS',
    description:
      'Sends a text message through an HTTP SMS provider (Twilio-style form POST to STOREFLOW_SMS_URL). Marketing texts respect consent, the frequency cap and quiet hours. Without a provider the message stays in the outbox.',
    input: sendSmsInput as z.ZodType<SendSmsInput>,
    output: sendSmsOutput,
    effects: 'external',
    retry: { safe: true, maxAttempts: 8, baseDelayMs: 30_000 },
    examples: [
      { body: 'Hi {{ customer.first_name }}, your order {{ order.name }} has shipped.', category: 'transactional' },
      { body: '{{ store.name }}: your cart is waiting. Reply STOP to opt out.', category: 'marketing' },
    ],
    run: (ctx) => runSendSms(ctx, deps.config ?? (() => smsConfig())),
  })
}

export const sendSms = createSendSmsAction()

async function runSendSms(ctx: ActionContext<SendSmsInput>, readConfig: () => SmsConfig | null): Promise<SendSmsOutput> {
  const { input, services, log } = ctx
  const name = `${ctx.run.workflowId}:${ctx.run.stepKey}`
  const { to, body } = await liquid(async () => {
    const vars = await renderVars(input.vars, name, ctx.scope)
    const scope = { ...ctx.scope, ...vars, vars }
    return {
      to: input.to ? (await renderMaybe(input.to, `${name} to`, scope)).trim() : (ctx.customer?.phone ?? ''),
      body: (await renderMaybe(input.body, name, scope)).trim(),
    }
  })
  if (!to) throw new SkipStep('no_recipient', { reason: 'the customer has no phone number and the step names no `to`' })
  if (!body) throw new PermanentError('send_sms: the body rendered empty', { reason: 'empty_message' })
  const config = readConfig()
  const from = input.from ?? config?.from ?? null
  const category = input.category

  if (ctx.dryRun) {
    await enforceGuardrails(ctx, await decideGuardrails(ctx, 'sms', category, { readHistory: false }), null)
    return { message_id: null, status: 'rendered', delivery: 'none', to, body, provider_id: null, already_sent: false, possible_duplicate: false }
  }

  const { message: row } = await services.messages.record({
    idempotencyKey: ctx.idempotencyKey,
    runId: ctx.run.id,
    stepKey: ctx.run.stepKey,
    workflowId: ctx.run.workflowId,
    customerKey: ctx.customer?.key ?? null,
    channel: 'sms',
    category,
    to,
    from,
    text: body,
    status: 'queued',
  })
  const text = row.text ?? body
  const base = { message_id: row.id, to: row.to, body: text }
  if (row.status === 'sent') {
    return { ...base, status: 'sent', delivery: config ? 'provider' : 'outbox', provider_id: row.messageId ?? null, already_sent: true, possible_duplicate: false }
  }
  const possibleDuplicate = row.status === 'sending'
  if (!possibleDuplicate) {
    await enforceGuardrails(ctx, await decideGuardrails(ctx, 'sms', category), row)
    await reserveCapSlot(ctx, row, 'sms', category)
  }

  if (!config) {
    await services.messages.update(row.id, { status: 'sent', sentAt: ctx.clock.now().toISOString() })
    log.info({ messageId: row.id, runId: ctx.run.id }, 'sms kept in outbox (no STOREFLOW_SMS_URL)')
    return { ...base, status: 'sent', delivery: 'outbox', provider_id: null, already_sent: false, possible_duplicate: false }
  }
  if (!from) throw new PermanentError('send_sms: no sending number; set STOREFLOW_SMS_FROM or the step\'s `from`', { reason: 'no_sender' })

  if (!possibleDuplicate) await services.messages.update(row.id, { status: 'sending' })
  let providerId: string | null
  try {
    providerId = await postSms(services.http, config, { to: row.to, from, body: text, idempotencyKey: ctx.idempotencyKey })
  } catch (err) {
    await recordSendFailure(ctx, row, err, providerAnswered(err))
    throw err
  }
  await services.messages.update(row.id, { status: 'sent', sentAt: ctx.clock.now().toISOString(), error: null, ...(providerId ? { messageId: providerId } : {}) })
  log.info({ messageId: row.id, runId: ctx.run.id, possibleDuplicate }, 'sms sent')
  return { ...base, status: 'sent', delivery: 'provider', provider_id: providerId, already_sent: false, possible_duplicate: possibleDuplicate }
}

/** Through the guarded client: the provider URL is refused on a private address, and never redirected. */
async function postSms(client: OutboundClient, config: SmsConfig, sms: { to: string; from: string; body: string; idempotencyKey: string }): Promise<string | null> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    // providers that honour it drop a resend after a crash; the rest ignore it
    'idempotency-key': createHash('sha256').update(sms.idempotencyKey).digest('hex'),
  }
  if (config.authorization) headers.authorization = config.authorization
  let response: OutboundResponse
  try {
    response = await client.request(config.endpoint, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ To: sms.to, From: sms.from, Body: sms.body }).toString(),
      timeoutMs: 15_000,
      maxResponseBytes: 64 * 1024,
      redirects: 'refuse',
    })
  } catch (err) {
    throw outboundFailure('SMS provider', err)
  }
  const text = response.body
  if (response.status < 200 || response.status >= 300) throw httpFailure('SMS provider', response.status, text, new Headers(response.headers))
  try {
    const json = JSON.parse(text) as { sid?: unknown; id?: unknown }
    const id = json.sid ?? json.id
    return typeof id === 'string' ? id : null
  } catch {
    return null
  }
}

async function liquid<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof UserError) throw new PermanentError(err.message, { reason: 'template_error', cause: err, details: err.details })
    throw err
  }
}
