/**
 * Scale-out on PostgreSQL as an installation runs it: one API node (`storeflow serve --no-worker`)
 * and 1, 2, then 4 `storeflow worker` processes, real processes of the compiled CLI, over a
 * database of the bench's own (created, then dropped). A one-step workflow (order.paid tags its
 * customer); events over HTTP from the load generator (bench/loadgen.ts, its own process), for
 * one store, then spread over 50 stores (an agency's installation: a router per store).
 *
 * PostgreSQL is a cluster of the bench's own (initdb in a temp directory, fsync on, removed
 * after) where the server binaries are installed: a router reads only events older than every
 * transaction open on the cluster, so other clients' transactions on a shared server would hold
 * routing back and the figures would be theirs. Without the binaries, BENCH_DATABASE_URL's server.
 *
 * For each worker count and store count, on a fresh database:
 * 1. ingest alone: the API node with no worker running, closed loop (96 connections): events/s
 *    the API stores. The events pile up unrouted (routing is the workers').
 * 2. drain: then the workers start; how fast they route that backlog and complete its runs
 *    (runs/s, the API idle): the workers' and PostgreSQL's capacity.
 * 3. mixed: ingest and workers together, closed loop again: events/s accepted, runs completed/s,
 *    and the router's lag, accepted → routed (events.received_at → runs.started_at, both written
 *    by the product), p50/p99 over the events accepted in the window.
 * In every phase: CPU (cores) of the API node, each worker, PostgreSQL (every process of the
 * private cluster; on a shared server the backends serving the product, by application_name), the
 * load generator; PostgreSQL's commits (pg_stat_database) per run.
 *
 * Ceilings, measured in the same run: bare Fastify on the same POST (ingest); PostgreSQL's own
 * commit rate for one-row UPDATE transactions from 8 connections, divided by the commits each run
 * took (runs/s); the router's lag at a trickle (20 events/s, open loop), its poll interval showing.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { loadConfig } from '../src/config.ts'
import { silentLogger } from '../src/lib/logger.ts'
import { parseWorkflow } from '../src/core/workflow/parse.ts'
import { createApp } from '../src/main.ts'
import { createKey, createStore, DEFAULT_STORE } from '../src/store/stores.repo.ts'
import { saveWorkflow } from '../src/store/workflows.repo.ts'
import { createPrivatePostgres, findPostgresBinaries, type PrivatePostgres } from '../test/helpers/private-postgres.ts'
import { processCpuMs } from './lib/cpu.ts'
import { BENCH_DATABASE_URL, round, sleep } from './lib/env.ts'
import { runLoad } from './lib/load-client.ts'
import { ONE_STEP } from './lib/workflows.ts'
import type { LoadResult } from './loadgen.ts'

const CLI = fileURLToPath(new URL('../bin/storeflow.mjs', import.meta.url))
/** the application_name of the product's connections (API node, workers): PostgreSQL's CPU is theirs */
const PRODUCT_APP = `storeflow-scaleout-${process.pid}`
const HARNESS_APP = `storeflow-scaleout-harness-${process.pid}`

export interface ScaleoutSizes {
  warmupMs: number
  durationMs: number
  concurrency: number
  /** longest wait for runs to complete before the routers' lag is read */
  drainMaxMs: number
  /** the drain phase's window */
  drainWindowMs: number
}

/** CPU over a phase, in cores (1 = one core busy throughout). */
export interface PhaseCpu {
  api: number
  workers: number[]
  postgres: number
  load_client?: number
}

/** events/s of the open-loop phase: a store taking 100 orders a minute sends about 8 (README, Scaling out) */
export const SUSTAINED_RATE = 10

