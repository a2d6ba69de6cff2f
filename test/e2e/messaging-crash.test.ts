import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { parseEvent } from '../../src/contracts/events.ts'
import { buildServer } from '../../src/http/server.ts'
import { systemClock } from '../../src/lib/clock.ts'
import { createKey } from '../../src/store/stores.repo.ts'
import { DIALECTS, TEST_DATABASE_URL, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { everyStepInFlightHeld, processEnv, startStoreflow, waitFor, whileStopped, workerIdOf, type StoreflowProcess } from '../helpers/processes.ts'
import { startSmtpSink, type CopyFate, type SmtpSink } from '../helpers/smtp-sink.ts'
import type { Database } from '../../src/store/tables.ts'
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

/** Each email's outbox row and its run's step and lease, as the database has them now: what a failure is explained by. */
async function mailLedger(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('messages')
    .innerJoin('runs', 'runs.id', 'messages.run_id')
    .leftJoin('run_steps', 'run_steps.run_id', 'messages.run_id')
    .select([
      'messages.message_id',
      'messages.run_id',
      'messages.status',
      'messages.handovers',
      'messages.handovers_cut',
      'messages.error',
      'run_steps.attempts',
      'run_steps.status as step_status',
      'runs.lease_owner',
    ])
    .execute()
  return new Map(rows.map((r) => [r.message_id ?? r.run_id!, r]))
}

/** Each run with its step, lease and due time, one line each: where the runs stood. */
async function runLedger(db: Kysely<Database>, ownerName: (owner: string | null) => string): Promise<string> {
  const rows = await db
    .selectFrom('runs')
    .leftJoin('run_steps', 'run_steps.run_id', 'runs.id')
    .select([
      'runs.id',
      'runs.status',
      'runs.due_at',
      'runs.lease_owner',
      'runs.lease_until',
      'run_steps.status as step_status',
      'run_steps.attempts',
      'run_steps.error',
    ])
    .orderBy('runs.id')
    .execute()
  return rows
    .map(
      (r) =>
        `${r.id} ${r.status} due ${r.due_at ?? '-'} lease ${ownerName(r.lease_owner)} until ${r.lease_until ?? '-'}; step ${r.step_status ?? 'none'} attempt ${r.attempts ?? 0}${r.error ? ` error ${r.error}` : ''}`,
    )
    .join('\n')
}

describe.each(DIALECTS)('kill -9 of workers while the SMTP server holds their messages, on %s', { timeout: 180_000 }, (dialect) => {
  let env: TestEnv
  let smtp: SmtpSink & { messageIds: string[]; fates: CopyFate[] }
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
    const procEnv = await processEnv(db, env.config.dataDir, dialect, TEST_DATABASE_URL, {
      SMTP_URL: smtp.url,
      STOREFLOW_LEASE_MS: '1500',
      STOREFLOW_LOG_LEVEL: 'info',
    })
    const spawnWorkers = () => {
      const started = (dialect === 'postgres' ? [0, 1] : [0]).map(() => startStoreflow(['worker', '--concurrency', '4'], procEnv))
      everyWorker.push(...started)
      return started
    }
    const everyWorker: StoreflowProcess[] = []
    const explain = (err: Error) =>
      new Error(
        `${err.message}: ${smtp.messageIds.length} mails received; worker output:\n${everyWorker
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
    // checked again with the workers stopped (SIGSTOP), and killed stopped: a worker between two
    // runs, or one claiming a run routed late, would otherwise begin a send after the check passed
    // and before the kill, which could land after the outbox says `sending` and before the server
    // has the message (flagged, yet received once)
    await waitFor(
      'every send in flight to be held by the SMTP server',
      whileStopped(
        workers,
        everyStepInFlightHeld(db, owners, () => smtp.held().length),
      ),
      90_000,
      10,
    ).catch((err: Error) => {
      throw explain(err)
    })
    const heldAtCheck = smtp.held()
    for (const w of workers) await w.kill9()
    await waitFor('the server to see the senders gone', async () => smtp.held().length === 0, 10_000, 10)
    const cutOff = smtp.cutOff()
    const ledgerAtKill = await mailLedger(db)
    const ownerName = (owner: string | null | undefined) => (owner ? `worker ${owners.indexOf(owner)} (${owner})` : 'none')
    const runsAtKill = await runLedger(db, ownerName)
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

    // on failure, each email in question as it stood at the kill and at the end, and its copies at the server
    const ledgerAtEnd = await mailLedger(db)
    const fates = new Map<string, string[]>()
    for (const [i, id] of smtp.messageIds.entries()) fates.set(id, [...(fates.get(id) ?? []), smtp.fates[i]!])
    const story = (ids: Iterable<string>) =>
      [...new Set(ids)]
        .map((id) => {
          const kill = ledgerAtKill.get(id)
          const end = ledgerAtEnd.get(id)
          return `${id}: at kill ${kill ? `${kill.status} handovers ${kill.handovers} cut ${kill.handovers_cut} step ${kill.step_status} attempt ${kill.attempts} lease ${ownerName(kill.lease_owner)}` : 'no row'}; held at the check ${heldAtCheck.includes(id)}, cut off ${cutOff.includes(id)}; at end ${end ? `${end.status} handovers ${end.handovers} cut ${end.handovers_cut} error ${end.error ?? '-'} step attempts ${end.attempts}` : 'no row'}; copies at the server: ${(fates.get(id) ?? []).join(', ') || 'none'}`
        })
        .join('\n')
    const diagnosis = (ids: Iterable<string>) =>
      `\n${story(ids)}\nheld at the check: ${heldAtCheck.length}; the runs at the kill:\n${runsAtKill}\nworker output:\n${everyWorker
        .map((w, i) => `--- worker process ${i}\n${w.output().slice(-4000)}`)
        .join('\n')}`

    // the kill landed mid-send: the emails cut off belong to runs stopped inside their send, with
    // the outbox saying `sending`; the emails answered before the hold are recorded as sent;
    // other runs had not begun (or were not routed yet). No other email was in the window.
    expect(cutOff.length).toBeGreaterThan(0)
    const sendingAtKill = [...ledgerAtKill.values()].filter((r) => r.status === 'sending').map((r) => r.message_id!)
    expect(new Set(sendingAtKill), diagnosis([...sendingAtKill, ...cutOff])).toEqual(new Set(cutOff))
    for (const id of cutOff) {
      const message = runOfMessage.get(id)!
      expect(message.status, diagnosis([id])).toBe('sending')
      const run = atKill.find((r) => r.id === message.run_id)!
      expect(
        run.steps.map((s) => [s.id, s.status]),
        diagnosis([id]),
      ).toEqual([['mail', 'running']])
    }
    expect(
      atKill.filter((r) => r.steps[0]?.status === 'completed'),
      diagnosis(cutOff),
    ).toHaveLength(RUNS / 4)
    expect(RUNS - atKill.filter((r) => r.steps.length > 0).length, diagnosis(cutOff)).toBeGreaterThan(0)

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
    const flagged = steps.filter((s) => s.output!.possible_duplicate).map((s) => s.output!.smtp_message_id)
    for (const [id, n] of twice) expect(n, diagnosis([id])).toBe(2)
    const inQuestion = () =>
      diagnosis([
        ...flagged,
        ...twice.map(([id]) => id),
        ...cutOff,
        ...[...ledgerAtKill.values()].filter((r) => r.status === 'sending').map((r) => r.message_id!),
      ])
    expect(new Set(flagged), inQuestion()).toEqual(new Set(twice.map(([id]) => id)))
    expect(new Set(flagged), inQuestion()).toEqual(new Set(cutOff))
    expect(smtp.messageIds, inQuestion()).toHaveLength(RUNS + cutOff.length)

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
