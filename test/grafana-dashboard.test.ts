import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildServer } from '../src/http/server.ts'
import { createTestEnv, type TestEnv } from './helpers/dialects.ts'

/**
 * docs/grafana-dashboard.json queries only metrics GET /metrics exposes: every storeflow_* name in
 * its queries is one the server lists (a histogram's _sum, _count and _bucket series included).
 */
describe('the sample Grafana dashboard', () => {
  let env: TestEnv
  let server: FastifyInstance
  beforeAll(async () => {
    env = await createTestEnv('sqlite')
    server = await buildServer(env.app)
  })
  afterAll(async () => {
    await server.close()
    await env.cleanup()
  })

  it('is a dashboard whose every query names metrics /metrics exposes', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
      title: string
      panels: Array<{ type: string; targets?: Array<{ expr: string }> }>
    }
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
    expect(exprs.length).toBeGreaterThan(5)

    const res = await server.inject({ method: 'GET', url: '/metrics' })
    expect(res.statusCode).toBe(200)
    const exposed = new Set<string>()
    for (const [, name, type] of res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exposed.add(name!)
      if (type === 'histogram' || type === 'summary') for (const suffix of ['_sum', '_count', '_bucket']) exposed.add(`${name}${suffix}`)
    }
    const used = new Set(exprs.flatMap((e) => e.match(/storeflow_[a-z0-9_]+/g) ?? []))
    expect(used.size).toBeGreaterThan(5)
    expect([...used].filter((name) => !exposed.has(name))).toEqual([])
    // the engine's own gauges are on it
    for (const name of [
      'storeflow_runs',
      'storeflow_runs_due',
      'storeflow_runs_oldest_due_seconds',
      'storeflow_events_unrouted',
      'storeflow_router_lag_seconds',
      'storeflow_events_total',
      'storeflow_events_ingested_total',
      'storeflow_emails',
      'storeflow_step_duration_seconds_bucket',
      'storeflow_workers',
      'storeflow_worker_claimed_runs',
      'storeflow_worker_last_seen_seconds',
    ])
      expect(used).toContain(name)
  })
})