export interface ScaleoutPoint {
  workers: number
  stores: number
  /** open loop at SUSTAINED_RATE, spread over the stores: the routers' lag at a busy store's pace */
  sustained: { rate: number; achieved_per_s: number; router_lag: Lag; cpu: PhaseCpu }
  /** closed loop, the highest rate: ingest and runs at once */
  mixed: {
    events_per_s: number
    completed_per_s: number
    started_per_s: number
    p99_http_ms: number
    backlog_at_end: number
    /** accepted → routed while saturated: grows with the backlog when routing is the slower part */
    router_lag: Lag
    cpu: PhaseCpu
    commits_per_run: number
  }
  /** then the API idle: the runs the workers complete per second on what the load left */
  drain: {
    backlog: number
    runs_per_s: number
    seconds: number
    /** runs not completed when the window closed */
    left: number
    cpu: PhaseCpu
    commits_per_run: number
  }
}

export interface Lag {
  p50_ms: number
  p99_ms: number
  max_ms: number
  events: number
  /** events of the window with no run yet when they were counted */
  unrouted: number
}

export interface ScaleoutResult {
  /** the API node with no worker, per store count */
  ingest_alone: Array<{ stores: number; events_per_s: number; p99_ms: number; non_202: number; cpu: PhaseCpu }>
  points: ScaleoutPoint[]
  ceilings: {
    /** one-row UPDATE transactions per second, 8 connections, on the same server and database */
    pg_commits_per_s: number
    pg_commit_cpu: number
    /** router lag at 2 events/s with one worker: its poll interval and little else */
    trickle_lag: Lag
  }
  postgres: { version: string; synchronous_commit: string; fsync: string; max_connections: number; private_cluster: boolean }
}

/** Where the bench's databases live, and how PostgreSQL's CPU is read there. */
interface Server {
  url(database: string, application?: string): string
  /** the private cluster's postmaster: all its processes are the bench's */
  postmaster: number | null
  close(): Promise<void>
}

const SHARED: Server = {
  url: (database, application) => withDatabase(BENCH_DATABASE_URL, database, application),
  postmaster: null,
  close: async () => undefined,
}
let server: Server = SHARED

function withDatabase(base: string, database: string, application?: string): string {
  const u = new URL(base)
  u.pathname = `/${database}`
  if (application) u.searchParams.set('application_name', application)
  return u.toString()
}

async function openServer(): Promise<Server> {
  if (!findPostgresBinaries()) {
    console.warn('  scaleout: no PostgreSQL server binaries: using BENCH_DATABASE_URL, where other clients’ transactions hold routing back')
    return SHARED
  }
  const cluster: PrivatePostgres = await createPrivatePostgres({ durable: true })
  await cluster.start()
  const client = new pg.Client({ connectionString: cluster.url() })
  await client.connect()
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid')
  // read while the backend lives: its parent is the postmaster
  const postmaster = parentPid(rows[0]!.pid)
  await client.end()
  return {
    url: (database, application) => withDatabase(cluster.url(), database, application),
    postmaster,
    close: () => cluster.destroy(),
  }
}

function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return null
  }
}

/** CPU of a process and its children (the postmaster: backends, WAL writer, checkpointer…), ms. */
function treeCpuMs(root: number): number {
  let total = processCpuMs(root)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (parentPid(pid) === root) total += processCpuMs(pid)
  }
  return total
}

interface Proc {
  child: ChildProcess
  pid: number
  output(): string
  /** SIGTERM, then the exit code (SIGKILL after 30 s) */
  stop(): Promise<number | null>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** `storeflow ARGS` as an operator starts it; resolves once its output says `ready`. */
function startCli(args: string[], env: Record<string, string>, cwd: string, ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-8000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const proc: Proc = {
    child,
    pid: child.pid!,
    output: () => out,
    stop() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
      return new Promise((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 30_000)
        child.once('exit', (code) => {
          clearTimeout(kill)
          resolve(code)
        })
        child.kill('SIGTERM')
      })
    },
  }
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`storeflow ${args.join(' ')} exited with ${code} before it was ready:\n${out}`))
    child.once('exit', onExit)
    const check = () => {
      if (!ready.test(out)) return
      child.stdout!.off('data', check)
      child.off('exit', onExit)
      resolve(proc)
    }
    child.stdout!.on('data', check)
  })
}

function urlFor(database: string, application: string): string {
  return server.url(database, application)
}

