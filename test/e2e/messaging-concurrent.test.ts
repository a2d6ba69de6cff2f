import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { parseEvent } from '../../src/contracts/events.ts'
import { Worker } from '../../src/engine/worker.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { waitFor } from '../helpers/processes.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * Many sends in flight at once through the pooled SMTP connections, counted at a real SMTP
 * server: every step's email arrives exactly once, with its own Message-ID, whatever order the
 * answers come back in; a refusal among them goes to its own step and is retried cleanly.
 */
const RUNS = 60
const REFUSED = 3

const WORKFLOW = `
id: receipts
name: Receipts
trigger: { event: order.paid }
steps:
  - action: send_email
    id: receipt
    with:
      category: transactional
      subject: 'Receipt {{ order.number }}'
      html: '<p>Thanks for order {{ order.number }}, {{ customer.first_name }}</p>'
  - action: tag_customer
    id: tagged
    with: { tags: [receipt-sent] }
`

function paid(i: number, now: Date, email = `c${i}@example.com`) {
  const parsed = parseEvent(
    {
      id: `paid-${i}`,
      type: 'order.paid',
      data: {
        id: `o${i}`,
        number: `#${1000 + i}`,
        currency: 'USD',
        total_price: '10.00',
        customer: { id: `c${i}`, email, first_name: `Ada${i}` },
      },
    },
    { store: 'default', now },
  )
  if (!parsed.ok) throw new Error('bad fixture')
  return parsed.event
}

interface StepRow {
  run_id: string
  step_id: string
  status: string
  attempts: number
  output: unknown
}

