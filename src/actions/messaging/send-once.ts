import type { MessageCategory } from '../../core/guardrails.ts'
import type { ActionContext, OutboxMessage, StoredMessage } from '../../plugin-api/index.ts'
import { decideGuardrails, enforceGuardrails, reserveCapSlot } from './admit.ts'
import { recordSendFailure } from './send-failure.ts'

/** Unanswered hand-overs after which a message is not handed over again, when one of them was seen cut (else one more). */
const MAX_UNANSWERED_HANDOVERS = 2

/**
 * What a channel renders: the content of its outbox row; a channel sets the fields it uses. A
 * `messageId` in it is the id the message carries on every attempt (an email's Message-ID).
 */
export type MessageContent = Pick<OutboxMessage, 'to' | 'from' | 'subject' | 'html' | 'text' | 'headers' | 'messageId'>

/** How a channel's messages leave: SMTP, an SMS provider, a chat webhook. */
export interface Transport<C extends MessageContent, R> {
  /**
   * Throws when this message cannot leave at all (no sending number). Asked after the
   * guardrails and before the row says `sending`, so the row keeps the status it had.
   */
  check?(): void
  /** Hands the message over: `message` is the content the first attempt recorded, `row` its outbox row. */
  send(message: C, row: StoredMessage): Promise<R>
  /** the far side's id for the message it took (an SMS provider's); recorded on the row in place of the content's */
  sentId?(receipt: R): string | null
  /** true when the far side answered and did not take this copy (an SMTP 4xx, an HTTP error status) */
  refused(err: unknown): boolean
}

export interface SendOnceRequest<C extends MessageContent, R> {
  channel: OutboxMessage['channel']
  category: MessageCategory
  /** customer messages pass consent, the frequency cap and quiet hours; a team notification is not one */
  guardrails: boolean
  /**
   * The content to record and the transport to send it with (null when none is configured: the
   * outbox is the delivery). Asked after the dry-run check, so a simulation needs neither a
   * transport nor a destination, and before the message is recorded, so a step naming no
   * usable destination fails without leaving a row.
   */
  prepare(): { content: C; transport: Transport<C, R> | null }
  /** the log lines operators know the channel by, e.g. `email sent`; keptInOutbox for a channel that may have no transport */
  log: { sent: string; keptInOutbox?: string }
}

export type SendOnceOutcome<C extends MessageContent, R> =
  /** a dry run: the guardrails that need no history passed; nothing was recorded or sent */
  | { kind: 'dry_run' }
  /** an earlier attempt of this step sent it; nothing was sent this time */
  /** `possibleDuplicate`: not handed over again after two hand-overs cut off before an answer (the far side may hold both) */
  | { kind: 'already_sent'; row: StoredMessage; message: C; possibleDuplicate?: boolean }
  /** no transport: the message is final in the outbox */
  | { kind: 'kept_in_outbox'; row: StoredMessage; message: C }
  | { kind: 'sent'; row: StoredMessage; message: C; receipt: R; possibleDuplicate: boolean }

/**
 * Exactly once, and honest when it cannot be (core/messaging/ARCHITECTURE.md), for every
 * channel: the message is recorded, keyed by the step's idempotency key, as `queued`; a row an
 * earlier attempt sent returns at once; a fresh one passes the guardrails and takes its slot
 * under the frequency cap; the row says `sending` before the hand-over and `sent` after. A crash
 * between the two leaves it `sending`: the retry sends it again, with the same content and
 * Message-ID, and says `possibleDuplicate`. A failed hand-over is recorded by recordSendFailure.
 *
 * At most one copy more: the row counts the hand-overs that got no answer (`handovers`: counted
 * when one starts, taken back when the far side answers with a refusal or could not be reached at
 * all) and, of those, the ones this sender saw cut off by the connection (`handoversCut`). After
 * one, the message is handed over again, flagged. After two, when one of them was seen cut (the
 * far side most likely holds that copy: the connection broke after the message went out), or after
 * three, never again: the message is marked sent (unconfirmed) and the step goes on with
 * `possibleDuplicate`. Two hand-overs that each ended with the sender killed are not enough to
 * stop: a sender killed mid-message leaves the far side without it often enough that a third
 * copy is the lesser risk next to losing the message.
 * The guardrails' SkipStep and DeferStep, and the transport's errors, are thrown on to the engine.
 */