async function adminQuery<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url('postgres') })
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end()
  }
}

interface Snapshot {
  at: number
  iso: string
  api: number
  workers: number[]
  pg: number
  commits: number
  completed: number
  started: number
  events: number
}

/** The harness's one connection to the bench database: counts and the backends' CPU. */
class Observer {
  constructor(
    private readonly client: pg.Client,
    private readonly database: string,
  ) {}

  static async open(database: string): Promise<Observer> {
    const client = new pg.Client({ connectionString: urlFor(database, HARNESS_APP) })
    await client.connect()
    return new Observer(client, database)
  }

  async postgresCpuMs(): Promise<number> {
    if (server.postmaster) return treeCpuMs(server.postmaster)
    const { rows } = await this.client.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [PRODUCT_APP])
    let total = 0
    for (const { pid } of rows) total += processCpuMs(pid)
    return total
  }

  async snapshot(api: Proc, workers: Proc[]): Promise<Snapshot> {
    const at = performance.now()
    const cpu = { api: processCpuMs(api.pid), workers: workers.map((w) => processCpuMs(w.pid)), pg: await this.postgresCpuMs() }
    const { rows } = await this.client.query<{ completed: string; started: string; events: string; commits: string }>(
      `select (select count(*) from runs where status = 'completed') as completed, (select count(*) from runs) as started,
        (select count(*) from events where type = 'order.paid') as events, (select xact_commit from pg_stat_database where datname = $1) as commits`,
      [this.database],
    )
    const r = rows[0]!
    return {
      at,
      iso: new Date(performance.timeOrigin + at).toISOString(),
      ...cpu,
      completed: Number(r.completed),
      started: Number(r.started),
      events: Number(r.events),
      commits: Number(r.commits),
    }
  }

  /** accepted → routed for the events received in [from, to): the product's own timestamps */
  async routerLag(from: string, to: string): Promise<Lag> {
    const { rows } = await this.client.query<{ p50: number | null; p99: number | null; max: number | null; routed: string; total: string }>(
      `with w as (select store_id, id, received_at from events where type = 'order.paid' and received_at >= $1 and received_at < $2),
        lag as (select extract(epoch from (min(r.started_at)::timestamptz - w.received_at::timestamptz)) * 1000 as ms
          from w join runs r on r.store_id = w.store_id and r.trigger_event_id = w.id group by w.store_id, w.id, w.received_at)
       select percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.99) within group (order by ms) as p99,
         max(ms) as max, (select count(*) from lag) as routed, (select count(*) from w) as total from lag`,
      [from, to],
    )
    const r = rows[0]!
    return {
      p50_ms: round(Number(r.p50), 1),
      p99_ms: round(Number(r.p99), 1),
      max_ms: round(Number(r.max), 1),
      events: Number(r.routed),
      unrouted: Number(r.total) - Number(r.routed),
    }
  }

  close(): Promise<void> {
    return this.client.end()
  }
}

function cpuBetween(a: Snapshot, b: Snapshot, loadClientMs?: number): PhaseCpu {
  const ms = b.at - a.at
  return {
    api: round((b.api - a.api) / ms, 2),
    workers: a.workers.map((w, i) => round((b.workers[i]! - w) / ms, 2)),
    postgres: round((b.pg - a.pg) / ms, 2),
    ...(loadClientMs === undefined ? {} : { load_client: round(loadClientMs / ms, 2) }),
  }
}

/** A database of the bench's own: migrated, `stores` stores each with the one-step workflow active and an ingest key. */
async function createDatabase(name: string, dir: string, stores: number): Promise<string[]> {
  await adminQuery(`create database ${name}`)
  const config = await loadConfig({ dataDir: dir, databaseUrl: urlFor(name, HARNESS_APP) }, { STOREFLOW_SECRET_KEY: 'bench-secret-key' }, dir)
  const app = await createApp(config, { log: silentLogger })
  try {
    const keys: string[] = []
    for (let i = 0; i < stores; i++) {
      const store = i === 0 ? DEFAULT_STORE : `store-${String(i + 1).padStart(2, '0')}`
      if (i > 0) await createStore(app.handle.db, { id: store }, new Date())
      const parsed = parseWorkflow(ONE_STEP, (t) => app.actions.get(t))
      parsed.file.active = true
      await saveWorkflow(app.handle.db, store, parsed, ONE_STEP, new Date())
      keys.push((await createKey(app.handle.db, store, 'ingest', new Date())).key)
    }
    return keys
  } finally {
    await app.close()
  }
}

