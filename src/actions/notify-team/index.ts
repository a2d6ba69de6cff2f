import { z } from 'zod'
import { PermanentError, defineAction, type ActionContext, type ActionDefinition } from '../../plugin-api/index.ts'
import { postToProvider, providerAnswered, renderMaybe, sendOnce, withTemplateErrors, type Transport } from '../messaging/index.ts'

const notifyTeamInput = z.object({
  text: z.string().min(1).describe('The message for the team, Liquid, e.g. "{{ customer.email }} just placed a {{ order.total_price | money }} order"'),
  webhook_url: z
    .string()
    .url()
    .optional()
    .describe(
      "Chat incoming-webhook URL (Slack, Mattermost, Discord /slack, Google Chat); default: the store's team_chat integration (PUT /api/v1/integrations/team_chat), else STOREFLOW_TEAM_WEBHOOK_URL",
    ),
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
  /** after the store's team_chat integration: STOREFLOW_TEAM_WEBHOOK_URL, read on each run */
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
    description:
      'Posts a message to a chat incoming webhook (Slack-style `{ "text" }`), e.g. to alert sales when a high-value prospect clicks. In `text`, every `{{ }}` value has `&`, `<` and `>` escaped as Slack documents (the chat shows them as typed), so a customer\'s name cannot mention a channel or forge a link; `<url|label>` markup the store writes itself works.',
    input: notifyTeamInput,
    output: notifyTeamOutput,
    effects: 'external',
    // a dry run renders the text; nothing is posted
    simulate: 'dry_run',
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
  const { input } = ctx
  const text = await withTemplateErrors(async () => (await renderMaybe(input.text, `${ctx.run.workflowId}:${ctx.run.stepKey}`, ctx.scope, 'chat')).trim())
  // the store's own team chat before the process-wide default, so each store's team hears only its own news
  // (a dry run posts nothing, so it needs no URL; simulate's services hold no integrations)
  const storeUrl = input.webhook_url || ctx.dryRun ? undefined : (await ctx.services.remote.account('team_chat'))?.credentials.webhook_url
  const outcome = await sendOnce(ctx, {
    channel: 'chat',
    category: 'transactional',
    guardrails: false,
    prepare: () => {
      const url = webhookUrl(input.webhook_url ?? storeUrl ?? defaultUrl())
      // the URL is a secret: the outbox keeps the webhook's host only
      return { content: { to: url.origin, text }, transport: chatWebhook(ctx, url) }
    },
    log: { sent: 'team notified' },
  })
  if (outcome.kind === 'dry_run') return { message_id: null, status: 'rendered', text, already_sent: false, possible_duplicate: false }
  const { row, message } = outcome
  return {
    message_id: row.id,
    status: 'sent',
    text: message.text,
    already_sent: outcome.kind === 'already_sent',
    possible_duplicate: (outcome.kind === 'sent' || outcome.kind === 'already_sent') && outcome.possibleDuplicate === true,
  }
}

function webhookUrl(raw: string | undefined): URL {
  if (!raw)
    throw new PermanentError(
      "notify_team: no webhook; set the step's webhook_url, the store's team_chat integration (PUT /api/v1/integrations/team_chat) or STOREFLOW_TEAM_WEBHOOK_URL",
      { reason: 'no_webhook' },
    )
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new PermanentError('notify_team: webhook_url is not a URL', { reason: 'invalid_url' })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PermanentError(`notify_team: webhook_url must be http(s), got ${url.protocol}`, { reason: 'invalid_url' })
  }
  return url
}

/** Posts `{ "text": … }`, the shape Slack-style incoming webhooks take. */
function chatWebhook(ctx: ActionContext<NotifyTeamInput>, url: URL): Transport<{ to: string; text: string }, void> {
  return {
    async send(message) {
      await postToProvider(ctx.services.http, 'team webhook', url, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: message.text }),
        timeoutMs: 10_000,
      })
    },
    refused: providerAnswered,
  }
}
