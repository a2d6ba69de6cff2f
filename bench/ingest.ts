import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { buildServer } from '../src/http/server.ts'
import { createKey } from '../src/store/stores.repo.ts'
import type { LoadResult } from './loadgen.ts'
import { ownCpuMs, postgresCpuMs } from './lib/cpu.ts'
import type { App } from '../src/main.ts'
import { BENCH_DATABASE_URL, BENCH_PG_APPLICATION, createBenchEnv, percentile, round, sleep, type Dialect } from './lib/env.ts'
import { runLoad } from './lib/load-client.ts'
import { watchRuns, type RunWatcher } from './lib/run-watcher.ts'
import { startEmbeddedWorker, startWorkers } from './lib/workers.ts'
import { installWorkflow, TEN_WORKFLOWS } from './lib/workflows.ts'

export interface IngestSizes {
  warmupMs: number
  /** the bare Fastify ceiling and PostgreSQL ingest */
  durationMs: number
  /** SQLite at the highest rate: the load the router must keep up with (20 s in the issue) */
  maxLoadMs: number
  concurrency: number
  /** the open-loop run at half the highest rate */
  latencyMs: number
}

export interface Throughput {
  events_per_s: number
  accepted: number
  non_202: number
  p50_ms: number
  p99_ms: number
  body_bytes_avg: number
  client_cpu_ms: number
}

function throughput(r: LoadResult): Throughput {
  return {
    events_per_s: Math.round(r.perSecond),
    accepted: r.accepted,
    non_202: r.other,
    p50_ms: round(r.p50, 2),
    p99_ms: round(r.p99, 2),
    body_bytes_avg: Math.round(r.bodyBytesAvg),
    client_cpu_ms: Math.round(r.clientCpuMs),
  }
}

async function listen(server: FastifyInstance): Promise<number> {
  await server.listen({ port: 0, host: '127.0.0.1' })
  return (server.server.address() as AddressInfo).port
}

/**
 * The ceiling: Fastify parsing the same JSON body and answering 202, nothing else. Closed loop
 * (its highest rate), or with `rate` open loop at that rate (its latency, for comparison).
 */
export async function benchBareFastify(sizes: IngestSizes, rate?: number): Promise<Throughput> {
  const server = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  server.post('/api/v1/events', async (request, reply) => {
    const body = request.body as { id?: string }
    return reply.status(202).send({ id: body.id, duplicate: false })
  })
  const port = await listen(server)
  try {
    return throughput(
      await runLoad({
        ...(rate === undefined
          ? { mode: 'closed', concurrency: sizes.concurrency, warmupMs: sizes.warmupMs, durationMs: sizes.durationMs }
          : { mode: 'open', concurrency: 64, rate, warmupMs: 1000, durationMs: sizes.latencyMs }),
        port,
        path: '/api/v1/events',
        token: null,
        tag: 'bare',
        customers: 20_000,
      }),
    )
  } finally {
    await server.close()
  }
}

/** CPU used in the load's window, as a share of one core (1 = one core busy throughout). */
export interface CpuShares {
  api: number
  worker: number
  load_client: number
  postgres?: number
}

export interface RouterFigures {
  /** from the last 202 of the highest-rate load until every accepted event had a visible run */
  backlog_drain_ms: number
  /** accepted events that had no run when the watcher gave up */
  unrouted: number
  accepted_total: number
  /** the watcher's own cost: one poll of the runs table */
  watch_poll_ms_avg: number
  /** p99 of the time between its polls: the resolution of the drain time */
  watch_step_p99_ms: number
  /** from the last 202 to the watcher's next poll: no shorter drain can be seen */
  watch_floor_ms: number
}

export interface Visibility {
  /** event accepted (202 at the client) → its first run visible to another connection */
  p50_ms: number
  p99_ms: number
  max_ms: number
  /** share of events whose run was already visible when the 202 arrived */
  visible_at_answer: number
  events: number
  never_visible: number
  /** the watcher's resolution during the load: p99 of the time between its polls */
  watch_step_p99_ms: number
  /** p99 over the events of the time from their 202 to the watcher's next poll: no lower figure can be seen */
  watch_floor_p99_ms: number
}