async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`drop database if exists ${name} with (force)`)
}

interface Stack {
  api: Proc
  workers: Proc[]
  port: number
  startWorkers(n: number): Promise<void>
  stop(): Promise<void>
}

async function startStack(database: string, dir: string): Promise<Stack> {
  const env = {
    DATABASE_URL: urlFor(database, PRODUCT_APP),
    STOREFLOW_SECRET_KEY: 'bench-secret-key',
    STOREFLOW_DATA_DIR: dir,
    STOREFLOW_LOG_LEVEL: 'warn',
  }
  const port = await freePort()
  const api = await startCli(['serve', '--no-worker', '--port', String(port)], env, dir, /storeflow listening on/)
  const stack: Stack = {
    api,
    workers: [],
    port,
    async startWorkers(n) {
      const started = await Promise.all(Array.from({ length: n }, () => startCli(['worker'], env, dir, /storeflow worker .* running/)))
      stack.workers.push(...started)
    },
    async stop() {
      // graceful, as an operator stops them: what a worker claimed is finished or handed back
      const codes = await Promise.all([...stack.workers, api].map((p) => p.stop()))
      const bad = codes.findIndex((c) => c !== 0)
      if (bad >= 0) console.warn(`  scaleout: a process exited with ${codes[bad]} on SIGTERM`)
    },
  }
  return stack
}

async function untilCompleted(observer: Observer, stack: Stack, target: number, maxMs: number): Promise<Snapshot> {
  const deadline = performance.now() + maxMs
  for (;;) {
    const s = await observer.snapshot(stack.api, stack.workers)
    if (s.completed >= target || performance.now() > deadline) return s
    await sleep(50)
  }
}

async function load(
  stack: Stack,
  keys: string[],
  sizes: ScaleoutSizes,
  tag: string,
  observer: Observer,
): Promise<{ result: LoadResult; a: Snapshot; b: Snapshot }> {
  const marks: { first?: Promise<Snapshot>; last?: Promise<Snapshot> } = {}
  const result = await runLoad(
    {
      mode: 'closed',
      port: stack.port,
      path: '/api/v1/events',
      token: null,
      tokens: keys,
      concurrency: sizes.concurrency,
      warmupMs: sizes.warmupMs,
      durationMs: sizes.durationMs,
      tag,
      customers: 20_000,
    },
    (phase) => {
      if (phase === 'measuring') marks.first = observer.snapshot(stack.api, stack.workers)
      else marks.last = observer.snapshot(stack.api, stack.workers)
    },
  )
  if (!marks.first || !marks.last) throw new Error('the load generator did not report its measured window')
  return { result, a: await marks.first, b: await marks.last }
}

/** Open loop at `rate` events/s for `ms`; the routers' lag of those events once routed. */
async function openLoopLag(stack: Stack, observer: Observer, keys: string[], rate: number, ms: number, tag: string, maxWaitMs: number) {
  const from = new Date().toISOString()
  const a = await observer.snapshot(stack.api, stack.workers)
  const open = await runLoad({
    mode: 'open',
    rate,
    port: stack.port,
    path: '/api/v1/events',
    token: null,
    tokens: keys,
    concurrency: 16,
    warmupMs: 0,
    durationMs: ms,
    tag,
    customers: 20_000,
  })
  const b = await observer.snapshot(stack.api, stack.workers)
  const to = new Date().toISOString()
  await untilCompleted(observer, stack, b.events, maxWaitMs)
  return { rate, achieved_per_s: Math.round(open.perSecond), router_lag: await observer.routerLag(from, to), cpu: cpuBetween(a, b, open.clientCpuMs) }
}

