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
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { formatReport, totalFaults, writeReport, type ChaosReport } from './report.ts'
import { delivery, send, SHOP_DOMAIN, type ExpectedEvent, type Sent, type ShopOptions } from './shop.ts'

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

/** Workflows whose effects the suite counts. Every run of them is one trigger event's: `concurrent` lifts the one-active-run rule. */
const WORKFLOWS = (hook: string) => [
  `id: chaos-confirm
name: Order confirmation
trigger: { event: order.created }
reentry: { concurrent: true }
steps:
  - action: send_email
    id: confirm
    with: { category: transactional, subject: 'confirm {{ trigger.data.id }}', html: '<p>Thanks for order {{ trigger.data.id }}</p>' }
  - action: http_request
    id: notify
    with: { url: '${hook}/orders', body: { ref: 'confirm:{{ trigger.data.id }}' }, timeout: 5s }
`,
  `id: chaos-paid
name: Payment to the warehouse
trigger: { event: order.paid }
reentry: { concurrent: true }
steps:
  - action: tag_customer
    with: { tags: ['paid'] }
  - action: http_request
    id: notify
    with: { url: '${hook}/paid', body: { ref: 'paid:{{ trigger.data.id }}' }, timeout: 5s }
`,
  `id: chaos-welcome
name: Welcome
trigger: { event: customer.created }
reentry: { concurrent: true }
steps:
  - action: send_email
    id: welcome
    with: { category: transactional, subject: 'welcome {{ trigger.data.id }}', html: '<p>Welcome</p>' }
`,
  `id: chaos-nudge
name: Cart nudge after a short wait
trigger: { event: cart.updated }
reentry: { concurrent: true }
steps:
  - wait: 3s
  - action: send_email
    id: nudge
    with: { category: transactional, subject: 'nudge {{ trigger.data.id }}', html: '<p>Your cart</p>' }
`,
  `id: chaos-recover
name: Checkout recovery, a month later
trigger: { event: checkout.started }
reentry: { concurrent: true }
steps:
  - wait: 30d
  - action: send_email
    id: recover
    with: { category: transactional, subject: 'recover {{ trigger.data.id }}', html: '<p>Still thinking?</p>' }
`,
]

/** What each trigger type starts, and the effects its run must have outside. */
const EFFECTS: Record<string, { workflow: string; email?: (id: string) => string; http?: (id: string) => string; waits?: true }> = {
  'order.created': { workflow: 'chaos-confirm', email: (id) => `confirm ${id}`, http: (id) => `confirm:${id}` },
  'order.paid': { workflow: 'chaos-paid', http: (id) => `paid:${id}` },
  'customer.created': { workflow: 'chaos-welcome', email: (id) => `welcome ${id}` },
  'cart.updated': { workflow: 'chaos-nudge', email: (id) => `nudge ${id}` },
  'checkout.started': { workflow: 'chaos-recover', waits: true },
}

type RunItem = { id: string; workflow_id: string; status: string; trigger_event_id: string }
type Step = {
  id: string
  key?: string
  type: string
  status: string
  attempts: number
  wake_at?: string | null
  output?: { smtp_message_id?: string; possible_duplicate?: boolean } | null
}
type EventItem = { id: string; type: string; data: { id?: unknown } }

const countBy = <T>(items: Iterable<T>, key: (t: T) => string): Map<string, number> => {
  const m = new Map<string, number>()
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1)
  return m
}
const add = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n
}

