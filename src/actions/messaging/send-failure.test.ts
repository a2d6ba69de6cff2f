import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PermanentError, RetryableError } from '../../plugin-api/index.ts'
import { actionContext, actionEnv, type ActionEnv } from '../../../test/helpers/action-context.ts'
import { DIALECTS } from '../../../test/helpers/dialects.ts'
import { providerAnswered, recordSendFailure } from './send-failure.ts'

/** One rule for every channel: what a failed hand-over leaves in the outbox row. */
describe.each(DIALECTS)('recordSendFailure on the %s outbox', (dialect) => {
  let a: ActionEnv
  beforeAll(async () => {
    a = await actionEnv(dialect)
  })
  afterAll(() => a.cleanup())

  let step = 0
  /**
   * Each outcome is a step of its own: a fresh row, keyed by its own idempotency key. As the
   * actions call it: with the row as the attempt found it, after marking it `sending`.
   */
  const outcome = async (err: unknown, refused: boolean, attempt = 1, found: 'queued' | 'sending' = 'queued') => {
    const { services, clock } = a
    const ctx = actionContext({}, { services, clock, attempt, stepKey: `s${++step}` })
    const { message } = await services.messages.record({
      idempotencyKey: ctx.idempotencyKey,
      runId: ctx.run.id,
      stepKey: ctx.run.stepKey,
      workflowId: 'w',
      customerKey: 'c',
      channel: 'sms',
      category: 'marketing',
      to: '+1555',
      status: found,
    })
    await services.messages.update(message.id, { status: 'sending' })
    await recordSendFailure(ctx, message, err, refused)
    return (await a.outbox()).find((row) => row.id === message.id)!.status
  }

  it('a permanent refusal fails the message; a refused recipient is a bounce', async () => {
    expect(await outcome(new PermanentError('550 mailbox unavailable'), false)).toBe('failed')
    expect(await outcome(new PermanentError('550 no such user', { reason: 'bounced' }), false)).toBe('bounced')
  })

  it('an answered error puts it back in the queue; a broken connection leaves it sending (a retry may duplicate)', async () => {
    expect(await outcome(new RetryableError('429'), true)).toBe('queued')
    expect(await outcome(new RetryableError('ECONNRESET'), false)).toBe('sending')
  })

  it('a refused resend of a message an earlier attempt may have delivered leaves it sending (still a possible duplicate)', async () => {
    expect(await outcome(new RetryableError('451'), true, 2, 'sending')).toBe('sending')
  })

  it("on the engine's last attempt the message is failed, whatever the error", async () => {
    expect(await outcome(new RetryableError('503'), true, 5)).toBe('failed')
    expect(await outcome(new RetryableError('ECONNRESET'), false, 5)).toBe('failed')
  })
})

describe('providerAnswered', () => {
  it('providerAnswered: an HTTP status in the error means the provider answered', () => {
    expect(providerAnswered(new RetryableError('503', { details: { status: 503 } }))).toBe(true)
    expect(providerAnswered(new RetryableError('ECONNRESET'))).toBe(false)
    expect(providerAnswered(new PermanentError('400', { details: { status: 400 } }))).toBe(false)
  })
})
