import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { parseEvent } from '../../src/contracts/events.ts'
import { buildServer } from '../../src/http/server.ts'
import { systemClock } from '../../src/lib/clock.ts'
import { createKey } from '../../src/store/stores.repo.ts'
import { DIALECTS, TEST_DATABASE_URL, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { everyStepInFlightHeld, processEnv, startStoreflow, waitFor, workerIdOf, type StoreflowProcess } from '../helpers/processes.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * The one window where an email can arrive twice: the SMTP server has the message, and the
 * sender learns nothing more (killed, or the connection broke) before the outbox says `sent`.
 * The product then sends it again with the same Message-ID and flags the step
 * `possible_duplicate: true` (src/core/messaging/ARCHITECTURE.md). These tests put sends in that
 * window on purpose, through a real SMTP server, and hold the product to its word both ways:
 * every step it flags arrived twice at the server, and every email that arrived twice is
 * flagged.
 */
const RUNS = 40

const WORKFLOW = `
id: batch-mail
name: Batch mail
trigger: { event: order.paid }
steps:
  - action: send_email
    id: mail
    with: { category: transactional, subject: 'Order {{ order.number }}', html: '<p>Thanks for order {{ order.number }}</p>' }
`

interface MailStep {
  id: string
  status: string
  attempts: number
  output?: { smtp_message_id: string; possible_duplicate: boolean; delivery: string }
}
interface RunView {
  id: string
  status: string
  steps: MailStep[]
}

function paid(i: number, now: Date) {
  const parsed = parseEvent(
    {
      id: `paid-${i}`,
      type: 'order.paid',
      data: { id: `o${i}`, number: `#${1000 + i}`, currency: 'USD', total_price: '10.00', customer: { id: `c${i}`, email: `c${i}@example.com` } },
    },
    { store: 'default', now },
  )
  if (!parsed.ok) throw new Error('bad fixture')
  return parsed.event
}

async function readApi(env: TestEnv): Promise<{ server: FastifyInstance; get<T>(url: string): Promise<T> }> {
  const server = await buildServer(env.app)
  const key = (await createKey(env.app.handle.db, 'default', 'read', env.app.clock.now())).key
  return {
    server,
    async get<T>(url: string) {
      const res = await server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
      if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`)
      return res.json() as T
    },
  }
}

describe.each(DIALECTS)('kill -9 of workers while the SMTP server holds their messages, on %s', { timeout: 180_000 }, (dialect) => {
  let env: TestEnv
  let smtp: SmtpSink & { messageIds: string[] }
  let workers: StoreflowProcess[] = []

  beforeAll(async () => {
    smtp = await startSmtpSink({ messageIdsOnly: true })
    env = await createTestEnv(dialect, { clock: systemClock as never, env: { SMTP_URL: smtp.url } })
  })
  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    smtp.release()
    await smtp.close()
    await env.cleanup()
  })

  it('the steps flagged possible_duplicate are exactly the emails the server received twice', async () => {
    const db = env.app.handle.db
    await installWorkflow(env.app, WORKFLOW)
    const now = new Date()
    await env.app.engine.ingest(
      Array.from({ length: RUNS }, (_, i) => paid(i, now)),
      { historical: false, source: 'test' },
    )
    const api = await readApi(env)
    const procEnv = await processEnv(db, env.config.dataDir, dialect, TEST_DATABASE_URL, { SMTP_URL: smtp.url, STOREFLOW_LEASE_MS: '1500' })
    const spawnWorkers = () => (dialect === 'postgres' ? [0, 1] : [0]).map(() => startStoreflow(['worker', '--concurrency', '4'], procEnv))
    const explain = (err: Error) =>
      new Error(
        `${err.message}: ${smtp.messageIds.length} mails received; worker output:\n${workers
          .map((w) => w.output())
          .join('\n')
          .slice(-3000)}`,
      )
    const runViews = async () =>
      Promise.all((await api.get<{ items: Array<{ id: string }> }>('/api/v1/runs?limit=500')).items.map((r) => api.get<RunView>(`/api/v1/runs/${r.id}`)))

    // A quarter of the emails go through; then the server keeps its answers back. Each message
    // it holds it has whole, so when the sender dies it delivers it: the sender cannot know.
    smtp.hold('delivered', { after: RUNS / 4 })
    workers = spawnWorkers()
    const owners = await Promise.all(workers.map((w) => workerIdOf(w)))
    await waitFor(
      'every send in flight to be held by the SMTP server',
      everyStepInFlightHeld(db, owners, () => smtp.held().length),
      90_000,
      10,
    ).catch((err: Error) => {
      throw explain(err)
    })
    for (const w of workers) await w.kill9()
    await waitFor('the server to see the senders gone', async () => smtp.held().length === 0, 10_000, 10)
    const cutOff = smtp.cutOff()
    const atKill = await runViews()
    const runOfMessage = new Map(
      (await api.get<{ items: Array<{ message_id: string; run_id: string; status: string }> }>('/api/v1/messages?limit=500')).items.map((m) => [
        m.message_id,
        m,
      ]),
    )

    smtp.release()
    workers = spawnWorkers()
    await waitFor(
      'all runs to complete',
      async () => (await api.get<{ items: unknown[] }>('/api/v1/runs?status=completed&limit=500')).items.length === RUNS,
      90_000,
      100,
    ).catch((err: Error) => {
      throw explain(err)
    })
    for (const w of workers) expect(await w.stop()).toBe(0)
    workers = []

    // the kill landed mid-send: the emails cut off belong to runs stopped inside their send, with
    // the outbox saying `sending`; the emails answered before the hold are recorded as sent;
    // other runs had not begun
    expect(cutOff.length).toBeGreaterThan(0)
    for (const id of cutOff) {
      const message = runOfMessage.get(id)!
      expect(message.status).toBe('sending')
      const run = atKill.find((r) => r.id === message.run_id)!
      expect(run.steps.map((s) => [s.id, s.status])).toEqual([['mail', 'running']])
    }
    expect(atKill.filter((r) => r.steps[0]?.status === 'completed')).toHaveLength(RUNS / 4)
    expect(atKill.filter((r) => r.steps.length === 0).length).toBeGreaterThan(0)

    // every step completed over SMTP, each with its own Message-ID
    const runs = await runViews()
    expect(runs).toHaveLength(RUNS)
    const steps = runs.map((r) => r.steps[0]!)
    expect(steps.every((s) => s.status === 'completed' && s.output?.delivery === 'smtp')).toBe(true)
    const expectedIds = new Set(steps.map((s) => s.output!.smtp_message_id))
    expect(expectedIds.size).toBe(RUNS)

    // at the server: every email arrived; flagged ⇔ received twice ⇔ cut off by the kill
    const deliveries = smtp.deliveries()
    expect(new Set(deliveries.keys())).toEqual(expectedIds)
    const twice = [...deliveries].filter(([, n]) => n > 1)
    for (const [, n] of twice) expect(n).toBe(2)
    const flagged = steps.filter((s) => s.output!.possible_duplicate).map((s) => s.output!.smtp_message_id)
    expect(new Set(flagged)).toEqual(new Set(twice.map(([id]) => id)))
    expect(new Set(flagged)).toEqual(new Set(cutOff))
    expect(smtp.messageIds).toHaveLength(RUNS + cutOff.length)

    // the outbox agrees: one row per step, all sent, with the step's Message-ID
    const messages = await api.get<{ items: Array<{ status: string; message_id: string }> }>('/api/v1/messages?limit=500')
    expect(messages.items.every((m) => m.status === 'sent')).toBe(true)
    expect(new Set(messages.items.map((m) => m.message_id))).toEqual(expectedIds)
    await api.server.close()
    console.info(
      `[messaging-crash ${dialect}] ${RUNS / 4} mails answered before the hold, ${cutOff.length} cut off by the kill, ${flagged.length} flagged, ${twice.length} received twice`,
    )
  })
})

describe.each(DIALECTS)('an email whose connection broke, then refused on the resend, on %s', (dialect) => {
  let env: TestEnv
  let smtp: SmtpSink & { messageIds: string[] }
  beforeEach(async () => {
    smtp = await startSmtpSink({ messageIdsOnly: true })
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url } })
  })
  afterEach(async () => {
    await env.cleanup()
    // the pooled connection to this test's server would keep the server's close waiting
    closeSmtpTransports()
    await smtp.close()
  })

  it('is flagged possible_duplicate when the server ends up with two copies', async () => {
    await installWorkflow(env.app, WORKFLOW)
    await env.app.engine.ingest([paid(1, env.clock.now())], { historical: false, source: 'test' })
    const api = await readApi(env)
    // attempt 1: the server takes the message and the connection breaks before its answer;
    // attempt 2 (a resend, it may be a copy): the server answers 451, try later;
    // attempt 3: accepted
    smtp.dropConnectionAfterData(1)
    smtp.refuse({ code: 451, message: 'try again later' })
    for (let i = 0; i < 3; i++) {
      await env.app.engine.drain()
      env.clock.advance(10 * 60_000)
    }
    const [run] = (await api.get<{ items: Array<{ id: string }> }>('/api/v1/runs')).items
    const view = await api.get<RunView>(`/api/v1/runs/${run!.id}`)
    await api.server.close()
    expect(view.status).toBe('completed')
    const step = view.steps[0]!
    expect(step.attempts).toBe(3)
    expect(smtp.attempts()).toBe(3)
    // the server received the first attempt's copy and the third's: the same Message-ID twice
    expect(smtp.deliveries().get(step.output!.smtp_message_id)).toBe(2)
    expect(smtp.messageIds).toHaveLength(2)
    expect(step.output!.possible_duplicate).toBe(true)
  })
})
