import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseEvent } from '../../src/contracts/events.ts'
import { buildServer } from '../../src/http/server.ts'
import { systemClock } from '../../src/lib/clock.ts'
import { createKey, updateSettings } from '../../src/store/stores.repo.ts'
import { DIALECTS, TEST_DATABASE_URL, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts'
import { processEnv, startStoreflow, waitFor, workerIdOf, type StoreflowProcess } from '../helpers/processes.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * The cap is one marketing message per customer per 16 h across all workflows. Three workflows
 * started by the same event send in the same worker batch: one goes out.
 */
describe.each(DIALECTS)('frequency cap across workflows in one worker batch on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  it('four workflows sending marketing mail and texts at once: one is sent, three are skipped by the cap', async () => {
    for (const name of ['promo-a', 'promo-b', 'promo-c']) {
      await installWorkflow(
        env.app,
        `
id: ${name}
name: ${name}
trigger: { event: order.paid }
steps:
  - action: send_email
    with: { subject: '${name}', html: '<p>{{ customer.first_name }}, a treat for you</p>' }
`,
      )
    }
    // the cap is per customer across channels: a marketing text counts too
    await installWorkflow(
      env.app,
      `
id: promo-sms
name: promo-sms
trigger: { event: order.paid }
steps:
  - action: send_sms
    with: { body: 'A treat for you, {{ customer.first_name }}' }
`,
    )
    const parsed = parseEvent(
      {
        id: 'p1',
        type: 'order.paid',
        data: {
          id: 'o1',
          currency: 'USD',
          total_price: '20.00',
          customer: { id: 'c1', email: 'c1@example.com', phone: '+15550100', first_name: 'Cy', accepts_marketing: true },
        },
      },
      { store: 'default', now: env.clock.now() },
    )
    if (!parsed.ok) throw new Error('fixture')
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()

    const messages = await env.app.handle.db.selectFrom('messages').select(['subject', 'status', 'error']).orderBy('subject').execute()
    expect(messages.filter((m) => m.status === 'sent')).toHaveLength(1)
    expect(messages.filter((m) => m.status === 'skipped').map((m) => m.error)).toEqual(['frequency_cap', 'frequency_cap', 'frequency_cap'])
    const steps = await env.app.handle.db.selectFrom('run_steps').select(['status', 'output']).execute()
    expect(steps.map((s) => s.status).sort()).toEqual(['completed', 'skipped', 'skipped', 'skipped'])

    // a day later (past the 16 h cap, and outside quiet hours) the next marketing message may go
    env.clock.advance(24 * 3600_000)
    const again = parseEvent(
      { id: 'p2', type: 'order.paid', data: { id: 'o2', currency: 'USD', total_price: '20.00', customer: { id: 'c1' } } },
      { store: 'default', now: env.clock.now() },
    )
    if (!again.ok) throw new Error('fixture')
    await env.app.engine.ingest([again.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
    expect(await env.app.handle.db.selectFrom('messages').select('id').where('status', '=', 'sent').execute()).toHaveLength(2)
  })
})

/**
 * Two `storeflow worker` processes on one database, each holding a run of a different workflow
 * for the same customer, let go at the same instant to send marketing mail. The runs are pinned
 * to the processes by an HTTP call before the send, which the receiver holds: a worker waiting
 * on a call claims nothing else, so the second run can only be taken by the other process. The
 * SMTP server holds the first message that comes, so the other send finds no mail `sent` yet and
 * must be stopped by the cap's atomic reservation alone (ARCHITECTURE.md invariant 17).
 */