describe.each(DIALECTS)('concurrent sends to one SMTP server, on %s', { timeout: 120_000 }, (dialect) => {
  let smtp: SmtpSink & { messageIds: string[] }
  let env: TestEnv | undefined
  let worker: Worker | undefined

  beforeAll(async () => {
    smtp = await startSmtpSink({ messageIdsOnly: true })
  })
  afterEach(async () => {
    // a test that failed while the server held its answers: a worker waits for them to stop
    smtp.release()
    await worker?.stop()
    await env?.cleanup()
  })
  afterAll(async () => {
    closeSmtpTransports()
    await smtp.close()
  })

  it('delivers every email exactly once, each with its step’s Message-ID, and retries the refused ones cleanly', async () => {
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url } })
    await installWorkflow(env.app, WORKFLOW)
    const now = env.clock.now()
    await env.app.engine.ingest(
      Array.from({ length: RUNS }, (_, i) => paid(i, now)),
      { historical: false, source: 'test' },
    )
    smtp.refuse(...Array.from({ length: REFUSED }, () => ({ code: 451, message: 'try again later' })))
    worker = new Worker(env.app.engine, silentLogger, { pollMs: 5, concurrency: 8, scheduleEveryMs: 0 })
    worker.start()
    await waitFor('the first attempts to be answered', async () => smtp.attempts() >= RUNS && smtp.messageIds.length === RUNS - REFUSED, 60_000, 20)
    // the refused sends wait for their retry; let it fall due
    env.clock.advance(60 * 60_000)
    await waitFor('every email to arrive', async () => smtp.messageIds.length >= RUNS, 60_000, 20)
    const db = env.app.handle.db
    await waitFor(
      'every run to complete',
      async () => (await db.selectFrom('runs').select('id').where('status', '=', 'completed').execute()).length === RUNS,
      60_000,
      20,
    )
    await worker.stop()
    worker = undefined

    const steps = (await db.selectFrom('run_steps').select(['run_id', 'step_id', 'status', 'attempts', 'output']).execute()) as StepRow[]
    const receipts = steps.filter((s) => s.step_id === 'receipt')
    expect(receipts).toHaveLength(RUNS)
    expect(steps.filter((s) => s.step_id === 'tagged' && s.status === 'completed')).toHaveLength(RUNS)
    const outputs = receipts.map((s) => (typeof s.output === 'string' ? JSON.parse(s.output) : s.output) as Record<string, unknown>)
    expect(outputs.every((o) => o.delivery === 'smtp' && o.possible_duplicate === false && o.already_sent === false)).toBe(true)
    expect(receipts.filter((s) => s.attempts === 2)).toHaveLength(REFUSED)
    expect(receipts.filter((s) => s.attempts === 1)).toHaveLength(RUNS - REFUSED)

    // at the server: each step's Message-ID exactly once, nothing else
    const expected = new Set(outputs.map((o) => o.smtp_message_id as string))
    expect(expected.size).toBe(RUNS)
    expect(smtp.messageIds).toHaveLength(RUNS)
    expect(new Set(smtp.messageIds)).toEqual(expected)
    expect([...smtp.deliveries().values()].every((n) => n === 1)).toBe(true)

    const messages = await db.selectFrom('messages').select(['status', 'message_id']).execute()
    expect(messages.every((m) => m.status === 'sent')).toBe(true)
    expect(new Set(messages.map((m) => m.message_id))).toEqual(expected)
  })

  it('runs cancelled while their emails are in flight stay cancelled; the others sending beside them complete', async () => {
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url } })
    const db = env.app.handle.db
    await installWorkflow(env.app, WORKFLOW)
    const count = 12
    await env.app.engine.ingest(
      Array.from({ length: count }, (_, i) => paid(100 + i, env!.clock.now())),
      { historical: false, source: 'test' },
    )
    const before = smtp.messageIds.length
    // every run started before the worker claims: a router under load routes a batch at a time (its
    // time budget), and a tick that claimed only the first runs waits on their held sends before it
    // claims more, so fewer than two sends might ever be in flight
    await env.app.engine.catchUp('default')
    expect(await db.selectFrom('runs').select('id').execute()).toHaveLength(count)
    // the server keeps every answer back, so the sends stay in flight while two runs are cancelled
    smtp.hold('delivered')
    worker = new Worker(env.app.engine, silentLogger, { pollMs: 5, concurrency: 8, scheduleEveryMs: 0 })
    worker.start()
    await waitFor('sends to be held by the server', async () => smtp.held().length >= 2, 60_000, 10).catch(async (err: Error) => {
      const steps = await db.selectFrom('run_steps').select(['run_id', 'status', 'attempts', 'error']).execute()
      throw new Error(`${err.message}: ${smtp.held().length} held, ${smtp.attempts()} DATA commands; steps: ${JSON.stringify(steps)}`)
    })
    const sending = await waitFor(
      'two runs with their send under way',
      async () => {
        const rows = await db.selectFrom('run_steps').select('run_id').where('step_id', '=', 'receipt').where('status', '=', 'running').execute()
        return rows.length >= 2 ? rows.slice(0, 2).map((r) => r.run_id) : null
      },
      60_000,
      10,
    )
    for (const runId of sending) await env.app.services.runs.cancel('default', runId)
    smtp.release()
    await waitFor(
      'the other runs to complete',
      async () => (await db.selectFrom('runs').select('id').where('status', '=', 'completed').execute()).length === count - sending.length,
      60_000,
      20,
    )
    await waitFor('every email to arrive', async () => smtp.messageIds.length - before >= count, 60_000, 20)
    await worker.stop()
    worker = undefined

    const runs = await db.selectFrom('runs').select(['id', 'status']).execute()
    expect(runs.filter((r) => sending.includes(r.id)).map((r) => r.status)).toEqual(['cancelled', 'cancelled'])
    const tagged = await db.selectFrom('run_steps').select('run_id').where('step_id', '=', 'tagged').execute()
    expect(tagged).toHaveLength(count - sending.length)
    expect(tagged.some((t) => sending.includes(t.run_id))).toBe(false)
    // every email left once, the cancelled runs' too: they were on the wire when the runs ended
    const arrived = smtp.messageIds.slice(before)
    expect(arrived).toHaveLength(count)
    expect(new Set(arrived).size).toBe(count)
    const messages = await db.selectFrom('messages').select(['status']).execute()
    expect(messages.filter((m) => m.status === 'sent')).toHaveLength(count)
  })

  /**
   * The held mail answered: every run completes (the held one too), the worker stops, and each of
   * the `runs` mails arrived once since `before`.
   */
  async function releaseThenEveryMailOnce(runs: number, before: number): Promise<void> {
    const db = env!.app.handle.db
    smtp.release()
    await waitFor(
      'every run to complete once the held send is answered',
      async () => (await db.selectFrom('runs').select('id').where('status', '=', 'completed').execute()).length === runs,
      30_000,
      20,
    )
    await worker!.stop()
    worker = undefined
    const arrived = smtp.messageIds.slice(before)
    expect(arrived).toHaveLength(runs)
    expect(new Set(arrived).size).toBe(runs)
  }

  it('a send the server keeps waiting does not hold up the other runs of its batch', async () => {
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url } })
    const db = env.app.handle.db
    await installWorkflow(env.app, WORKFLOW)
    const before = smtp.messageIds.length
    const others = 5
    // every run routed before the worker starts, so its first tick claims them together: each
    // sends its receipt in the same round, then tags its customer in the next
    await env.app.engine.ingest(
      [paid(300, env.clock.now(), 'slow@example.com'), ...Array.from({ length: others }, (_, i) => paid(301 + i, env!.clock.now()))],
      { historical: false, source: 'test' },
    )
    await env.app.engine.catchUp('default')
    smtp.hold('delivered', { to: 'slow@example.com' })
    worker = new Worker(env.app.engine, silentLogger, { pollMs: 5, concurrency: 8, scheduleEveryMs: 0, lateAfterMs: 200 })
    worker.start()
    await waitFor('the slow send to be held by the server', async () => smtp.held().length === 1, 60_000, 10)
    await waitFor(
      'the other runs to tag their customers and complete while the slow send is held',
      async () => (await db.selectFrom('runs').select('id').where('status', '=', 'completed').execute()).length === others,
      30_000,
      20,
    ).catch(async (err: Error) => {
      const runs = await db.selectFrom('runs').select(['status']).execute()
      throw new Error(`${err.message}: runs ${JSON.stringify(runs.map((r) => r.status))}, ${smtp.messageIds.length - before} arrived`)
    })
    expect(smtp.held()).toHaveLength(1)
    const tagged = await db.selectFrom('run_steps').select('run_id').where('step_id', '=', 'tagged').where('status', '=', 'completed').execute()
    expect(tagged).toHaveLength(others)

    await releaseThenEveryMailOnce(others + 1, before)
    // the late run went on alone: its tag step once, like the others
    expect(await db.selectFrom('run_steps').select('run_id').where('step_id', '=', 'tagged').where('status', '=', 'completed').execute()).toHaveLength(
      others + 1,
    )
  })
})
