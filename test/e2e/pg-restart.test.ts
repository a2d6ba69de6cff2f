import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { createApp } from '../../src/main.ts'
import { createKey } from '../../src/store/stores.repo.ts'
import {
  apiClient,
  CLI,
  isAlive,
  isolatedEnv,
  outputExcerpt,
  readyStatus,
  REPO_ROOT,
  startStoreflow,
  waitFor,
  type StoreflowProcess,
} from '../helpers/processes.ts'
import { createPrivatePostgres, freePort, privatePostgresAvailable, type PrivatePostgres } from '../helpers/private-postgres.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/**
 * Survives its database: a real `storeflow serve` (API only), two `storeflow worker` processes
 * and `storeflow migrate`, started before their PostgreSQL is up, on a cluster of the test's own
 * (test/helpers/private-postgres.ts), which the test then restarts twice and once stops for a
 * while, under traffic. A shop's client sends every event again until it is answered 2xx.
 * Effects are counted outside the product: mail at a real SMTP server (by Message-ID), requests
 * at an HTTP receiver (by Idempotency-Key). The machine's shared PostgreSQL is never restarted.
 */
const EVENTS = 160

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** the parent's environment without anything that would point a child at another database */
const childEnv = (extra: Record<string, string>) => isolatedEnv({ STOREFLOW_SECRET_KEY: 'pg-restart-test-key', ...extra })
const alive = isAlive
const excerpt = outputExcerpt