describe.each(DIALECTS)('frequency cap raced by two worker processes on %s', { timeout: 150_000 }, (dialect) => {
  let env: TestEnv
  let smtp: SmtpSink & { messageIds: string[] }
  let hook: HttpReceiver
  let workers: StoreflowProcess[] = []
  beforeAll(async () => {
    smtp = await startSmtpSink()
    hook = await startHttpReceiver()
    env = await createTestEnv(dialect, { clock: systemClock as never, env: { SMTP_URL: smtp.url } })
  })
  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    smtp.release()
    hook.release()
    await hook.close()
    await smtp.close()
    await env.cleanup()
  })

  it('two workflows sending marketing mail to one customer from two processes at once: the SMTP server receives one', async () => {
    const db = env.app.handle.db
    const promo = (id: string, trigger: string) => `
id: ${id}
name: ${id}
trigger: { event: ${trigger} }
steps:
  - action: http_request
    id: ping
    with: { url: '${hook.url}/${id}', body: { promo: '${id}' }, timeout: 120s }
  - action: send_email
    id: mail
    with: { subject: '${id}', html: '<p>{{ customer.first_name }}, a treat for you</p>' }
`
    await installWorkflow(env.app, promo('promo-a', 'order.paid'))
    await installWorkflow(env.app, promo('promo-b', 'customer.updated'))
    // real time in the processes: no quiet hours; the cap as documented
    await updateSettings(db, 'default', { quiet_hours: null, frequency_cap: '16h' })
    const procEnv = await processEnv(db, env.config.dataDir, dialect, TEST_DATABASE_URL, {
      SMTP_URL: smtp.url,
      STOREFLOW_ALLOW_PRIVATE_HTTP: '1',
      STOREFLOW_LOG_LEVEL: 'info',
    })
    hook.hold()
    workers = [0, 1].map(() => startStoreflow(['worker', '--concurrency', '2'], procEnv))
    const ids = await Promise.all(workers.map((w) => workerIdOf(w)))
    const explain = (err: Error) =>
      new Error(
        `${err.message}\nworker output:\n${workers
          .map((w) => w.output())
          .join('\n')
          .slice(-4000)}`,
      )
    const ingest = async (raw: { id: string; type: string; data: Record<string, unknown> }) => {
      const parsed = parseEvent(raw, { store: 'default', now: new Date() })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
      // the workers' routers start the run
      let runId: string | undefined
      await waitFor(
        `the run of ${raw.id}`,
        async () => {
          runId = (await db.selectFrom('runs').select('id').where('trigger_event_id', '=', raw.id).executeTakeFirst())?.id
          return runId !== undefined
        },
        90_000,
        10,
      )
      return runId!
    }
    const customer = { id: 'c1', email: 'c1@example.com', first_name: 'Cy', accepts_marketing: true }
    const leaseOwner = async (runId: string) =>
      (await db.selectFrom('runs').select('lease_owner').where('id', '=', runId).executeTakeFirstOrThrow()).lease_owner

    // run A is taken by one process and waits in its call; run B can then only go to the other
    const runA = await ingest({ id: 'paid-1', type: 'order.paid', data: { id: 'o1', currency: 'USD', total_price: '20.00', customer } })
    await waitFor('run A to call', async () => hook.held().length === 1, 90_000, 10).catch((err: Error) => {
      throw explain(err)
    })
    const runB = await ingest({ id: 'upd-1', type: 'customer.updated', data: customer })
    await waitFor('run B to call', async () => hook.held().length === 2, 90_000, 10).catch((err: Error) => {
      throw explain(err)
    })
    // both runs in flight at once, each leased to a different live process
    const owners = [await leaseOwner(runA), await leaseOwner(runB)]
    expect(new Set(owners).size).toBe(2)
    expect(owners.every((o) => ids.includes(o!))).toBe(true)

    // let both go at the same instant; the first message to reach the server stays there
    smtp.hold('delivered')
    hook.release()
    const skipped = async () =>
      Number(
        (
          await db
            .selectFrom('run_steps')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('step_id', '=', 'mail')
            .where('status', '=', 'skipped')
            .executeTakeFirstOrThrow()
        ).n,
      )
    await waitFor('both sends to be decided', async () => smtp.held().length + (await skipped()) === 2, 90_000, 10).catch((err: Error) => {
      throw explain(err)
    })
    smtp.release()
    await waitFor(
      'both runs to complete',
      async () => (await db.selectFrom('runs').select('id').where('status', '=', 'completed').execute()).length === 2,
      90_000,
      50,
    ).catch((err: Error) => {
      throw explain(err)
    })
    for (const w of workers) expect(await w.stop()).toBe(0)
    const outputs = workers.map((w) => w.output())
    workers = []

    // at the SMTP server: one marketing mail for the customer
    expect(smtp.received).toHaveLength(1)
    expect(smtp.received[0]!.to).toMatchObject({ text: 'c1@example.com' })

    // on the timelines: one step sent it, the other was stopped by the cap
    const server = await buildServer(env.app)
    const key = (await createKey(db, 'default', 'read', new Date())).key
    const mailStep = async (runId: string) => {
      const res = await server.inject({ method: 'GET', url: `/api/v1/runs/${runId}`, headers: { authorization: `Bearer ${key}` } })
      return (res.json() as { steps: Array<{ id: string; status: string; output?: { reason?: string; smtp_message_id?: string } }> }).steps.find(
        (s) => s.id === 'mail',
      )!
    }
    const steps = [await mailStep(runA), await mailStep(runB)]
    await server.close()
    expect(steps.map((s) => s.status).sort()).toEqual(['completed', 'skipped'])
    const sent = steps.find((s) => s.status === 'completed')!
    expect(sent.output!.smtp_message_id).toBe(smtp.messageIds[0])
    expect(steps.find((s) => s.status === 'skipped')!.output!.reason).toBe('frequency_cap')

    // each decision was taken once, across both processes: one logged the email sent, one the cap.
    // (Which process decides is not fixed: under load, a run whose write met SQLite's lock is let
    // go and may be finished by the other process; both were in flight at once, as shown above.)
    const [sentRun, skippedRun] = steps[0]!.status === 'completed' ? [runA, runB] : [runB, runA]
    const logged = (runId: string, msg: string) =>
      outputs.flatMap((out) => out.split('\n')).filter((line) => line.includes(`"runId":"${runId}"`) && line.includes(`"msg":"${msg}"`)).length
    expect([logged(sentRun, 'email sent'), logged(skippedRun, 'message skipped by guardrail')]).toEqual([1, 1])
    expect(logged(skippedRun, 'email sent') + logged(sentRun, 'message skipped by guardrail')).toBe(0)
  })
})
