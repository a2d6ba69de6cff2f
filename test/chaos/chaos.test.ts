import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { startBigCommerceApi, ACCESS_TOKEN, type BigCommerceApiServer } from '../helpers/bigcommerce-api.ts'
import { runCli } from '../helpers/cli-run.ts'
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts'
import { createPrivatePostgres, freePort, privatePostgresAvailable, type PrivatePostgres } from '../helpers/private-postgres.ts'
import { apiClient, isAlive, isolatedEnv, outputExcerpt, readyStatus, startStoreflow, waitFor, type StoreflowProcess } from '../helpers/processes.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { formatReport, totalFaults, writeReport, type ChaosReport } from './report.ts'
import { delivery, send, SHOP_DOMAIN, type ExpectedEvent, type Sent, type ShopOptions } from './shop.ts'
import { checkCalls, checkEmails, checkEvents, checkRuns, countBy, EFFECTS, WORKFLOWS, type EventItem, type RunItem, type Step } from './verify.ts'

/**
 * The chaos suite (`npm run test:chaos`): one `storeflow serve --no-worker` and two `storeflow
 * worker` processes on a PostgreSQL cluster of the suite's own (never the machine's shared one).
 * A shop drives mixed traffic at them — ingest API events (orders, payments, carts, checkouts,
 * customers) and signed webhooks from Shopify, WooCommerce and BigCommerce — sending each
 * delivery again until it is answered 2xx. Meanwhile faults land on a schedule: workers and the
 * API node killed with SIGKILL (and started again), PostgreSQL restarted, the SMTP server down
 * for a few seconds or cutting connections after taking a message, the HTTP endpoint answering
 * 503 for a few seconds.
 *
 * Then, once everything is quiet, counted outside the product wherever it can be: every accepted
 * delivery's events are in the store (by type and resource id), each started exactly one run,
 * every run completed or waits on its 30-day delay, each expected email reached the SMTP server
 * exactly once (or, where storeflow flagged the step `possible_duplicate`, at most once more),
 * each expected HTTP call was taken under one Idempotency-Key, no run is stuck and no lease is
 * held. The report is printed and written to test-artifacts/chaos/last-report.json.
 */

/** seconds of traffic; faults land during it (STOREFLOW_CHAOS_TRAFFIC_S shortens a local try) */
const TRAFFIC_S = Number(process.env.STOREFLOW_CHAOS_TRAFFIC_S ?? 75)
/** concurrent shop connections, each pausing between its deliveries */
const LANES = 6
const PAUSE_MS = 250
/** how long the system may take to become quiet after the traffic */
const QUIET_WITHIN_MS = 180_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const add = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n
}