export async function sendOnce<C extends MessageContent, R>(ctx: ActionContext<unknown>, request: SendOnceRequest<C, R>): Promise<SendOnceOutcome<C, R>> {
  const { channel, category, guardrails } = request
  const { messages } = ctx.services
  if (ctx.dryRun) {
    // simulate shows what would happen: consent and quiet hours are pure, so they apply; the
    // frequency cap needs the outbox, which a dry run does not read
    if (guardrails) await enforceGuardrails(ctx, await decideGuardrails(ctx, channel, category, { readHistory: false }), null)
    return { kind: 'dry_run' }
  }

  const { content, transport } = request.prepare()
  // a message nothing can hold back any more (no guardrail applies or it is transactional, no
  // check stands before the transport) is recorded `sending` at once: one write fewer, and the
  // same window as after a separate update (a crash now, and the retry resends and says so)
  const gate = guardrails && category === 'transactional' ? await decideGuardrails(ctx, channel, category).catch(() => null) : null
  const straight = transport !== null && !transport.check && (!guardrails || gate?.kind === 'send')
  const { message: row, created } = await messages.record({
    idempotencyKey: ctx.idempotencyKey,
    runId: ctx.run.id,
    stepKey: ctx.run.stepKey,
    workflowId: ctx.run.workflowId,
    customerKey: ctx.customer?.key ?? null,
    channel,
    category,
    ...content,
    status: straight ? 'sending' : 'queued',
    handovers: straight ? 1 : 0,
  })
  // the first attempt's content is the message; later attempts send exactly that
  const message = frozenContent(row, content)
  const where = { messageId: row.id, runId: ctx.run.id, channel }

  if (row.status === 'sent') {
    ctx.log.info(where, 'message already sent by an earlier attempt')
    return { kind: 'already_sent', row, message }
  }
  const recordedSending = straight && created
  const possibleDuplicate = row.status === 'sending' && !recordedSending
  if (!possibleDuplicate && guardrails) {
    await enforceGuardrails(ctx, gate ?? (await decideGuardrails(ctx, channel, category)), row)
    await reserveCapSlot(ctx, row, channel, category)
  }

  if (!transport) {
    // the message is final in the outbox, so it says `sent`
    await messages.update(row.id, { status: 'sent', sentAt: ctx.clock.now().toISOString(), ...idOf(message.messageId) })
    ctx.log.info(where, request.log.keptInOutbox ?? 'message kept in outbox')
    return { kind: 'kept_in_outbox', row, message }
  }
  transport.check?.()

  // the hand-overs whose answer never came, this one included once it starts
  let handovers = recordedSending ? 1 : (row.handovers ?? 0)
  const cut = row.handoversCut ?? 0
  if (possibleDuplicate && handovers >= MAX_UNANSWERED_HANDOVERS && (cut >= 1 || handovers > MAX_UNANSWERED_HANDOVERS)) {
    const error = `unconfirmed: ${handovers} hand-overs got no answer (${cut} cut off by the connection); not handed over again, so at most ${handovers} copies left`
    await messages.update(row.id, { status: 'sent', sentAt: ctx.clock.now().toISOString(), error })
    ctx.log.warn({ ...where, handovers }, 'message not handed over again: it may have arrived already')
    return { kind: 'already_sent', row, message, possibleDuplicate: true }
  }
  if (possibleDuplicate) {
    ctx.log.warn(where, 'resending a message after an interrupted attempt')
    await messages.update(row.id, { handovers: ++handovers })
  } else if (!recordedSending) await messages.update(row.id, { status: 'sending', handovers: ++handovers })
  let receipt: R
  try {
    receipt = await transport.send(message, row)
  } catch (err) {
    // the row as this attempt found it: one it created `sending` had no earlier copy to keep it so
    await recordSendFailure(ctx, recordedSending ? { ...row, status: 'queued' } : row, err, transport.refused(err), handovers)
    throw err
  }
  await messages.update(row.id, {
    status: 'sent',
    sentAt: ctx.clock.now().toISOString(),
    error: null,
    ...idOf(transport.sentId?.(receipt) ?? message.messageId),
  })
  ctx.log.info({ ...where, possibleDuplicate }, request.log.sent)
  return { kind: 'sent', row, message, receipt, possibleDuplicate }
}

/** The content as the row stored it; a field the row lacks comes from this attempt's rendering. */
function frozenContent<C extends MessageContent>(row: StoredMessage, content: C): C {
  const frozen: MessageContent = { ...content, to: row.to }
  for (const field of ['from', 'subject', 'html', 'text', 'headers', 'messageId'] as const) {
    if (field in content && row[field] != null) Object.assign(frozen, { [field]: row[field] })
  }
  return frozen as C
}

function idOf(messageId: string | null | undefined): { messageId?: string } {
  return messageId ? { messageId } : {}
}
