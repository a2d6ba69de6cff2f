import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PermanentError, RetryableError, SkipStep } from '../../plugin-api/index.ts'
import { actionContext, actionEnv, type ActionEnv } from '../../../test/helpers/action-context.ts'
import { DIALECTS } from '../../../test/helpers/dialects.ts'
import { sendOnce, type SendOnceRequest, type Transport } from './send-once.ts'

type Content = { to: string; text: string; messageId?: string }

/** The sequence with a transport of the test's own: what each step leaves in the outbox. */
describe.each(DIALECTS)('sendOnce on the %s outbox', (dialect) => {
  let a: ActionEnv
  beforeAll(async () => {
    a = await actionEnv(dialect, { at: '2026-06-10T12:00:00Z' })
  })
  afterAll(() => a.cleanup())

  let step = 0
  const handed: Content[] = []
  const transport = (overrides: Partial<Transport<Content, string>> = {}): Transport<Content, string> => ({
    send: async (message) => {
      handed.push(message)
      return `far-${handed.length}`
    },
    sentId: (id) => id,
    refused: (err) => err instanceof RetryableError,
    ...overrides,
  })
  const request = (
    text: string,
    t: Transport<Content, string> | null,
    extra: Partial<SendOnceRequest<Content, string>> = {},
  ): SendOnceRequest<Content, string> => ({
    channel: 'sms',
    category: 'transactional',
    guardrails: true,
    prepare: () => ({ content: { to: '+15550001111', text }, transport: t }),
    log: { sent: 'test sent' },
    ...extra,
  })
  const row = async (id: string) => (await a.outbox()).find((r) => r.id === id)!

  it("sends once: a second attempt finds the row sent and sends nothing; the far side's id is recorded", async () => {
    const ctx = actionContext({}, { services: a.services, clock: a.clock, stepKey: `s${++step}` })
    const first = await sendOnce(ctx, request('hello', transport()))
    expect(first).toMatchObject({ kind: 'sent', possibleDuplicate: false })
    const second = await sendOnce(ctx, request('hello again', transport()))
    expect(second.kind).toBe('already_sent')
    // the first attempt's content is the message
    if (second.kind === 'already_sent') expect(second.message.text).toBe('hello')
    expect(handed.filter((m) => m.text.startsWith('hello'))).toHaveLength(1)
    if (first.kind === 'sent') expect(await row(first.row.id)).toMatchObject({ status: 'sent', messageId: 'far-1', error: null })
  })

  it('a row left `sending` by a crash is sent again, flagged a possible duplicate, without the guardrails', async () => {
    const ctx = actionContext({}, { services: a.services, clock: a.clock, stepKey: `s${++step}`, customer: { accepts_marketing: false } })
    const { message } = await a.services.messages.record({
      idempotencyKey: ctx.idempotencyKey,
      runId: ctx.run.id,
      stepKey: ctx.run.stepKey,
      workflowId: 'w',
      customerKey: 'cus_1',
      channel: 'sms',
      category: 'marketing',
      to: '+1555',
      text: 'crashed',
      status: 'queued',
    })
    await a.services.messages.update(message.id, { status: 'sending' })
    const out = await sendOnce(ctx, request('rendered again', transport(), { category: 'marketing' }))
    expect(out).toMatchObject({ kind: 'sent', possibleDuplicate: true, message: { text: 'crashed' } })
  })

  it('with no transport the outbox is the delivery', async () => {
    const ctx = actionContext({}, { services: a.services, clock: a.clock, stepKey: `s${++step}` })
    const out = await sendOnce(ctx, request('kept', null))
    expect(out.kind).toBe('kept_in_outbox')
    if (out.kind === 'kept_in_outbox') expect(await row(out.row.id)).toMatchObject({ status: 'sent', sentAt: '2026-06-10T12:00:00.000Z' })
  })

  it('a transport that cannot send this message fails the step and leaves the row as it was', async () => {
    const ctx = actionContext({}, { services: a.services, clock: a.clock, stepKey: `s${++step}` })
    const check = () => {
      throw new PermanentError('no sender', { reason: 'no_sender' })
    }
    await expect(sendOnce(ctx, request('unsendable', transport({ check })))).rejects.toMatchObject({ reason: 'no_sender' })
    expect((await a.outbox()).find((r) => r.text === 'unsendable')).toMatchObject({ status: 'queued' })
  })

  it('a refused hand-over puts the row back in the queue; a customer message without consent is skipped before it', async () => {
    const ctx = actionContext({}, { services: a.services, clock: a.clock, stepKey: `s${++step}` })
    const send = async () => {
      throw new RetryableError('busy')
    }
    await expect(sendOnce(ctx, request('refused', transport({ send })))).rejects.toThrow('busy')
    expect((await a.outbox()).find((r) => r.text === 'refused')).toMatchObject({ status: 'queued', error: 'busy' })

    const noConsent = actionContext({}, { services: a.services, clock: a.clock, stepKey: `s${++step}`, customer: { accepts_marketing: false } })
    await expect(sendOnce(noConsent, request('no consent', transport(), { category: 'marketing' }))).rejects.toBeInstanceOf(SkipStep)
    expect((await a.outbox()).find((r) => r.text === 'no consent')).toMatchObject({ status: 'skipped', error: 'no_consent' })
    // a team notification is not a customer message: no guardrails
    const team = actionContext({}, { services: a.services, clock: a.clock, stepKey: `s${++step}`, customer: { accepts_marketing: false } })
    expect((await sendOnce(team, request('team', transport(), { category: 'marketing', guardrails: false }))).kind).toBe('sent')
  })

  it('a dry run records nothing and asks for no transport', async () => {
    const ctx = actionContext({}, { services: a.services, clock: a.clock, stepKey: `s${++step}`, dryRun: true })
    const prepare = () => {
      throw new Error('a dry run prepared a message')
    }
    const before = (await a.outbox()).length
    expect(await sendOnce(ctx, { ...request('dry', transport()), prepare })).toEqual({ kind: 'dry_run' })
    expect(await a.outbox()).toHaveLength(before)
  })
})