describe('start-up without PostgreSQL', { timeout: 60_000 }, () => {
  it('gives up after STOREFLOW_DB_WAIT with a clear one-line error and a non-zero exit, not a "bug"', async () => {
    const port = await freePort() // nothing listens there
    const dir = mkdtempSync(join(tmpdir(), 'storeflow-dbwait-'))
    try {
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(
          process.execPath,
          [CLI, 'migrate'],
          {
            cwd: REPO_ROOT,
            env: childEnv({ STOREFLOW_DATA_DIR: dir, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`, STOREFLOW_DB_WAIT: '2s' }),
            timeout: 45_000,
          },
          (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
        )
      })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toMatch(new RegExp(`waiting for PostgreSQL at 127\\.0\\.0\\.1:${port} \\(connection refused\\)`))
      const last = result.stderr.trim().split('\n').pop() ?? ''
      expect(last).toMatch(new RegExp(`^error: .*PostgreSQL at 127\\.0\\.0\\.1:${port}.*(2 s|2s)`))
      expect(result.stderr).not.toMatch(/bug|STOREFLOW_DEBUG|\n\s+at /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!privatePostgresAvailable('the PostgreSQL restart tests'))('a PostgreSQL of its own', { timeout: 300_000 }, () => {
  let pg: PrivatePostgres
  const dirs: string[] = []
  const processes: StoreflowProcess[] = []
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'storeflow-pgrestart-'))
    dirs.push(dir)
    return dir
  }

  beforeAll(async () => {
    pg = await createPrivatePostgres() // initialised, not started
  })
  afterAll(async () => {
    for (const p of processes) if (alive(p)) await p.kill9().catch(() => undefined)
    await pg?.destroy()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  let smtp: SmtpSink & { messageIds: string[] }
  let hook: Server
  /** every request the receiver saw: its Idempotency-Key and when it was in flight */
  const requests: Array<{ key: string; start: number; end: number }> = []

  beforeAll(async () => {
    // slow enough that restarts land while steps are being acted on
    smtp = await startSmtpSink({ delayMs: 10, messageIdsOnly: true })
    hook = createServer((req, res) => {
      const seen = { key: String(req.headers['idempotency-key']), start: performance.now(), end: Number.POSITIVE_INFINITY }
      requests.push(seen)
      req.resume()
      setTimeout(() => {
        seen.end = performance.now()
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      }, 20)
    })
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    await smtp?.close()
    hook?.close()
  })

  it('serve, workers and migrate wait for it at start; then, restarted under traffic, no process crashes, /readyz is 503 while it is away, nothing accepted is lost and nothing is done twice', async () => {
    const timeline: string[] = []
    const began = Date.now()
    const mark = (what: string) => timeline.push(`${((Date.now() - began) / 1000).toFixed(1)}s ${what}`)
    const dir = dataDir()
    const port = await freePort()
    const api = `http://127.0.0.1:${port}`
    const env = childEnv({
      STOREFLOW_DATA_DIR: dir,
      DATABASE_URL: pg.url(),
      SMTP_URL: smtp.url,
      STOREFLOW_ALLOW_PRIVATE_HTTP: '1',
      // a run whose claim was lost with its connection is taken again after this
      STOREFLOW_LEASE_MS: '3000',
      STOREFLOW_DB_WAIT: '120s',
    })

    // start-up before PostgreSQL: every command waits, says so, and stays up
    const server = startStoreflow(['serve', '--no-worker', '--port', String(port)], env)
    const workers = [startStoreflow(['worker', '--concurrency', '4'], env), startStoreflow(['worker', '--concurrency', '4'], env)]
    const migrate = startStoreflow(['migrate'], env)
    const all = [server, ...workers]
    processes.push(...all, migrate)
    const names = ['serve', 'worker 1', 'worker 2']
    const explain = (what: string) =>
      `${what}\n${[...all, migrate].map((p, i) => `--- ${names[i] ?? 'migrate'} (${alive(p) ? 'alive' : `exited ${p.child.exitCode ?? p.child.signalCode}`}):\n${excerpt(p.output())}`).join('\n')}\n${timeline.join('\n')}`
    const assertAlive = () => {
      const dead = all.findIndex((p) => !alive(p))
      if (dead >= 0) throw new Error(explain(`${names[dead]} exited`))
    }
    const waiting = new RegExp(`waiting for PostgreSQL at 127\\.0\\.0\\.1:${pg.port} \\(connection refused\\)`)
    for (const [name, p] of [
      ['serve', server],
      ['worker 1', workers[0]!],
      ['worker 2', workers[1]!],
      ['migrate', migrate],
    ] as const) {
      await waitFor(`${name} to say it waits for PostgreSQL`, async () => waiting.test(p.output()) || !alive(p), 90_000, 50)
      expect(alive(p), explain(`${name} exited instead of waiting`)).toBe(true)
    }
    mark('all four wait for PostgreSQL')
    await pg.start()
    mark('PostgreSQL started')
    await waitFor('serve to be ready', async () => (await readyStatus(api)) === 200 || !alive(server), 90_000, 100)
    assertAlive()
    await waitFor('the workers to run', async () => workers.every((w) => /storeflow worker \S+ running/.test(w.output())) || !workers.every(alive), 90_000, 100)
    assertAlive()
    const migrated = await new Promise<number | null>((resolve) =>
      migrate.child.exitCode !== null ? resolve(migrate.child.exitCode) : migrate.child.on('exit', resolve),
    )
    expect(migrated, explain('migrate failed')).toBe(0)
    mark('serve ready, workers running, migrate done')

    // the store: an admin key and the workflow, set up through the library, which then lets go
    // of the database before any restart
    const config = await loadConfig({ dataDir: dir, databaseUrl: pg.url() }, { STOREFLOW_SECRET_KEY: 'pg-restart-test-key' }, dir)
    const setup = await createApp(config, { log: silentLogger })
    const { key } = await createKey(setup.handle.db, 'default', 'admin', new Date())
    await installWorkflow(
      setup,
      `
id: survives
name: Survives its database
trigger: { event: order.paid }
steps:
  - action: tag_customer
    with: { tags: ['paid'] }
  - action: send_email
    id: confirm
    with: { category: transactional, subject: 'Order {{ order.number }}', html: '<p>Thanks for order {{ order.number }}</p>' }
  - action: http_request
    id: notify
    with: { url: 'http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook', body: { order: '{{ order.id }}' }, timeout: 5s }
`,
    )
    await setup.close()

    // readiness, polled throughout, with the phase it was seen in
    let phase: 'up' | 'down' | 'after' = 'up'
    const readiness: Array<{ phase: string; status: number }> = []
    let polling = true
    const poller = (async () => {
      while (polling) {
        readiness.push({ phase, status: await readyStatus(api) })
        await sleep(50)
      }
    })()

    // a shop's client: an answer other than 2xx (or no answer) is sent again until accepted
    const accepted: string[] = []
    /** ingest requests awaiting an answer right now */
    let inFlight = 0
    /** how many were awaiting an answer as each restart or stop began: it landed under traffic */
    const underTraffic: number[] = []
    /** answers other than 2xx, by status (0: no answer), and the phase they came in */
    const refusals: Array<{ phase: string; status: number }> = []
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
    const send = async (i: number) => {
      const body = JSON.stringify({
        id: `evt-${i}`,
        type: 'order.paid',
        data: { id: `o${i}`, number: `${1000 + i}`, currency: 'USD', total_price: '10.00', customer: { id: `c${i}`, email: `c${i}@example.com` } },
      })
      const deadline = Date.now() + 90_000
      for (;;) {
        assertAlive()
        inFlight++
        const status = await fetch(`${api}/api/v1/events`, { method: 'POST', headers: auth, body, signal: AbortSignal.timeout(30_000) }).then(
          (r) => r.status,
          () => 0,
        )
        inFlight--
        if (status >= 200 && status < 300) {
          accepted.push(`evt-${i}`)
          return
        }
        refusals.push({ phase, status })
        if (Date.now() > deadline) throw new Error(explain(`event evt-${i} was never accepted`))
        await sleep(100)
      }
    }
    let next = 0
    const lanes = Array.from({ length: 4 }, async () => {
      while (next < EVENTS) {
        await send(next++)
      }
    })
    let failure: unknown = null
    const traffic = Promise.all(lanes).catch((err) => {
      failure = err
    })
    const atLeast = (n: number) => waitFor(`${n} events accepted`, async () => accepted.length >= n || failure !== null, 90_000, 10)

    let restarts = 0
    await atLeast(EVENTS / 6)
    mark(`${accepted.length} accepted; restart`)
    underTraffic.push(inFlight)
    await pg.restart()
    restarts++
    await atLeast(EVENTS / 3)
    // a longer outage: stop; /readyz says 503, and so does ingest once it has waited its few
    // seconds for the database; then start again
    mark(`${accepted.length} accepted; stop`)
    phase = 'down'
    underTraffic.push(inFlight)
    await pg.stop()
    await waitFor(
      '/readyz to answer 503 while PostgreSQL is down',
      async () => readiness.some((r) => r.phase === 'down' && r.status === 503) || failure !== null,
      30_000,
      20,
    )
    mark('/readyz 503')
    await waitFor('an event to be refused while PostgreSQL is down', async () => refusals.some((r) => r.phase === 'down') || failure !== null, 60_000, 20)
    mark(`refused: ${JSON.stringify(refusals)}; start`)
    phase = 'after'
    await pg.start()
    await atLeast((EVENTS * 2) / 3)
    mark(`${accepted.length} accepted; restart`)
    underTraffic.push(inFlight)
    await pg.restart()
    restarts++
    await traffic
    mark('all accepted')
    if (failure) throw failure
    expect(accepted).toHaveLength(EVENTS)

    // every accepted event's run completes
    const { get, listAll } = apiClient(api, key)
    type RunItem = { id: string; status: string; trigger_event_id: string }
    let runs: RunItem[] = []
    await waitFor(
      'every run to complete',
      async () => {
        assertAlive()
        runs = await listAll<RunItem>('/api/v1/runs')
        return runs.length >= EVENTS && runs.every((r) => r.status !== 'running' && r.status !== 'waiting')
      },
      90_000,
      250,
    ).catch((err: Error) => {
      throw new Error(explain(`${err.message}: ${runs.filter((r) => r.status === 'completed').length}/${runs.length} completed`))
    })
    polling = false
    await poller

    mark('all runs ended')
    // every process rode it out, and each outage began with events on their way in
    assertAlive()
    expect(
      underTraffic.every((n) => n > 0),
      `ingest requests in flight as each outage began: ${underTraffic.join(', ')}`,
    ).toBe(true)
    // /readyz said 503 while the database was away, and says 200 again
    expect(readiness.some((r) => r.phase === 'down' && r.status === 503)).toBe(true)
    expect(await readyStatus(api)).toBe(200)
    // while it was away, ingest answered 503 (try again), never a 500 and never silence
    expect(refusals.filter((r) => r.phase === 'down').length).toBeGreaterThan(0)
    expect(refusals.filter((r) => r.status !== 503)).toEqual([])

    // every event answered 2xx is stored, and started exactly one run, which completed
    const stored = new Set((await listAll<{ id: string }>('/api/v1/events')).map((e) => e.id))
    expect(accepted.filter((id) => !stored.has(id))).toEqual([])
    const byEvent = new Map<string, RunItem[]>()
    for (const r of runs) byEvent.set(r.trigger_event_id, [...(byEvent.get(r.trigger_event_id) ?? []), r])
    for (const id of accepted) {
      expect(
        byEvent.get(id)?.map((r) => r.status),
        `runs of ${id}`,
      ).toEqual(['completed'])
    }

    // effects, counted outside the product
    type Step = { id: string; key: string; status: string; attempts: number; output?: { smtp_message_id?: string; possible_duplicate?: boolean } }
    const details = await Promise.all(runs.map((r) => get<{ id: string; steps: Step[] }>(`/api/v1/runs/${r.id}`)))
    const mails = new Map<string, number>()
    for (const id of smtp.messageIds) mails.set(id, (mails.get(id) ?? 0) + 1)
    const hits = new Map<string, number>()
    for (const r of requests) hits.set(r.key, (hits.get(r.key) ?? 0) + 1)
    const expectedMail = new Set<string>()
    const expectedKeys = new Set<string>()
    let flagged = 0
    for (const run of details) {
      const confirm = run.steps.find((s) => s.id === 'confirm')!
      const notify = run.steps.find((s) => s.id === 'notify')!
      expect([confirm.status, notify.status]).toEqual(['completed', 'completed'])
      // one mail per run; a second copy only where the step says it may have sent one, with the same Message-ID
      const messageId = confirm.output!.smtp_message_id!
      expectedMail.add(messageId)
      const copies = mails.get(messageId) ?? 0
      if (confirm.output!.possible_duplicate) {
        flagged++
        expect(copies, `copies of the flagged mail of ${run.id}`).toBeGreaterThanOrEqual(1)
        expect(copies, `copies of the flagged mail of ${run.id}`).toBeLessThanOrEqual(confirm.attempts)
      } else {
        expect(copies, `mail of ${run.id}`).toBe(1)
      }
      // one request per step idempotency key; a repeat only for an attempt the product recorded
      const key = `${run.id}:notify`
      expectedKeys.add(key)
      const n = hits.get(key) ?? 0
      expect(n, `requests for ${key}`).toBeGreaterThanOrEqual(1)
      expect(n, `requests for ${key} beyond the attempts its step records`).toBeLessThanOrEqual(notify.attempts)
    }
    expect([...mails.keys()].filter((id) => !expectedMail.has(id))).toEqual([])
    expect([...hits.keys()].filter((k) => !expectedKeys.has(k))).toEqual([])
    // never two workers acting on one step at once: requests for one key never overlap
    for (const [key] of [...hits].filter(([, n]) => n > 1)) {
      const spans = requests.filter((r) => r.key === key).sort((a, b) => a.start - b.start)
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.start, `overlapping requests for ${key}`).toBeGreaterThanOrEqual(spans[i - 1]!.end)
    }

    for (const p of all) expect(await p.stop(), explain('a process did not stop cleanly')).toBe(0)
    mark('stopped')
    console.info(
      `[pg-restart] ${restarts} restarts and one stop; ${refusals.length} events answered 503 and sent again; ${readiness.filter((r) => r.status === 503).length} /readyz 503s; ${flagged} mails flagged possible_duplicate, ${smtp.messageIds.length - mails.size} received twice; ${requests.length - hits.size} repeated requests\n${timeline.join('\n')}`,
    )
  })
})