export interface StoreflowIngest {
  throughput: Throughput
  cpu: CpuShares
  runs_started: number
  /** after the highest-rate load, until the worker had no run due (null: still some after CATCH_UP_MAX_MS) */
  worker_catch_up_ms?: number | null
  router?: RouterFigures
  latency?: {
    rate: number
    p50_ms: number
    p90_ms: number
    p99_ms: number
    max_ms: number
    achieved_per_s: number
    non_202: number
    backlog_max: number
    run_visible?: Visibility
  }
}

/** How long the half-rate run waits for the worker to finish the highest rate's runs. */
const CATCH_UP_MAX_MS = 60_000

async function untilNothingDue(app: App, maxMs: number): Promise<number | null> {
  const t0 = performance.now()
  for (;;) {
    const due = await app.handle.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('due_at', '<=', app.clock.now().toISOString())
      .executeTakeFirstOrThrow()
    const ms = performance.now() - t0
    if (Number(due.n) === 0) return Math.round(ms)
    if (ms > maxMs) return null
    await sleep(100)
  }
}

/** How long the watcher waits for the router before it counts the rest as never routed. */
const DRAIN_TIMEOUT_MS = 60_000

/**
 * The real server (buildServer over createApp) with ten active workflows and a worker, which
 * advances runs (and routes events, where routing is the worker's): on SQLite embedded, as
 * `storeflow serve` runs on one machine; on PostgreSQL one API node (`serve --no-worker`) beside
 * one `storeflow worker` process. On SQLite a watcher process (bench/run-watcher.ts) sees runs
 * appear through its own read-only connection: the router's backlog after the highest-rate
 * load, and how soon each event's run became visible at half that rate. Runs are counted in the
 * database, never from what ingest returns.
 */
export async function benchStoreflowIngest(
  dialect: Dialect,
  sizes: IngestSizes,
  options: { latencyRate: ((measured: number) => number) | null },
): Promise<StoreflowIngest> {
  const env = await createBenchEnv(dialect)
  try {
    for (const yaml of TEN_WORKFLOWS) await installWorkflow(env.app, yaml)
    const { key } = await createKey(env.app.handle.db, 'default', 'ingest', new Date())
    const server = await buildServer(env.app)
    const port = await listen(server)
    const workers = dialect === 'sqlite' ? startEmbeddedWorker(env) : await startWorkers(env, 1)
    const watcher: RunWatcher | null = dialect === 'sqlite' ? await watchRuns(env.databaseUrl) : null
    let watcherStopped = false
    try {
      const tag = `tp-${dialect}`
      interface Sample {
        api: number
        worker: number
        pg: number
        at: number
      }
      const sample = async (): Promise<Sample> => {
        const at = performance.now()
        const api = ownCpuMs()
        const worker = workers.cpuMs()[0] ?? Number.NaN
        return { api, worker, at, pg: dialect === 'postgres' ? await postgresCpuMs(BENCH_DATABASE_URL, BENCH_PG_APPLICATION) : Number.NaN }
      }
      const marks: { first?: Promise<Sample>; last?: Promise<Sample> } = {}
      const durationMs = dialect === 'sqlite' ? sizes.maxLoadMs : sizes.durationMs
      const load = await runLoad(
        {
          mode: 'closed',
          port,
          path: '/api/v1/events',
          token: key,
          concurrency: sizes.concurrency,
          warmupMs: sizes.warmupMs,
          durationMs,
          tag,
          customers: 20_000,
          recordAcks: watcher !== null,
        },
        (phase) => {
          if (phase === 'measuring') marks.first = sample()
          else marks.last = sample()
        },
      )
      const cpu: CpuShares = { api: Number.NaN, worker: Number.NaN, load_client: round(load.clientCpuMs / (sizes.warmupMs + durationMs), 2) }
      if (marks.first && marks.last) {
        const a = await marks.first
        const b = await marks.last
        const ms = b.at - a.at
        cpu.api = round((b.api - a.api) / ms, 2)
        cpu.worker = round((b.worker - a.worker) / ms, 2)
        if (dialect === 'postgres') cpu.postgres = round((b.pg - a.pg) / ms, 2)
      }
      const result: StoreflowIngest = { throughput: throughput(load), cpu, runs_started: 0 }
      if (watcher && load.acks) {
        const accepted: number[] = []
        let lastAck = 0
        for (const [i, at] of load.acks.entries()) {
          if (at === 0) continue
          accepted.push(i)
          lastAck = Math.max(lastAck, at)
        }
        const drained = await watcher.drain(tag, accepted, DRAIN_TIMEOUT_MS)
        result.router = {
          backlog_drain_ms: drained.missing > 0 ? Number.NaN : Math.round(Math.max(0, drained.drainedAt - lastAck)),
          unrouted: drained.missing,
          accepted_total: accepted.length,
          watch_poll_ms_avg: Number.NaN,
          watch_step_p99_ms: round(drained.stepP99, 1),
          watch_floor_ms: round((firstAtOrAfter(drained.pollStarts, lastAck) ?? Number.NaN) - lastAck, 1),
        }
      }
      const runs = await env.app.handle.db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      result.runs_started = Number(runs.n)
      if (options.latencyRate) {
        // the half-rate run measures a steady state, not the worker still finishing the
        // highest-rate load's runs
        result.worker_catch_up_ms = await untilNothingDue(env.app, CATCH_UP_MAX_MS)
        const rate = options.latencyRate(load.perSecond)
        const latTag = `lat-${dialect}`
        const lat = await runLoad({
          mode: 'open',
          port,
          path: '/api/v1/events',
          token: key,
          concurrency: 64,
          rate,
          warmupMs: 1000,
          durationMs: sizes.latencyMs,
          tag: latTag,
          customers: 20_000,
          recordAcks: watcher !== null,
        })
        result.latency = {
          rate,
          p50_ms: round(lat.p50, 2),
          p90_ms: round(lat.p90, 2),
          p99_ms: round(lat.p99, 2),
          max_ms: round(lat.max, 2),
          achieved_per_s: Math.round(lat.perSecond),
          non_202: lat.other,
          backlog_max: lat.backlogMax,
        }
        if (watcher && lat.acks) result.latency.run_visible = await visibility(watcher, latTag, lat)
      }
      if (watcher) {
        watcherStopped = true
        const stats = await watcher.stop()
        if (result.router) result.router.watch_poll_ms_avg = round(stats.pollMsAvg, 3)
      }
      return result
    } finally {
      if (watcher && !watcherStopped) await watcher.stop().catch(() => undefined)
      await workers.stop()
      await server.close()
    }
  } finally {
    await env.cleanup()
  }
}

