import { UserError } from '../../lib/errors.ts'
import { evaluateGuardrails, guardrailSettings, type GuardrailDecision, type GuardrailSettings, type MessageCategory } from '../../core/guardrails.ts'
import { zoneFor } from '../../core/time-zones.ts'
import { DeferStep, PermanentError, SkipStep, type ActionContext, type OutboxMessage, type StoredMessage } from '../../plugin-api/index.ts'

/**
 * The guardrail gate every customer message passes. It runs after the message is recorded,
 * so a skipped or deferred message shows in the outbox with its reason, and before anything
 * leaves. The customer's last send is read from the outbox, so the cap holds across workflows.
 * Our own row never counts against us: a row that says `sent` returns before this gate.
 */
export async function decideGuardrails(
  ctx: ActionContext<unknown>,
  channel: OutboxMessage['channel'],
  category: MessageCategory,
  options: { readHistory?: boolean } = {},
): Promise<GuardrailDecision> {
  let settings: GuardrailSettings
  try {
    settings = guardrailSettings(ctx.store.settings)
  } catch (err) {
    if (err instanceof UserError) throw new PermanentError(err.message, { reason: 'invalid_settings', cause: err })
    throw err
  }
  const needsHistory = options.readHistory !== false && category === 'marketing' && ctx.customer !== null && settings.frequencyCapMs !== null
  const last = needsHistory && ctx.customer ? await ctx.services.messages.lastMarketingSentAt(ctx.customer.key, channel) : null
  return evaluateGuardrails({
    category,
    customer: ctx.customer,
    settings,
    timeZone: zoneFor(ctx.customer, ctx.store),
    now: ctx.clock.now(),
    lastMarketingSentAt: last,
  })
}

/** Applies a decision: marks the outbox row and throws SkipStep / DeferStep; returns on `send`. */
export async function enforceGuardrails(ctx: ActionContext<unknown>, decision: GuardrailDecision, row: StoredMessage | null): Promise<void> {
  if (decision.kind === 'send') return
  const detail = { runId: ctx.run.id, stepKey: ctx.run.stepKey, reason: decision.reason, until: decision.until?.toISOString() }
  if (decision.kind === 'skip') {
    if (row) await ctx.services.messages.update(row.id, { status: 'skipped', error: decision.reason })
    ctx.log.info(detail, 'message skipped by guardrail')
    throw new SkipStep(decision.reason, {
      message_id: row?.id ?? null,
      ...(decision.until ? { until: decision.until.toISOString() } : {}),
    })
  }
  if (row) await ctx.services.messages.update(row.id, { status: 'deferred', error: decision.reason })
  ctx.log.info(detail, 'message deferred by guardrail')
  throw new DeferStep(decision.until, decision.reason)
}

/**
 * The cap's last word, taken atomically just before the message leaves: decideGuardrails read
 * the history, but another run may have sent to the same customer since. Transactional mail,
 * customers we do not know and a disabled cap pass straight through.
 */
export async function reserveCapSlot(
  ctx: ActionContext<unknown>,
  row: StoredMessage,
  channel: OutboxMessage['channel'],
  category: MessageCategory,
): Promise<void> {
  if (category !== 'marketing' || !ctx.customer) return
  const capMs = guardrailSettings(ctx.store.settings).frequencyCapMs
  if (capMs === null || capMs <= 0) return
  const now = ctx.clock.now()
  if (await ctx.services.messages.reserveMarketingSlot(row.id, ctx.customer.key, channel, new Date(now.getTime() - capMs), now)) return
  await ctx.services.messages.update(row.id, { status: 'skipped', error: 'frequency_cap' })
  ctx.log.info({ runId: ctx.run.id, stepKey: ctx.run.stepKey, reason: 'frequency_cap' }, 'message skipped by guardrail')
  throw new SkipStep('frequency_cap', { message_id: row.id })
}