describe.skipIf(!privatePostgresAvailable('the chaos suite'))(
  'chaos: an API node and two workers on PostgreSQL, under traffic and faults',
  { timeout: 480_000 },
  () => {
    let pgc: PrivatePostgres | undefined
    let smtp: Awaited<ReturnType<typeof startSmtpSink>> | undefined
    let hook: HttpReceiver | undefined
    let bc: BigCommerceApiServer | undefined
    let dir: string | undefined
    const processes: StoreflowProcess[] = []

    afterAll(async () => {
      for (const p of processes) if (isAlive(p)) await p.kill9().catch(() => undefined)
      await pgc?.destroy()
      await smtp?.close()
      await hook?.close()
      await bc?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('loses nothing accepted, does nothing twice, leaves no run stuck and no lease held; prints its report', async () => {
      const began = Date.now()
      const timeline: string[] = []
      const mark = (what: string) => timeline.push(`${((Date.now() - began) / 1000).toFixed(1)}s ${what}`)
      const problems: string[] = []

      pgc = await createPrivatePostgres()
      await pgc.start()
      const cluster = pgc
      smtp = await startSmtpSink({ delayMs: 25, messageIdsOnly: true, outages: true })
      const sink = smtp
      hook = await startHttpReceiver({ delayMs: 25 })
      const receiver = hook
      bc = await startBigCommerceApi()
      const bigCommerce = bc
      dir = mkdtempSync(join(tmpdir(), 'storeflow-chaos-'))
      const port = await freePort()
      const api = `http://127.0.0.1:${port}`
      const env = isolatedEnv({
        STOREFLOW_SECRET_KEY: 'chaos-test-key',
        STOREFLOW_DATA_DIR: dir,
        DATABASE_URL: cluster.url(),
        SMTP_URL: sink.url,
        STOREFLOW_ALLOW_PRIVATE_HTTP: '1',
        // a killed worker's runs are claimed again after this
        STOREFLOW_LEASE_MS: '3000',
        STOREFLOW_DB_WAIT: '120s',
      })

      const migrated = await runCli(['migrate'], env)
      expect(migrated.code, migrated.stderr).toBe(0)
      const created = await runCli(['keys', 'create', '--scope', 'admin', '--json'], env)
      expect(created.code, created.stderr).toBe(0)
      const key = (JSON.parse(created.stdout) as { key: string }).key

      // the cluster: one API node, two workers; each slot holds its current process
      const names = ['api', 'worker 1', 'worker 2'] as const
      const start: Record<(typeof names)[number], () => StoreflowProcess> = {
        api: () => startStoreflow(['serve', '--no-worker', '--port', String(port)], env),
        'worker 1': () => startStoreflow(['worker', '--concurrency', '4'], env),
        'worker 2': () => startStoreflow(['worker', '--concurrency', '4'], env),
      }
      const current = {} as Record<(typeof names)[number], StoreflowProcess>
      /** processes the suite killed on purpose */
      const killed = new Set<StoreflowProcess>()
      const launch = (name: (typeof names)[number]) => {
        const p = start[name]()
        processes.push(p)
        current[name] = p
        return p
      }
      for (const name of names) launch(name)
      const explain = (what: string) =>
        `${what}\n${names.map((n) => `--- ${n} (${isAlive(current[n]) ? 'alive' : `exited ${current[n].child.exitCode ?? current[n].child.signalCode}`}):\n${outputExcerpt(current[n].output())}`).join('\n')}\n${timeline.join('\n')}`
      /** a process that died without the suite killing it is a crash */
      const crashes = () => processes.filter((p) => !killed.has(p) && !isAlive(p))

      await waitFor('the API node to be ready', async () => (await readyStatus(api)) === 200 || crashes().length > 0, 90_000, 100)
      await waitFor(
        'the workers to run',
        async () => ['worker 1', 'worker 2'].every((n) => /storeflow worker \S+ running/.test(current[n as 'worker 1'].output())) || crashes().length > 0,
        90_000,
        100,
      )
      if (crashes().length > 0) throw new Error(explain('a process exited at start'))
      mark('API node ready, workers running')

      // the store: connectors for the three platforms and the workflows, through the API
      const client = apiClient(api, key)
      const admin = async (path: string, body: string, contentType = 'application/json') => {
        const res = await fetch(`${api}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': contentType }, body })
        if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`)
        return (await res.json()) as { id: string }
      }
      const secrets = { shopify: 'shpss_chaos-secret', woocommerce: 'woo-chaos-secret', bigcommerce: 'bc-chaos-secret' }
      await admin('/api/v1/connectors', JSON.stringify({ platform: 'shopify', secrets: [secrets.shopify], shop_domain: SHOP_DOMAIN }))
      await admin('/api/v1/connectors', JSON.stringify({ platform: 'woocommerce', secrets: [secrets.woocommerce] }))
      await admin(
        '/api/v1/connectors',
        JSON.stringify({ platform: 'bigcommerce', secrets: [secrets.bigcommerce], api_url: bigCommerce.apiUrl, access_token: ACCESS_TOKEN }),
      )
      for (const yaml of WORKFLOWS(receiver.url)) {
        const { id } = await admin('/api/v1/workflows', yaml, 'application/yaml')
        await admin(`/api/v1/workflows/${id}/activate`, '{}')
      }
      mark('connectors and workflows set up')

      // the shop's traffic
      const shop: ShopOptions = { store: 'default', key, secrets, serveBigCommerceOrder: (id) => bigCommerce.serveOrder(id) }
      const sentBy: Record<string, number> = {}
      const refused: Record<string, number> = {}
      let requests = 0
      /** requests sent and not answered yet */
      let inFlight = 0
      const results: Sent[] = []
      let next = 0
      const trafficStart = Date.now()
      const trafficEnd = trafficStart + TRAFFIC_S * 1000
      const lanes = Array.from({ length: LANES }, async () => {
        while (Date.now() < trafficEnd) {
          const d = delivery(next++, shop)
          add(sentBy, d.channel)
          const result = await send(api, d, Date.now() + 150_000, {
            sending: () => {
              requests++
              inFlight++
            },
            answered: (status) => {
              inFlight--
              if (status < 200 || status >= 300) add(refused, status === 0 ? 'no answer' : String(status))
            },
          })
          results.push(result)
          await sleep(PAUSE_MS)
        }
      })

      // the faults, on a schedule (seconds into the traffic)
      const faults: Record<string, number> = {}
      /** kills that found what they aimed at under way: requests at the API node, mail in the SMTP server's hands, calls at the endpoint */
      let landedUnderWay = 0
      /** waits up to 3 s for `cond`, so a kill lands in the middle of things; says whether it did */
      const when = async (cond: () => boolean) => {
        const found = await waitFor('work under way', async () => cond(), 3_000, 1).then(
          () => true,
          () => false,
        )
        if (found) landedUnderWay++
        return found
      }
      /** kills the processes (after waiting a little for `aim` to be under way), then starts them again */
      const killAndRestart = async (which: Array<(typeof names)[number]>, aim: 'requests' | 'mail' | 'calls') => {
        await when(() => (aim === 'requests' ? inFlight : aim === 'mail' ? sink.answering() : receiver.answering()) > 0)
        mark(
          `  SIGKILL ${which.join(', ')}: ${inFlight} requests in flight, ${sink.answering()} mails being taken, ${receiver.answering()} HTTP calls being answered`,
        )
        for (const name of which) {
          killed.add(current[name])
          await current[name].kill9()
        }
        for (const name of which) launch(name)
      }
      const smtpDown = async (ms: number) => {
        sink.outage({ code: 421, message: '4.3.2 Service shutting down, try again later' })
        await sleep(ms)
        sink.outage(null)
      }
      const httpDown = async (ms: number) => {
        receiver.failWith(503)
        await sleep(ms)
        receiver.failWith(null)
      }
      const schedule: Array<[number, string, () => Promise<void>]> = [
        [3, 'worker SIGKILL', () => killAndRestart(['worker 1'], 'mail')],
        [8, 'SMTP server down 5 s', () => smtpDown(5_000)],
        [14, 'API node SIGKILL', () => killAndRestart(['api'], 'requests')],
        [19, 'PostgreSQL restart', () => cluster.restart()],
        [24, 'HTTP endpoint 503 for 4 s', () => httpDown(4_000)],
        [30, 'worker SIGKILL', () => killAndRestart(['worker 2'], 'calls')],
        [35, 'SMTP connection cut after DATA (3 mails)', async () => sink.dropConnectionAfterData(3)],
        [38, 'API node SIGKILL', () => killAndRestart(['api'], 'requests')],
        [43, 'PostgreSQL restart', () => cluster.restart()],
        [48, 'both workers SIGKILL', () => killAndRestart(['worker 1', 'worker 2'], 'calls')],
        [53, 'SMTP server down 5 s', () => smtpDown(5_000)],
        [59, 'HTTP endpoint 503 for 4 s', () => httpDown(4_000)],
        [64, 'API node SIGKILL', () => killAndRestart(['api'], 'requests')],
        [67, 'worker SIGKILL', () => killAndRestart(['worker 1'], 'mail')],
        [70, 'PostgreSQL restart', () => cluster.restart()],
      ]
      for (const [at, kind, inject] of schedule) {
        const wait = trafficStart + at * 1000 - Date.now()
        if (wait > 0) await sleep(wait)
        if (Date.now() >= trafficEnd) break
        mark(`${kind} (${results.length} deliveries done)`)
        await inject()
        add(faults, kind)
      }
      await Promise.all(lanes)
      const trafficSeconds = (Date.now() - trafficStart) / 1000
      mark(`traffic over: ${results.length} deliveries, ${requests} requests`)
      if (crashes().length > 0) problems.push(`processes crashed: ${explain('crash')}`)

      // quiet: every expected run exists and has completed or waits on its month
      const accepted = results.filter((r) => r.accepted)
      for (const r of results.filter((x) => !x.accepted)) problems.push(`never accepted: ${r.delivery.label} (answers ${r.statuses.join(', ')})`)
      for (const r of accepted.filter((x) => x.answer?.['ok'] === false))
        problems.push(`accepted but kept as failed: ${r.delivery.label}: ${JSON.stringify(r.answer)}`)
      const expectedEvents: ExpectedEvent[] = accepted.flatMap((r) => r.delivery.expects)
      const expectedRuns = expectedEvents.filter((e) => EFFECTS[e.type]).length
      let runs: RunItem[] = []
      const settled = (r: RunItem) =>
        r.status === 'completed' ||
        r.status === 'failed' ||
        r.status === 'cancelled' ||
        r.status === 'exited' ||
        (r.status === 'waiting' && r.workflow_id === 'chaos-recover')
      let lastProgress = Date.now()
      const quiet = await waitFor(
        'quiet',
        async () => {
          if (crashes().length > 0) throw new Error(explain('a process crashed'))
          runs = await client.listAll<RunItem>('/api/v1/runs').catch(() => runs)
          const done = runs.length >= expectedRuns && runs.every(settled)
          if (!done && Date.now() - lastProgress >= 10_000) {
            lastProgress = Date.now()
            const open = [
              ...countBy(
                runs.filter((r) => !settled(r)),
                (r) => `${r.workflow_id} ${r.status}`,
              ),
            ].map(([k, n]) => `${k} ${n}`)
            mark(`  not quiet yet: ${runs.length}/${expectedRuns} runs; unsettled: ${open.join(', ') || 'none'}`)
          }
          return done
        },
        QUIET_WITHIN_MS,
        1_000,
      ).then(
        () => true,
        (err: Error) => {
          problems.push(
            `not quiet within ${QUIET_WITHIN_MS / 1000} s: ${err.message}; ${runs.length}/${expectedRuns} runs, ${runs.filter((r) => !settled(r)).length} unsettled`,
          )
          return false
        },
      )
      // a last look: late repeats would land now
      await sleep(2_000)
      mark(`quiet: ${quiet}`)

      // what the store holds and what reached the SMTP server and the HTTP endpoint, against what was accepted
      const stored = (await client.listAll<EventItem>('/api/v1/events')).filter((e) => EFFECTS[e.type] !== undefined)
      const events = checkEvents(expectedEvents, stored, problems)
      const steps = new Map<string, Step[]>()
      for (let i = 0; i < runs.length; i += 20) {
        await Promise.all(runs.slice(i, i + 20).map(async (r) => steps.set(r.id, (await client.get<{ steps: Step[] }>(`/api/v1/runs/${r.id}`)).steps)))
      }
      const runCheck = checkRuns(stored, runs, steps, Date.now(), problems)
      const flagged = new Map<string, number>()
      const attempts = new Map<string, number>()
      for (const [runId, list] of steps) {
        for (const s of list) {
          if (s.type === 'send_email' && s.output?.possible_duplicate && s.output.smtp_message_id) flagged.set(s.output.smtp_message_id, s.attempts)
          if (s.type === 'http_request') attempts.set(`${runId}:${s.key ?? s.id}`, s.attempts)
        }
      }
      const emails = checkEmails(expectedEvents, sink, flagged, problems)
      const calls = checkCalls(expectedEvents, receiver.requests, attempts, problems)

      // leases: none held once quiet, none after every process stopped
      const db = new pg.Client({ connectionString: cluster.url() })
      await db.connect()
      const count = async (q: string) => Number((await db.query<{ n: string }>(q)).rows[0]!.n)
      const runsHeldWhenQuiet = await count('select count(*) as n from runs where lease_owner is not null')
      if (runsHeldWhenQuiet > 0) problems.push(`${runsHeldWhenQuiet} runs leased once quiet`)
      for (const name of names) {
        if (!isAlive(current[name])) continue
        const code = await current[name].stop()
        if (code !== 0) problems.push(`${name} did not stop cleanly (exit ${code}): ${outputExcerpt(current[name].output())}`)
      }
      const runsHeldAfterStop = await count('select count(*) as n from runs where lease_owner is not null')
      const routersHeldAfterStop = await count('select count(*) as n from event_routers where owner is not null')
      await db.end()
      if (runsHeldAfterStop > 0) problems.push(`${runsHeldAfterStop} runs leased after every process stopped`)
      if (routersHeldAfterStop > 0) problems.push(`${routersHeldAfterStop} routers leased after every process stopped`)
      mark('stopped')

      const report: ChaosReport = {
        started_at: new Date(began).toISOString(),
        duration_s: (Date.now() - began) / 1000,
        traffic_s: trafficSeconds,
        events: { sent: sentBy, requests, accepted: accepted.length, refused, ...events },
        runs: {
          expected: expectedRuns,
          by_status: Object.fromEntries(countBy(runs, (r) => r.status)),
          correctly_waiting: runCheck.correctlyWaiting,
          missing: runCheck.missing,
          duplicated: runCheck.duplicated,
          stuck: runCheck.stuck,
          failed: runCheck.failed,
        },
        emails: {
          expected: emails.expected,
          received: emails.received,
          distinct: emails.distinct,
          flagged_possible_duplicates: emails.flagged,
          flagged_received_twice: emails.flaggedCopies,
          flagged_received_more: emails.flaggedMore,
          duplicates: emails.duplicates,
          lost: emails.lost,
        },
        http: {
          expected: calls.expected,
          applied: calls.applied,
          refused_503: calls.refused503,
          repeats_absorbed: calls.repeatsAbsorbed,
          duplicates: calls.duplicates,
          lost: calls.lost,
        },
        faults,
        faults_landed_under_way: landedUnderWay,
        smtp_refusals: sink.outageRefusals(),
        timeline,
        leases: { runs_held_when_quiet: runsHeldWhenQuiet, runs_held_after_stop: runsHeldAfterStop, routers_held_after_stop: routersHeldAfterStop },
        problems,
      }
      const file = writeReport(report)
      console.info(`${formatReport(report)}\n(written to ${file})`)

      expect(totalFaults(report)).toBeGreaterThan(0)
      expect(problems).toEqual([])
    })
  },
)
