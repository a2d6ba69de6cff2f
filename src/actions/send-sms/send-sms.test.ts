import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DeferStep, PermanentError, RetryableError, type SkipStep } from '../../plugin-api/index.ts'
import { actionContext, actionEnv, type ActionEnv } from '../../../test/helpers/action-context.ts'
import { DIALECTS } from '../../../test/helpers/dialects.ts'
import { createSendSmsAction, smsConfig, type SendSmsInput } from './index.ts'

interface Received {
  path: string
  authorization: string | undefined
  form: URLSearchParams
}

let server: Server
let base: string
let received: Received[] = []
let answers: Array<{ status: number; body: string; headers?: Record<string, string> }> = []

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const answer = answers.shift()
      if (answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body)
        return
      }
      received.push({ path: req.url ?? '', authorization: req.headers.authorization, form: new URLSearchParams(Buffer.concat(chunks).toString()) })
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `SM${received.length}`, status: 'queued' }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

beforeEach(() => {
  received = []
  answers = []
})

function action() {
  return createSendSmsAction({
    config: () =>
      smsConfig({
        STOREFLOW_SMS_URL: `${base.replace('http://', 'http://AC123:s3cret@')}/2010-04-01/Accounts/AC123/Messages.json`,
        STOREFLOW_SMS_FROM: '+15550009999',
      }),
  })
}

const input: SendSmsInput = { body: 'Hi {{ customer.first_name }}, your cart is waiting.', category: 'marketing' }

describe.each(DIALECTS)('send_sms on the %s outbox', (dialect) => {
  let a: ActionEnv | undefined
  afterEach(async () => {
    await a?.cleanup()
    a = undefined
  })
  /** the action's services over a fresh database */
  async function setup() {
    a = await actionEnv(dialect, { at: '2026-06-10T12:00:00Z' })
    return { clock: a.clock, services: a.services }
  }
  const outbox = () => a!.outbox()

  it('posts a Twilio-style form with basic auth from the URL', async () => {
    const { clock, services } = await setup()
    const out = await action().run(actionContext(input, { services, clock }))
    expect(out).toMatchObject({ status: 'sent', delivery: 'provider', provider_id: 'SM1', to: '+15550001111' })
    expect(received).toHaveLength(1)
    const req = received[0]!
    expect(req.path).toBe('/2010-04-01/Accounts/AC123/Messages.json')
    expect(req.authorization).toBe(`Basic ${Buffer.from('AC123:s3cret').toString('base64')}`)
    expect(Object.fromEntries(req.form)).toEqual({ To: '+15550001111', From: '+15550009999', Body: 'Hi Ada, your cart is waiting.' })
    expect((await outbox())[0]).toMatchObject({ channel: 'sms', status: 'sent', messageId: 'SM1' })
  })

  it("sends a customer's text as typed: an SMS is not HTML, so nothing is escaped", async () => {
    const { clock, services } = await setup()
    const name = 'Tom & "Jerry" <3'
    const out = await action().run(actionContext(input, { services, clock, customer: { first_name: name } }))
    expect(received[0]!.form.get('Body')).toBe(`Hi ${name}, your cart is waiting.`)
    expect(out.body).toBe(`Hi ${name}, your cart is waiting.`)
  })

  it('retries on 429 and 5xx, sending exactly once', async () => {
    const { clock, services } = await setup()
    answers = [
      { status: 429, body: '{"message":"Too many requests"}', headers: { 'retry-after': '30' } },
      { status: 503, body: 'down' },
    ]
    const errors: unknown[] = []
    let out: Awaited<ReturnType<ReturnType<typeof createSendSmsAction>['run']>> | undefined
    for (let attempt = 1; attempt <= 4 && !out; attempt++) {
      try {
        out = await action().run(actionContext(input, { services, clock, attempt }))
      } catch (err) {
        errors.push(err)
      }
    }
    expect(errors.map((e) => e instanceof RetryableError)).toEqual([true, true])
    expect((errors[0] as RetryableError).retryAfterMs).toBe(30_000)
    expect(out?.possible_duplicate).toBe(false)
    expect(received).toHaveLength(1)
    const again = await action().run(actionContext(input, { services, clock }))
    expect(again.already_sent).toBe(true)
    expect(received).toHaveLength(1)
  })

  it('fails permanently on other 4xx with the provider reply', async () => {
    const { clock, services } = await setup()
    answers = [{ status: 400, body: '{"code":21211,"message":"Invalid To number"}' }]
    const err = await action()
      .run(actionContext(input, { services, clock }))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as Error).message).toContain('Invalid To number')
    expect((await outbox())[0]!.status).toBe('failed')
  })

  it('applies consent, cap and quiet hours to marketing texts', async () => {
    const { clock, services } = await setup()
    const noConsent = await action()
      .run(actionContext(input, { services, clock, customer: { accepts_marketing: false } }))
      .catch((e: unknown) => e)
    expect((noConsent as SkipStep).reason).toBe('no_consent')
    await action().run(actionContext(input, { services, clock, runId: 'r2' }))
    const capped = await action()
      .run(actionContext(input, { services, clock, runId: 'r3' }))
      .catch((e: unknown) => e)
    expect((capped as SkipStep).reason).toBe('frequency_cap')
    clock.set('2026-06-11T22:00:00Z')
    const night = await action()
      .run(actionContext(input, { services, clock, runId: 'r4' }))
      .catch((e: unknown) => e)
    expect(night).toBeInstanceOf(DeferStep)
    const tx = await action().run(actionContext({ ...input, category: 'transactional' as const }, { services, clock, runId: 'r5' }))
    expect(tx.status).toBe('sent')
    expect(received).toHaveLength(2)
  })

  it('keeps texts in the outbox without a provider, and renders only in a dry run', async () => {
    const { clock, services } = await setup()
    const noProvider = createSendSmsAction({ config: () => null })
    const out = await noProvider.run(actionContext(input, { services, clock }))
    expect(out).toMatchObject({ delivery: 'outbox', status: 'sent' })
    const dry = await action().run(actionContext(input, { services, clock, runId: 'r9', dryRun: true }))
    expect(dry).toMatchObject({ status: 'rendered', body: 'Hi Ada, your cart is waiting.' })
    expect(received).toHaveLength(0)
  })

  it('validates its examples', () => {
    const a = action()
    for (const example of a.examples ?? []) expect(a.input.safeParse(example).success).toBe(true)
  })
})