/** The API node alone (no worker) on a database of its own: the events/s it stores. */
async function ingestAlone(stores: number, sizes: ScaleoutSizes, dir: string): Promise<ScaleoutResult['ingest_alone'][number]> {
  const database = `storeflow_scaleout_${process.pid}_ingest_${stores}s`
  await dropDatabase(database)
  const keys = await createDatabase(database, dir, stores)
  const observer = await Observer.open(database)
  let stack: Stack | null = null
  try {
    stack = await startStack(database, dir)
    const ing = await load(stack, keys, { ...sizes, warmupMs: 1000, durationMs: Math.min(sizes.durationMs, 5000) }, `alone-${stores}`, observer)
    return {
      stores,
      events_per_s: Math.round(ing.result.perSecond),
      p99_ms: round(ing.result.p99, 1),
      non_202: ing.result.other,
      cpu: cpuBetween(ing.a, ing.b, ing.result.clientCpuMs),
    }
  } finally {
    await stack?.stop()
    await observer.close()
    await dropDatabase(database)
  }
}

/**
 * One worker count on a fresh database, the API node and the workers running throughout:
 * a store's pace first (open loop, SUSTAINED_RATE events/s: the routers' lag), then the highest
 * rate (closed loop: runs completed while ingest takes all it can), then the API idle while the
 * workers work off what that left (runs/s: the workers' and PostgreSQL's capacity).
 */
async function measurePoint(workers: number, stores: number, sizes: ScaleoutSizes, dir: string): Promise<ScaleoutPoint> {
  const database = `storeflow_scaleout_${process.pid}_${workers}w_${stores}s`
  await dropDatabase(database)
  const keys = await createDatabase(database, dir, stores)
  const observer = await Observer.open(database)
  let stack: Stack | null = null
  try {
    stack = await startStack(database, dir)
    await stack.startWorkers(workers)
    // 1. a busy store's pace
    const sustained = await openLoopLag(stack, observer, keys, SUSTAINED_RATE, sizes.durationMs, `sustained-${workers}`, sizes.drainMaxMs)
    // 2. the highest rate
    const mix = await load(stack, keys, sizes, `mixed-${workers}`, observer)
    const s = (mix.b.at - mix.a.at) / 1000
    const done = mix.b.completed - mix.a.completed
    const mixed = {
      events_per_s: Math.round(mix.result.perSecond),
      completed_per_s: Math.round(done / s),
      started_per_s: Math.round((mix.b.started - mix.a.started) / s),
      p99_http_ms: round(mix.result.p99, 1),
      backlog_at_end: mix.b.events - mix.b.completed,
      router_lag: await observer.routerLag(mix.a.iso, mix.b.iso),
      cpu: cpuBetween(mix.a, mix.b, mix.result.clientCpuMs),
      commits_per_run: round((mix.b.commits - mix.a.commits) / Math.max(1, done), 1),
    }
    // 3. the API idle, the workers on the backlog
    const d0 = await observer.snapshot(stack.api, stack.workers)
    const d1 = await untilCompleted(observer, stack, d0.events, sizes.drainWindowMs)
    const drainSeconds = (d1.at - d0.at) / 1000
    const drainDone = d1.completed - d0.completed
    const drain = {
      backlog: d0.events - d0.completed,
      runs_per_s: Math.round(drainDone / drainSeconds),
      seconds: round(drainSeconds, 1),
      left: d1.events - d1.completed,
      cpu: cpuBetween(d0, d1),
      commits_per_run: round((d1.commits - d0.commits) / Math.max(1, drainDone), 1),
    }
    return { workers, stores, sustained, mixed, drain }
  } finally {
    await stack?.stop()
    await observer.close()
    await dropDatabase(database)
  }
}

