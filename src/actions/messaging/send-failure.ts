import { PermanentError, RetryableError, type ActionContext, type StoredMessage } from '../../plugin-api/index.ts'

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
 * `handovers` is the row's count of unanswered hand-overs with this one: a refusal takes this one
 * back (the far side did not take it), anything else leaves it counted.
 */
export async function recordSendFailure(ctx: ActionContext<unknown>, row: StoredMessage, err: unknown, refused: boolean, handovers?: number): Promise<void> {
  const error = err instanceof Error ? err.message : String(err)
  const { messages } = ctx.services
  if (err instanceof PermanentError) await messages.update(row.id, { status: err.reason === 'bounced' ? 'bounced' : 'failed', error })
  else if (ctx.run.attempt >= ctx.run.maxAttempts) await messages.update(row.id, { status: 'failed', error })
  else if (refused && row.status !== 'sending') await messages.update(row.id, { status: 'queued', error, handovers: 0 })
  else if (refused && handovers !== undefined) await messages.update(row.id, { error, handovers: Math.max(0, handovers - 1) })
  // cut off after the hand-over began: the far side may well hold this copy
  else await messages.update(row.id, { error, handoversCut: (row.handoversCut ?? 0) + 1 })
  ctx.log.warn({ messageId: row.id, runId: ctx.run.id, channel: row.channel, err: error }, 'message hand-over failed')
}

/** An HTTP provider answered (with an error status): it did not take the message. */
export function providerAnswered(err: unknown): boolean {
  return err instanceof RetryableError && typeof (err as { details?: { status?: unknown } }).details?.status === 'number'
}