/** Accepted → visible for the events of the measured window (sent in it, answered before its end). */
async function visibility(watcher: RunWatcher, tag: string, load: LoadResult): Promise<Visibility> {
  const acks = load.acks!
  const indices: number[] = []
  for (let i = load.windowFrom!; i < acks.length; i++) if (acks[i]! > 0 && acks[i]! <= load.windowEndAt!) indices.push(i)
  const drained = await watcher.drain(tag, indices, DRAIN_TIMEOUT_MS)
  const delays: number[] = []
  // what the watcher could not see sooner: from the 202 to its next poll (a stalled watcher
  // delays every event answered during the stall)
  const floors: number[] = []
  let atAnswer = 0
  for (const [k, i] of indices.entries()) {
    const ack = acks[i]!
    const next = firstAtOrAfter(drained.pollStarts, ack)
    if (next !== undefined) floors.push(next - ack)
    const seen = drained.seen[k]!
    if (seen === 0) continue
    const d = seen - ack
    if (d <= 0) atAnswer++
    delays.push(Math.max(0, d))
  }
  const sorted = Float64Array.from(delays).sort()
  const floorSorted = Float64Array.from(floors).sort()
  return {
    p50_ms: round(percentile(sorted, 50), 1),
    p99_ms: round(percentile(sorted, 99), 1),
    max_ms: round(sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN, 1),
    visible_at_answer: round(atAnswer / Math.max(1, indices.length), 3),
    events: indices.length,
    never_visible: drained.missing,
    watch_step_p99_ms: round(drained.stepP99, 1),
    watch_floor_p99_ms: round(percentile(floorSorted, 99), 1),
  }
}

/** The first element of an ascending array that is ≥ x (binary search). */
function firstAtOrAfter(sorted: number[], x: number): number | undefined {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return sorted[lo]
}
