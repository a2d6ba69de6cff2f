import { UserError } from '../../lib/errors.ts'
import { evaluateGuardrails, guardrailSettings, isValidTimeZone, type GuardrailDecision, type MessageCategory } from '../../core/guardrails.ts'
import { DeferStep, PermanentError, RetryableError, SkipStep, type ActionContext, type OutboxMessage, type StoredMessage } from '../../plugin-api/index.ts'

/**
 * The guardrail gate shared by send_email and send_sms. It runs after the message is recorded,
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
  let settings
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
    timeZone: timeZoneOf(ctx.customer?.timezone, ctx.store.timezone),
    now: ctx.clock.now(),
    lastMarketingSentAt: last,
  })
}

/**
 * `resolveTimeZone` with the validity of each zone name remembered: checking one builds an
 * `Intl.DateTimeFormat`, which cost more than the rest of the gate. A name's validity does not
 * change while the process runs; the memo is bounded because the names come from customer data.
 */
const zoneValidity = new Map<string, boolean>()
const ZONE_MEMO_LIMIT = 2000

function validZone(zone: string): boolean {
  let valid = zoneValidity.get(zone)
  if (valid === undefined) {
    valid = isValidTimeZone(zone)
    if (zoneValidity.size >= ZONE_MEMO_LIMIT) zoneValidity.clear()
    zoneValidity.set(zone, valid)
  }
  return valid
}

function timeZoneOf(...candidates: Array<string | null | undefined>): string {
  for (const zone of candidates) {
    if (zone && validZone(zone)) return zone
  }
  return 'UTC'
}

/** Applies a decision: marks the outbox row and throws SkipStep / DeferStep; returns on `send`. */
export async function enforceGuardrails(
  ctx: ActionContext<unknown>,
  decision: GuardrailDecision,
  row: StoredMessage | null,
): Promise<void> {
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
export async function reserveCapSlot(ctx: ActionContext<unknown>, row: StoredMessage, channel: OutboxMessage['channel'], category: MessageCategory): Promise<void> {
  if (category !== 'marketing' || !ctx.customer) return
  const capMs = guardrailSettings(ctx.store.settings).frequencyCapMs
  if (capMs === null || capMs <= 0) return
  const now = ctx.clock.now()
  if (await ctx.services.messages.reserveMarketingSlot(row.id, ctx.customer.key, channel, new Date(now.getTime() - capMs), now)) return
  await ctx.services.messages.update(row.id, { status: 'skipped', error: 'frequency_cap' })
  ctx.log.info({ runId: ctx.run.id, stepKey: ctx.run.stepKey, reason: 'frequency_cap' }, 'message skipped by guardrail')
  throw new SkipStep('frequency_cap', { message_id: row.id })
}

/**
 * What a failed hand-over means for the outbox row, for every channel. `row` is the row as this
 * attempt found it, before it marked it `sending`:
 * - a permanent refusal: `failed`, or `bounced` when the recipient itself was refused;
 * - the engine's last attempt: `failed`, the message will not leave;
 * - the far side answered with an error (`refused`): it did not take this copy, so the row goes
 *   back to `queued` and the retry is clean — unless the row was already `sending` (this attempt
 *   resent a message an earlier attempt may have delivered): then it stays `sending`, so the
 *   attempt that finally sends still says possible_duplicate;
 * - anything else (a broken connection): the far side may have it; the row stays `sending`, so the
 *   retry knows it may be a duplicate.
 */
export async function recordSendFailure(ctx: ActionContext<unknown>, row: StoredMessage, err: unknown, refused: boolean): Promise<void> {
  const error = err instanceof Error ? err.message : String(err)
  const { messages } = ctx.services
  if (err instanceof PermanentError) await messages.update(row.id, { status: err.reason === 'bounced' ? 'bounced' : 'failed', error })
  else if (ctx.run.attempt >= ctx.run.maxAttempts) await messages.update(row.id, { status: 'failed', error })
  else if (refused && row.status !== 'sending') await messages.update(row.id, { status: 'queued', error })
  else await messages.update(row.id, { error })
  ctx.log.warn({ messageId: row.id, runId: ctx.run.id, channel: row.channel, err: error }, 'message hand-over failed')
}

/** An HTTP provider answered (with an error status): it did not take the message. */
export function providerAnswered(err: unknown): boolean {
  return err instanceof RetryableError && typeof (err as { details?: { status?: unknown } }).details?.status === 'number'
}
