import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { buildServer } from '../src/http/server.ts'
import { createKey } from '../src/store/stores.repo.ts'
import type { LoadResult } from './loadgen.ts'
import { createBenchEnv, round, type Dialect } from './lib/env.ts'
import { runLoad } from './lib/load-client.ts'
import { installWorkflow, TEN_WORKFLOWS } from './lib/workflows.ts'

export interface IngestSizes {
  warmupMs: number
  durationMs: number
  concurrency: number
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
  runs_started?: number
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

/** The ceiling: Fastify parsing the same JSON body and answering 202, nothing else. */
export async function benchBareFastify(sizes: IngestSizes): Promise<Throughput> {
  const server = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  server.post('/api/v1/events', async (request, reply) => {
    const body = request.body as { id?: string }
    return reply.status(202).send({ id: body.id, duplicate: false })
  })
  const port = await listen(server)
  try {
    return throughput(
      await runLoad({
        mode: 'closed',
        port,
        path: '/api/v1/events',
        token: null,
        concurrency: sizes.concurrency,
        warmupMs: sizes.warmupMs,
        durationMs: sizes.durationMs,
        tag: 'bare',
        customers: 20_000,
      }),
    )
  } finally {
    await server.close()
  }
}

export interface StoreflowIngest {
  throughput: Throughput
  latency?: { rate: number; p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number; achieved_per_s: number; non_202: number; backlog_max: number }
}

/**
 * The real server (buildServer over createApp) with ten active workflows; no worker in the
 * process, as with `storeflow serve --no-worker` plus separate `storeflow worker` processes.
 */
export async function benchStoreflowIngest(dialect: Dialect, sizes: IngestSizes, latencyRate: ((measured: number) => number) | null): Promise<StoreflowIngest> {
  const env = await createBenchEnv(dialect)
  try {
    for (const yaml of TEN_WORKFLOWS) await installWorkflow(env.app, yaml)
    const { key } = await createKey(env.app.handle.db, 'default', 'ingest', new Date())
    const server = await buildServer(env.app)
    const port = await listen(server)
    try {
      const load = await runLoad({
        mode: 'closed',
        port,
        path: '/api/v1/events',
        token: key,
        concurrency: sizes.concurrency,
        warmupMs: sizes.warmupMs,
        durationMs: sizes.durationMs,
        tag: `tp-${dialect}`,
        customers: 20_000,
      })
      const result: StoreflowIngest = { throughput: throughput(load) }
      const runs = await env.app.handle.db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      result.throughput.runs_started = Number(runs.n)
      if (latencyRate) {
        const rate = latencyRate(load.perSecond)
        const lat = await runLoad({
          mode: 'open',
          port,
          path: '/api/v1/events',
          token: key,
          concurrency: 64,
          rate,
          warmupMs: 1000,
          durationMs: sizes.latencyMs,
          tag: `lat-${dialect}`,
          customers: 20_000,
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
      }
      return result
    } finally {
      await server.close()
    }
  } finally {
    await env.cleanup()
  }
}
