import { z } from 'zod'
import { UserError } from '../../lib/errors.ts'
import { PermanentError, defineAction, outboundFailure, type ActionContext, type ActionDefinition, type OutboundResponse } from '../../plugin-api/index.ts'
import { renderMaybe } from '../send-email/render.ts'
import { httpFailure } from '../send-sms/http-errors.ts'
import { providerAnswered, recordSendFailure } from '../send-email/admit.ts'

const notifyTeamInput = z.object({
  text: z.string().min(1).describe('The message for the team, Liquid, e.g. "{{ customer.email }} just placed a {{ order.total_price | money }} order"'),
  webhook_url: z
    .string()
    .url()
    .optional()
    .describe('Chat incoming-webhook URL (Slack, Mattermost, Discord /slack, Google Chat); default: STOREFLOW_TEAM_WEBHOOK_URL'),
})

export type NotifyTeamInput = z.infer<typeof notifyTeamInput>

const notifyTeamOutput = z.object({
  message_id: z.string().nullable().describe('The outbox record of the notification; null in a dry run'),
  status: z.enum(['sent', 'rendered']).describe('sent: the webhook accepted it; rendered: dry run'),
  text: z.string(),
  already_sent: z.boolean().describe('A previous attempt of this step already posted it; nothing was posted this time'),
  possible_duplicate: z.boolean().describe('A previous attempt crashed after posting, so it was posted again'),
})

export type NotifyTeamOutput = z.infer<typeof notifyTeamOutput>

export interface NotifyTeamDeps {
  /** default: STOREFLOW_TEAM_WEBHOOK_URL, read on each run */
  defaultWebhookUrl?: () => string | undefined
}

/**
 * Posts `{ "text": … }` to a chat incoming webhook. Team notifications are not customer
 * messages: no consent, cap or quiet hours. The outbox row (channel `chat`) is what stops a
 * retry from posting twice; it stores the webhook's host only, since the URL is a secret.
 */
export function createNotifyTeamAction(deps: NotifyTeamDeps = {}): ActionDefinition<NotifyTeamInput, NotifyTeamOutput> {
  return defineAction({
    type: 'notify_team',
    rawFields: ['text'],
    title: 'Notify team',
    description: 'Posts a message to a chat incoming webhook (Slack-style `{ "text" }`), e.g. to alert sales when a high-value prospect clicks.',
    input: notifyTeamInput,
    output: notifyTeamOutput,
    effects: 'external',
    retry: { safe: true, maxAttempts: 6, baseDelayMs: 10_000 },
    examples: [
      { text: ':moneybag: {{ customer.email }} placed order {{ order.name }} for {{ order.total_price | money }}' },
      { text: '{{ customer.first_name }} clicked {{ event.data.url }}', webhook_url: 'https://chat.example.com/hooks/sales-team' },
    ],
    run: (ctx) => runNotifyTeam(ctx, deps.defaultWebhookUrl ?? (() => process.env.STOREFLOW_TEAM_WEBHOOK_URL)),
  })
}

export const notifyTeam = createNotifyTeamAction()

async function runNotifyTeam(ctx: ActionContext<NotifyTeamInput>, defaultUrl: () => string | undefined): Promise<NotifyTeamOutput> {
  const { input, services, log } = ctx
  let text: string
  try {
    text = (await renderMaybe(input.text, `${ctx.run.workflowId}:${ctx.run.stepKey}`, ctx.scope)).trim()
  } catch (err) {
    if (err instanceof UserError) throw new PermanentError(err.message, { reason: 'template_error', cause: err })
    throw err
  }
  if (ctx.dryRun) return { message_id: null, status: 'rendered', text, already_sent: false, possible_duplicate: false }

  const raw = input.webhook_url ?? defaultUrl()
  if (!raw) throw new PermanentError('notify_team: no webhook; set the step\'s webhook_url or STOREFLOW_TEAM_WEBHOOK_URL', { reason: 'no_webhook' })
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new PermanentError('notify_team: webhook_url is not a URL', { reason: 'invalid_url' })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PermanentError(`notify_team: webhook_url must be http(s), got ${url.protocol}`, { reason: 'invalid_url' })
  }

  const { message: row } = await services.messages.record({
    idempotencyKey: ctx.idempotencyKey,
    runId: ctx.run.id,
    stepKey: ctx.run.stepKey,
    workflowId: ctx.run.workflowId,
    customerKey: ctx.customer?.key ?? null,
    channel: 'chat',
    category: 'transactional',
    to: url.origin,
    text,
    status: 'queued',
  })
  if (row.status === 'sent') return { message_id: row.id, status: 'sent', text: row.text ?? text, already_sent: true, possible_duplicate: false }
  const possibleDuplicate = row.status === 'sending'
  if (!possibleDuplicate) await services.messages.update(row.id, { status: 'sending' })

  try {
    // the guarded client: a webhook URL from a workflow file must not reach the machine's own
    // network, by its address, a name resolving to one, or a redirect
    let response: OutboundResponse
    try {
      response = await services.http.request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: row.text ?? text }),
        timeoutMs: 10_000,
        maxResponseBytes: 64 * 1024,
        redirects: 'refuse',
      })
    } catch (err) {
      throw outboundFailure('team webhook', err)
    }
    if (response.status < 200 || response.status >= 300) throw httpFailure('team webhook', response.status, response.body, new Headers(response.headers))
  } catch (err) {
    await recordSendFailure(ctx, row, err, providerAnswered(err))
    throw err
  }
  await services.messages.update(row.id, { status: 'sent', sentAt: ctx.clock.now().toISOString(), error: null })
  log.info({ messageId: row.id, runId: ctx.run.id }, 'team notified')
  return { message_id: row.id, status: 'sent', text: row.text ?? text, already_sent: false, possible_duplicate: possibleDuplicate }
}