/** PostgreSQL's ceiling for short write transactions here: one-row UPDATEs, autocommit, 8 connections. */
async function commitCeiling(ms: number): Promise<{ commits_per_s: number; cpu: number }> {
  const database = `storeflow_scaleout_${process.pid}_ceiling`
  await dropDatabase(database)
  await adminQuery(`create database ${database}`)
  const clients = Array.from({ length: 8 }, () => new pg.Client({ connectionString: urlFor(database, PRODUCT_APP) }))
  try {
    await Promise.all(clients.map((c) => c.connect()))
    await clients[0]!.query('create table t (id int primary key, v bigint not null)')
    await clients[0]!.query('insert into t select g, 0 from generate_series(1, 1000) g')
    const observer = await Observer.open(database)
    const pg0 = await observer.postgresCpuMs()
    const t0 = performance.now()
    const end = t0 + ms
    let commits = 0
    await Promise.all(
      clients.map(async (c, i) => {
        let id = i
        while (performance.now() < end) {
          await c.query('update t set v = v + 1 where id = $1', [(id % 1000) + 1])
          id += 8
          commits++
        }
      }),
    )
    const elapsed = performance.now() - t0
    const cpu = round(((await observer.postgresCpuMs()) - pg0) / elapsed, 2)
    await observer.close()
    return { commits_per_s: Math.round((commits * 1000) / elapsed), cpu }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)))
    await dropDatabase(database)
  }
}

/** The router's lag at a trickle (one worker, 2 events/s open loop): its floor. */
async function trickleLag(sizes: ScaleoutSizes, dir: string): Promise<Lag> {
  const database = `storeflow_scaleout_${process.pid}_trickle`
  await dropDatabase(database)
  const keys = await createDatabase(database, dir, 1)
  const observer = await Observer.open(database)
  let stack: Stack | null = null
  try {
    stack = await startStack(database, dir)
    await stack.startWorkers(1)
    return (await openLoopLag(stack, observer, keys, 2, Math.max(5000, sizes.durationMs), 'trickle', sizes.drainMaxMs)).router_lag
  } finally {
    await stack?.stop()
    await observer.close()
    await dropDatabase(database)
  }
}

export async function benchScaleout(
  workerCounts: number[],
  storeCounts: number[],
  sizes: ScaleoutSizes,
  log: (line: string) => void = () => {},
): Promise<ScaleoutResult> {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-scaleout-'))
  server = await openServer()
  try {
    const [settings] = await adminQuery<{ version: string; sc: string; fsync: string; mc: string }>(
      "select current_setting('server_version') as version, current_setting('synchronous_commit') as sc, current_setting('fsync') as fsync, current_setting('max_connections') as mc",
    )
    const commit = await commitCeiling(Math.max(2000, sizes.durationMs / 2))
    log(`  scaleout: PostgreSQL ${commit.commits_per_s} one-row commits/s from 8 connections (${commit.cpu} cores)`)
    const trickle = await trickleLag(sizes, dir)
    log(`  scaleout: router lag at 2 events/s p50 ${trickle.p50_ms} ms, p99 ${trickle.p99_ms} ms`)
    const points: ScaleoutPoint[] = []
    const alone: ScaleoutResult['ingest_alone'] = []
    for (const stores of storeCounts) {
      const a = await ingestAlone(stores, sizes, dir)
      log(`  scaleout: ${stores} store(s), API alone: ${JSON.stringify(a)}`)
      alone.push(a)
      for (const n of workerCounts) {
        const p = await measurePoint(n, stores, sizes, dir)
        log(`  scaleout: ${stores} store(s), ${n} worker(s): ${JSON.stringify(p)}`)
        points.push(p)
      }
    }
    return {
      ingest_alone: alone,
      points,
      ceilings: { pg_commits_per_s: commit.commits_per_s, pg_commit_cpu: commit.cpu, trickle_lag: trickle },
      postgres: {
        version: settings!.version,
        synchronous_commit: settings!.sc,
        fsync: settings!.fsync,
        max_connections: Number(settings!.mc),
        private_cluster: server.postmaster !== null,
      },
    }
  } finally {
    await server.close()
    server = SHARED
    rmSync(dir, { recursive: true, force: true })
  }
}
