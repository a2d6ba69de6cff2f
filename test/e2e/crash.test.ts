import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/lib/clock.ts'
import { createKey, updateSettings } from '../../src/store/stores.repo.ts'
import { DIALECTS, TEST_DATABASE_URL, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts'
import {
  everyStepInFlightHeld,
  whileStopped,
  processEnv,
  stepsInFlight,
  type StepInFlight,
  startServe,
  startStoreflow,
  waitFor,
  workerIdOf,
  type StoreflowProcess,
} from '../helpers/processes.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * Real processes, real SIGKILL, effects counted outside the product.
 *
 * Two API nodes (`storeflow serve --no-worker`) take events over HTTP from a client that posts
 * each until it gets a 2xx; the node taking the traffic is killed mid-stream. Workers
 * (`storeflow worker`, two on PostgreSQL) run each event's workflow: an email over real SMTP,
 * an emitted event, an HTTP call, a tag. They are killed twice, each time when every step in
 * flight is in the hands of the SMTP sink or the HTTP receiver, which keep their answers back:
 * the kill then lands inside those steps, and nowhere between an effect and its record.
 * - kill 1, mid-send: the SMTP sink never said yes to the messages it holds, and drops them when
 *   the connection dies. After the restart each such email must arrive exactly once.
 * - kill 2, mid-call: the HTTP receiver has the requests it holds. The product cannot know they
 *   arrived, so it calls again with the same Idempotency-Key; the test demands that these
 *   repeats, and only these, happen, each on a step whose attempt count shows the re-run.
 */
const RUNS = 60
/** the client's events accepted before the API node is killed */
const API_KILL_AT = 20
const CONCURRENCY = 4

const workflow = (hookUrl: string) => `
id: crash-proof
name: Crash proof
trigger: { event: order.paid }
steps:
  - action: send_email
    id: confirm
    with: { category: transactional, subject: 'Order {{ order.number }}', html: '<p>Thanks for order {{ order.number }}</p>' }
  - action: emit_event
    id: emitted
    with: { type: raw.test.step_done, data: { order: '{{ order.id }}' } }
  - action: http_request
    id: notify
    with: { url: '${hookUrl}/hook', body: { order: '{{ order.id }}' }, timeout: 120s }
  - action: tag_customer
    id: tag
    with: { tags: ['confirmed'] }
`

interface Step {
  id: string
  status: string
  attempts: number
  output?: Record<string, unknown>
}
interface RunView {
  id: string
  status: string
  trigger_event_id: string
  customer_id: string | null
  steps: Step[]
}

/** What the product's API said about every run, read while no worker was alive. */
interface Snapshot {
  unstarted: string[]
  /** runs with steps that have not finished, each with the step begun and not yet done */
  inProgress: Map<string, string | null>
  finished: string[]
}

describe.each(DIALECTS)('kill -9 of the API node and of workers on %s', { timeout: 240_000 }, (dialect) => {
  let env: TestEnv
  let smtp: SmtpSink & { messageIds: string[] }
  let hook: HttpReceiver
  /** the API node the test reads through */
  let api: { proc: StoreflowProcess; url: string } | null = null
  let apiNodes: StoreflowProcess[] = []
  let workers: StoreflowProcess[] = []

  beforeAll(async () => {
    smtp = await startSmtpSink({ messageIdsOnly: true })
    hook = await startHttpReceiver()
    env = await createTestEnv(dialect, { clock: systemClock as never, env: { SMTP_URL: smtp.url } })
  })
  afterAll(async () => {
    for (const w of workers) await w.kill9().catch(() => undefined)
    for (const node of apiNodes) await node.kill9().catch(() => undefined)
    smtp.release()
    hook.release()
    await hook.close()
    await smtp.close()
    await env.cleanup()
  })

  it('every accepted event runs to the end; each email arrives once; HTTP repeats are exactly the calls cut off by the kill, each on a re-run step', async () => {
    const db = env.app.handle.db
    await installWorkflow(env.app, workflow(hook.url))
    // real time in the processes: quiet hours must not defer anything in this test
    await updateSettings(db, 'default', { quiet_hours: null })
    const now = new Date()
    const ingestKey = (await createKey(db, 'default', 'ingest', now)).key
    const readKey = (await createKey(db, 'default', 'read', now)).key
    const procEnv = await processEnv(db, env.config.dataDir, dialect, TEST_DATABASE_URL, {
      SMTP_URL: smtp.url,
      STOREFLOW_ALLOW_PRIVATE_HTTP: '1',
      STOREFLOW_LEASE_MS: '1500',
    })
    const spawnWorkers = () => (dialect === 'postgres' ? [0, 1] : [0]).map(() => startStoreflow(['worker', '--concurrency', String(CONCURRENCY)], procEnv))
    const output = () =>
      [...apiNodes, ...workers]
        .map((p) => p.output())
        .join('\n')
        .slice(-4000)
    const explain = (err: Error) => new Error(`${err.message}\nprocess output:\n${output()}`)

    const read = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${api!.url}${path}`, { headers: { authorization: `Bearer ${readKey}` } })
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
      return (await res.json()) as T
    }
    const listRuns = async () => (await read<{ items: Array<{ id: string; status: string; trigger_event_id: string }> }>('/api/v1/runs?limit=500')).items
    const completedRuns = async () => (await read<{ items: unknown[] }>('/api/v1/runs?status=completed&limit=500')).items.length
    const runViews = async () => Promise.all((await listRuns()).map((r) => read<RunView>(`/api/v1/runs/${r.id}`)))
    const snapshot = async (): Promise<Snapshot> => {
      const runs = await runViews()
      return {
        unstarted: runs.filter((r) => r.steps.length === 0).map((r) => r.id),
        inProgress: new Map(
          runs.filter((r) => r.steps.length > 0 && r.status !== 'completed').map((r) => [r.id, r.steps.find((s) => s.status === 'running')?.id ?? null]),
        ),
        finished: runs.filter((r) => r.status === 'completed').map((r) => r.id),
      }
    }
    const runOfMessage = async () =>
      new Map((await read<{ items: Array<{ message_id: string; run_id: string }> }>('/api/v1/messages?limit=500')).items.map((m) => [m.message_id, m.run_id]))
    // a kill lands when every step in flight waits in the SMTP sink or the HTTP receiver, checked
    // again with the workers stopped (whileStopped), so none begins a step between check and kill
    const settled = async (stale: StepInFlight[] = []) =>
      everyStepInFlightHeld(db, await Promise.all(workers.map((w) => workerIdOf(w))), () => smtp.held().length + hook.held().length, stale)
    const explainInFlight = async (err: Error) =>
      explain(
        new Error(
          `${err.message}; held: ${smtp.held().length} emails, ${hook.held().length} calls; steps in flight: ${JSON.stringify(await stepsInFlight(db))}`,
        ),
      )

    const started = Date.now()
    const phases: string[] = []
    const mark = (what: string) => phases.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)}s`)
    const [first, second] = await Promise.all([startServe(['--no-worker'], procEnv), startServe(['--no-worker'], procEnv)])
    mark('API nodes up')
    api = first
    apiNodes = [first.proc, second.proc]
    workers = spawnWorkers()
    const nodes = [first, second]
    const accepted = new Set<string>()
    let failedAttempts = 0
    let acceptedAtApiKill = -1
    let apiKill: Promise<void> | null = null
    const postEvent = async (i: number) => {
      const body = JSON.stringify({
        id: `paid-${i}`,
        type: 'order.paid',
        store: 'default',
        data: { id: `o${i}`, number: `#${1000 + i}`, currency: 'USD', total_price: '10.00', customer: { id: `c${i}`, email: `c${i}@example.com` } },
      })
      const deadline = Date.now() + 60_000
      for (let attempt = 0; ; attempt++) {
        let status = 0
        try {
          const res = await fetch(`${nodes[attempt % nodes.length]!.url}/api/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
            body,
          })
          status = res.status
          await res.arrayBuffer()
        } catch {
          // that node is down: try again, on the next node
        }
        if (status >= 200 && status < 300) break
        if (status >= 400 && status < 500) throw new Error(`event paid-${i} refused with ${status}`)
        failedAttempts++
        if (Date.now() > deadline) throw new Error(`event paid-${i} never accepted`)
        await new Promise((r) => setTimeout(r, 20))
      }
      accepted.add(`paid-${i}`)
      if (accepted.size === API_KILL_AT) {
        // kill -9 the node taking the traffic, with other requests in flight; the client only
        // learns it from failed requests
        acceptedAtApiKill = accepted.size
        apiKill = first.proc.kill9().then(() => {
          api = second
        })
      }
    }
    // Kill 1 will land mid-send: after five emails the SMTP sink keeps every answer back, and the
    // receiver answers no call (with two workers, one may reach a call while the other is held).
    smtp.hold('dropped', { after: 5 })
    hook.hold()
    let next = 0
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < RUNS) await postEvent(next++)
      }),
    ).catch((err: Error) => {
      throw explain(err)
    })
    await apiKill
    expect(accepted.size).toBe(RUNS)
    // the API node died with the stream half sent, and requests met it dead
    expect(acceptedAtApiKill).toBe(API_KILL_AT)
    expect(failedAttempts).toBeGreaterThan(0)

    mark('events accepted')
    await waitFor('every step in flight to be held by the SMTP sink or the HTTP receiver', whileStopped(workers, await settled()), 90_000, 10).catch(
      async (err: Error) => {
        throw await explainInFlight(err)
      },
    )
    mark('kill 1')
    for (const w of workers) await w.kill9()
    const cutOff = async () => {
      await waitFor('the sinks to see the callers gone', async () => smtp.held().length + hook.held().length === 0, 10_000, 10)
      return { mail: smtp.cutOff(), calls: hook.requests.filter((r) => r.held).map((r) => r.key!) }
    }
    const cut1 = await cutOff()
    const stale = await stepsInFlight(db)
    const atKill1 = await snapshot()
    const mailRuns1 = await runOfMessage()

    // Kill 2 will land mid-call: the receiver answers three calls, then holds the rest; once it
    // holds one, the sink holds every email too, so that every worker comes to a stop in a sink.
    smtp.release()
    hook.holdAfter(hook.requests.length + 3)
    workers = spawnWorkers()
    await waitFor('the receiver to hold a call', async () => hook.held().length > 0, 90_000, 10).catch((err: Error) => {
      throw explain(err)
    })
    smtp.hold('dropped')
    await waitFor('every step in flight to be held by the SMTP sink or the HTTP receiver', whileStopped(workers, await settled(stale)), 90_000, 10).catch(
      async (err: Error) => {
        throw await explainInFlight(err)
      },
    )
    mark('kill 2')
    for (const w of workers) await w.kill9()
    const cutAll = await cutOff()
    const cut2 = { mail: cutAll.mail.slice(cut1.mail.length), calls: cutAll.calls.slice(cut1.calls.length) }
    const atKill2 = await snapshot()
    const mailRuns2 = await runOfMessage()

    smtp.release()
    hook.release()
    workers = spawnWorkers()
    await waitFor('all runs to complete', async () => (await completedRuns()) === RUNS, 90_000, 200).catch((err: Error) => {
      throw explain(err)
    })
    mark('all completed')
    for (const w of workers) expect(await w.stop()).toBe(0)
    workers = []

    // each kill landed mid-work: the runs whose effect was cut off are, in the product's own
    // view, neither finished nor unstarted, stopped inside that very step
    const expectStoppedInside = (at: Snapshot, cut: { mail: string[]; calls: string[] }, mailRuns: Map<string, string>) => {
      for (const id of cut.mail) expect(at.inProgress.get(mailRuns.get(id)!)).toBe('confirm')
      for (const key of cut.calls) expect(at.inProgress.get(key.split(':')[0]!)).toBe('notify')
    }
    // kill 1 landed inside held steps: emails mostly, or calls when both workers reached one first
    expect(cut1.mail.length + cut1.calls.length).toBeGreaterThan(0)
    expectStoppedInside(atKill1, cut1, mailRuns1)
    expect(atKill1.unstarted.length).toBeGreaterThan(0)
    expect(cut2.calls.length).toBeGreaterThan(0)
    expectStoppedInside(atKill2, cut2, mailRuns2)
    expect(atKill2.finished.length).toBeLessThan(RUNS)

    // every accepted event has exactly one run, and every run completed every step
    const runs = await runViews()
    expect(runs.map((r) => r.trigger_event_id).sort()).toEqual([...accepted].sort())
    expect(runs.every((r) => r.status === 'completed')).toBe(true)
    const stepOf = (run: RunView, id: string) => run.steps.find((s) => s.id === id)!
    for (const run of runs)
      expect(run.steps.map((s) => [s.id, s.status])).toEqual([
        ['confirm', 'completed'],
        ['emitted', 'completed'],
        ['notify', 'completed'],
        ['tag', 'completed'],
      ])

    // SMTP: one email per step, no repeats, no losses; the ones dropped at the kill arrived once
    const messageIdOf = new Map(runs.map((r) => [r.id, String(stepOf(r, 'confirm').output?.smtp_message_id)]))
    const deliveries = smtp.deliveries()
    expect(new Set(deliveries.keys())).toEqual(new Set(messageIdOf.values()))
    expect(smtp.messageIds).toHaveLength(RUNS)
    const droppedMail = new Set(cutAll.mail)
    for (const id of droppedMail) expect(deliveries.get(id)).toBe(1)
    // the product does not know whether a dropped message arrived, and says so on its step
    const resent = runs.filter((r) => droppedMail.has(messageIdOf.get(r.id)!))
    expect(resent).toHaveLength(droppedMail.size)
    for (const run of resent) {
      expect(stepOf(run, 'confirm').attempts).toBeGreaterThan(1)
      expect(stepOf(run, 'confirm').output?.possible_duplicate).toBe(true)
    }

    // HTTP: every step's key arrived; the repeats are exactly the calls held at the kill, each
    // on a step the product shows as attempted again
    const counts = hook.counts()
    expect(new Set(counts.keys())).toEqual(new Set(runs.map((r) => `${r.id}:notify`)))
    const repeated = [...counts].filter(([, n]) => n > 1).map(([key]) => key)
    expect(new Set(repeated)).toEqual(new Set(cutAll.calls))
    for (const key of repeated) {
      // once, plus once more for each kill that cut it off (a slow machine can cut one call twice)
      expect(counts.get(key)).toBe(1 + cutAll.calls.filter((cut) => cut === key).length)
      const run = runs.find((r) => `${r.id}:notify` === key)!
      expect(stepOf(run, 'notify').attempts).toBeGreaterThan(1)
    }
    expect(hook.requests).toHaveLength(RUNS + cutAll.calls.length)

    // the internal steps: one emitted event per run, one tag per customer
    const emitted = await read<{ items: Array<{ data: { order: string } }> }>('/api/v1/events?type=raw.test.step_done&limit=500')
    expect(emitted.items.map((e) => e.data.order).sort()).toEqual(Array.from({ length: RUNS }, (_, i) => `o${i}`).sort())
    for (const run of runs) {
      const customer = await read<{ tags: string[] }>(`/api/v1/customers/${run.customer_id}`)
      expect(customer.tags).toEqual(['confirmed'])
    }
    console.info(
      `[crash ${dialect}] API killed after ${acceptedAtApiKill} events (${failedAttempts} failed posts retried); kill 1: ${cut1.mail.length} emails and ${cut1.calls.length} calls cut off, ${atKill1.unstarted.length} runs unstarted, ${atKill1.finished.length} finished; kill 2: ${cut2.mail.length} emails and ${cut2.calls.length} calls cut off, ${atKill2.unstarted.length} unstarted, ${atKill2.finished.length} finished; ${phases.join(', ')}`,
    )
    expect(await second.proc.stop()).toBe(0)
    apiNodes = []
  })
})