describe.skipIf(!privatePostgresAvailable('the chaos suite'))(
  'chaos: an API node and two workers on PostgreSQL, under traffic and faults',
  { timeout: 480_000 },
  () => {
    let pgc: PrivatePostgres | undefined
    let smtp: (SmtpSink & { messageIds: string[]; subjects: string[] }) | undefined
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
      smtp = await startSmtpSink({ delayMs: 25, messageIdsOnly: true })
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
      const quiet = await waitFor(
        'quiet',
        async () => {
          if (crashes().length > 0) throw new Error(explain('a process crashed'))
          runs = await client.listAll<RunItem>('/api/v1/runs').catch(() => runs)
          return runs.length >= expectedRuns && runs.every(settled)
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

      // events: what the shop was told was accepted is in the store, once
      const stored = (await client.listAll<EventItem>('/api/v1/events')).filter((e) => EFFECTS[e.type] !== undefined)
      const storedBy = countBy(stored, (e) => `${e.type} ${String(e.data.id)}`)
      const expectedBy = countBy(expectedEvents, (e) => `${e.type} ${e.dataId}`)
      let eventsLost = 0
      let eventsDuplicated = 0
      for (const [k, n] of expectedBy) {
        const s = storedBy.get(k) ?? 0
        if (s < n) problems.push(`event lost: ${k} (${n} accepted, ${s} stored)`)
        if (s > n) problems.push(`event stored twice: ${k} (${n} accepted, ${s} stored)`)
        eventsLost += Math.max(0, n - s)
        eventsDuplicated += Math.max(0, s - n)
      }
      for (const [k, s] of storedBy) {
        if (expectedBy.has(k)) continue
        problems.push(`event stored that no accepted delivery carried: ${k} ×${s}`)
        eventsDuplicated += s
      }
      const storedIds = new Set(stored.map((e) => e.id))
      for (const e of expectedEvents) if (e.id && !storedIds.has(e.id)) problems.push(`event ${e.id} accepted, not stored`)

      // runs: one per stored trigger event, each completed or waiting on its month
      const runsByEvent = new Map<string, RunItem[]>()
      for (const r of runs) runsByEvent.set(r.trigger_event_id, [...(runsByEvent.get(r.trigger_event_id) ?? []), r])
      let runsMissing = 0
      let runsDuplicated = 0
      for (const e of stored) {
        const own = (runsByEvent.get(e.id) ?? []).filter((r) => r.workflow_id === EFFECTS[e.type]!.workflow)
        if (own.length === 0) problems.push(`no run for ${e.type} ${String(e.data.id)} (${e.id})`)
        if (own.length > 1) problems.push(`${own.length} runs for ${e.type} ${String(e.data.id)} (${e.id})`)
        runsMissing += own.length === 0 ? 1 : 0
        runsDuplicated += Math.max(0, own.length - 1)
      }
      const details = new Map<string, Step[]>()
      for (let i = 0; i < runs.length; i += 20) {
        await Promise.all(runs.slice(i, i + 20).map(async (r) => details.set(r.id, (await client.get<{ steps: Step[] }>(`/api/v1/runs/${r.id}`)).steps)))
      }
      const dayAhead = Date.now() + 24 * 3600_000
      let correctlyWaiting = 0
      let stuck = 0
      for (const r of runs) {
        if (r.status === 'completed') continue
        const waitStep = (details.get(r.id) ?? []).find((s) => s.type === 'wait' && s.status === 'waiting')
        if (r.status === 'waiting' && r.workflow_id === 'chaos-recover' && waitStep?.wake_at && Date.parse(waitStep.wake_at) > dayAhead) {
          correctlyWaiting++
          continue
        }
        if (r.status === 'failed')
          problems.push(`run failed: ${r.id} (${r.workflow_id}): ${JSON.stringify(details.get(r.id)?.filter((s) => s.status !== 'completed'))}`)
        else {
          stuck++
          problems.push(`run stuck: ${r.id} (${r.workflow_id}) ${r.status}: ${JSON.stringify(details.get(r.id)?.filter((s) => s.status !== 'completed'))}`)
        }
      }

      // emails: each expected one at the SMTP server once; a flagged step's mail at most once more
      const flagged = new Set<string>()
      const attemptsByHttpKey = new Map<string, number>()
      for (const [runId, steps] of details) {
        for (const s of steps) {
          if (s.type === 'send_email' && s.output?.possible_duplicate && s.output.smtp_message_id) flagged.add(s.output.smtp_message_id)
          if (s.type === 'http_request') attemptsByHttpKey.set(`${runId}:${s.key ?? s.id}`, s.attempts)
        }
      }
      const expectedMail = countBy(
        expectedEvents.filter((e) => EFFECTS[e.type]?.email),
        (e) => EFFECTS[e.type]!.email!(e.dataId),
      )
      const mailIdsBySubject = new Map<string, Set<string>>()
      sink.messageIds.forEach((id, i) => {
        const subject = sink.subjects[i] ?? ''
        mailIdsBySubject.set(subject, (mailIdsBySubject.get(subject) ?? new Set()).add(id))
      })
      const copies = sink.deliveries()
      let mailLost = 0
      let mailDuplicates = 0
      for (const [subject, n] of expectedMail) {
        const ids = mailIdsBySubject.get(subject) ?? new Set<string>()
        if (ids.size < n) problems.push(`email lost: "${subject}" (${n} expected, ${ids.size} received)`)
        if (ids.size > n) problems.push(`email sent by two steps: "${subject}" (${n} expected, ${ids.size} distinct messages)`)
        mailLost += Math.max(0, n - ids.size)
        mailDuplicates += Math.max(0, ids.size - n)
        for (const id of ids) {
          const c = copies.get(id) ?? 0
          const allowed = flagged.has(id) ? 2 : 1
          if (c > allowed) problems.push(`email ${id} ("${subject}") received ${c} times${flagged.has(id) ? ' (flagged possible_duplicate)' : ''}`)
          mailDuplicates += Math.max(0, c - allowed)
        }
      }
      for (const [subject, ids] of mailIdsBySubject) {
        if (expectedMail.has(subject)) continue
        problems.push(`email no delivery called for: "${subject}" ×${ids.size}`)
        mailDuplicates += ids.size
      }

      // HTTP calls: each expected one taken under one Idempotency-Key; repeats of a key only after a recorded attempt
      const expectedCalls = countBy(
        expectedEvents.filter((e) => EFFECTS[e.type]?.http),
        (e) => EFFECTS[e.type]!.http!(e.dataId),
      )
      const taken = receiver.requests.filter((r) => r.status === 200)
      const keysByRef = new Map<string, Set<string>>()
      for (const r of taken) {
        const ref = String((JSON.parse(r.body) as { ref?: unknown }).ref)
        keysByRef.set(ref, (keysByRef.get(ref) ?? new Set()).add(r.key ?? ''))
      }
      const takenByKey = countBy(taken, (r) => r.key ?? '')
      let httpLost = 0
      let httpDuplicates = 0
      for (const [ref, n] of expectedCalls) {
        const keys = keysByRef.get(ref) ?? new Set<string>()
        if (keys.size < n) problems.push(`HTTP call lost: ${ref} (${n} expected, ${keys.size} taken)`)
        if (keys.size > n) problems.push(`HTTP call made by two steps: ${ref} (${n} expected, keys ${[...keys].join(', ')})`)
        httpLost += Math.max(0, n - keys.size)
        httpDuplicates += Math.max(0, keys.size - n)
      }
      for (const [ref, keys] of keysByRef) {
        if (expectedCalls.has(ref)) continue
        problems.push(`HTTP call no delivery called for: ${ref} ×${keys.size}`)
        httpDuplicates += keys.size
      }
      for (const [k, n] of takenByKey) {
        const attempts = attemptsByHttpKey.get(k)
        if (attempts === undefined) problems.push(`HTTP request with an Idempotency-Key of no step: ${k}`)
        else if (n > attempts) problems.push(`Idempotency-Key ${k} taken ${n} times, more than the ${attempts} attempts its step records`)
      }

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
        events: {
          sent: sentBy,
          requests,
          accepted: accepted.length,
          refused,
          expected: expectedEvents.length,
          stored: stored.length,
          lost: eventsLost,
          duplicated: eventsDuplicated,
        },
        runs: {
          expected: expectedRuns,
          by_status: Object.fromEntries(countBy(runs, (r) => r.status)),
          correctly_waiting: correctlyWaiting,
          missing: runsMissing,
          duplicated: runsDuplicated,
          stuck,
          failed: runs.filter((r) => r.status === 'failed').length,
        },
        emails: {
          expected: [...expectedMail.values()].reduce((a, b) => a + b, 0),
          received: sink.messageIds.length,
          distinct: copies.size,
          flagged_possible_duplicates: flagged.size,
          duplicates: mailDuplicates,
          lost: mailLost,
        },
        http: {
          expected: [...expectedCalls.values()].reduce((a, b) => a + b, 0),
          applied: takenByKey.size,
          refused_503: receiver.requests.filter((r) => r.status === 503).length,
          repeats_absorbed: taken.length - takenByKey.size,
          duplicates: httpDuplicates,
          lost: httpLost,
        },
        faults_landed_under_way: landedUnderWay,
        smtp_refusals: sink.outageRefusals(),
        timeline,
        leases: { runs_held_when_quiet: runsHeldWhenQuiet, runs_held_after_stop: runsHeldAfterStop, routers_held_after_stop: routersHeldAfterStop },
        faults,
        problems,
      }
      const file = writeReport(report)
      console.info(`${formatReport(report)}\n(written to ${file})`)

      expect(totalFaults(report)).toBeGreaterThan(0)
      expect(problems).toEqual([])
    })
  },
)
