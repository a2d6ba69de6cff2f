import { z } from 'zod'
import { createHash } from 'node:crypto'
import { PermanentError, SkipStep, defineAction, type ActionContext, type ActionDefinition, type OutboundClient } from '../../plugin-api/index.ts'
import { postToProvider, providerAnswered, renderMaybe, renderVars, sendOnce, withStepVars, withTemplateErrors, type Transport } from '../messaging/index.ts'
import { smsConfig, type SmsConfig } from './config.ts'

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

/** Renders the text and hands it to sendOnce; the provider is its transport, the outbox when none is configured. */
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
    // a dry run renders the text and applies consent and quiet hours; nothing is recorded or sent
    simulate: 'dry_run',
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
  const { input } = ctx
  const name = `${ctx.run.workflowId}:${ctx.run.stepKey}`
  const { to, body } = await withTemplateErrors(async () => {
    const vars = await renderVars(input.vars, name, ctx.scope)
    const scope = withStepVars(ctx.scope, vars)
    return {
      to: input.to ? (await renderMaybe(input.to, `${name} to`, scope)).trim() : (ctx.customer?.phone ?? ''),
      body: (await renderMaybe(input.body, name, scope)).trim(),
    }
  })
  if (!to) throw new SkipStep('no_recipient', { reason: 'the customer has no phone number and the step names no `to`' })
  if (!body) throw new PermanentError('send_sms: the body rendered empty', { reason: 'empty_message' })
  const config = readConfig()
  const from = input.from ?? config?.from ?? null

  const outcome = await sendOnce(ctx, {
    channel: 'sms',
    category: input.category,
    guardrails: true,
    prepare: () => ({ content: { to, from, text: body }, transport: config ? smsProvider(ctx, config, from) : null }),
    log: { sent: 'sms sent', keptInOutbox: 'sms kept in outbox (no STOREFLOW_SMS_URL)' },
  })
  if (outcome.kind === 'dry_run')
    return { message_id: null, status: 'rendered', delivery: 'none', to, body, provider_id: null, already_sent: false, possible_duplicate: false }
  const { row, message } = outcome
  const base = { message_id: row.id, to: message.to, body: message.text, status: 'sent' as const }
  switch (outcome.kind) {
    case 'already_sent':
      return {
        ...base,
        delivery: config ? 'provider' : 'outbox',
        provider_id: row.messageId ?? null,
        already_sent: true,
        possible_duplicate: outcome.possibleDuplicate === true,
      }
    case 'kept_in_outbox':
      return { ...base, delivery: 'outbox', provider_id: null, already_sent: false, possible_duplicate: false }
    case 'sent':
      return { ...base, delivery: 'provider', provider_id: outcome.receipt, already_sent: false, possible_duplicate: outcome.possibleDuplicate }
  }
}

/**
 * The provider: a Twilio-style form POST. The sending number is the one configured now, not the
 * one recorded at the first attempt; without one the message cannot leave.
 */
function smsProvider(
  ctx: ActionContext<SendSmsInput>,
  config: SmsConfig,
  from: string | null,
): Transport<{ to: string; from: string | null; text: string }, string | null> {
  return {
    check() {
      if (!from) throw new PermanentError("send_sms: no sending number; set STOREFLOW_SMS_FROM or the step's `from`", { reason: 'no_sender' })
    },
    send: (sms) => postSms(ctx.services.http, config, { to: sms.to, from: from!, body: sms.text, idempotencyKey: ctx.idempotencyKey }),
    sentId: (providerId) => providerId,
    refused: providerAnswered,
  }
}

/** The provider's id for the message (Twilio's sid), when its answer names one. */
async function postSms(
  client: OutboundClient,
  config: SmsConfig,
  sms: { to: string; from: string; body: string; idempotencyKey: string },
): Promise<string | null> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    // providers that honour it drop a resend after a crash; the rest ignore it
    'idempotency-key': createHash('sha256').update(sms.idempotencyKey).digest('hex'),
  }
  if (config.authorization) headers.authorization = config.authorization
  const response = await postToProvider(client, 'SMS provider', config.endpoint, {
    headers,
    body: new URLSearchParams({ To: sms.to, From: sms.from, Body: sms.body }).toString(),
    timeoutMs: 15_000,
  })
  try {
    const json = JSON.parse(response.body) as { sid?: unknown; id?: unknown }
    const id = json.sid ?? json.id
    return typeof id === 'string' ? id : null
  } catch {
    return null
  }
}
