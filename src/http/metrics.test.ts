import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../../test/helpers/smtp-sink.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import { createKey } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

const WELCOME = `
id: welcome
name: Welcome
trigger: { event: customer.created }
steps:
  - action: send_email
    with:
      category: transactional
      subject: 'Welcome {{ customer.first_name }}'
      html: '<p>Hello</p>'
`

/** One sample of the exposition: `name{labels} value`, labels as written. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/**
 * GET /metrics of a listening server, scraped after real traffic (events over HTTP, mail to a
 * real SMTP server), with the engine's clock moved by hand: each new figure says what happened.
 */
// one sink for both dialects: closing it waits out the senders' pooled connections
let smtp: SmtpSink
beforeAll(async () => {
  smtp = await startSmtpSink()
})
afterAll(async () => {
  await smtp?.close()
})

describe.each(DIALECTS)('GET /metrics on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let base: string
  let ingestKey: string
  beforeAll(async () => {
    smtp.received.length = 0
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_RETENTION_EVENTS_DAYS: '1' } })
    await installWorkflow(env.app, WELCOME)
    ingestKey = (await createKey(env.app.handle.db, 'default', 'ingest', env.clock.now())).key
    server = await buildServer(env.app)
    await server.listen({ port: 0, host: '127.0.0.1' })
    const address = server.server.address()
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await env?.cleanup()
  })

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`)
    expect(res.status).toBe(200)
    return res.text()
  }
  const send = async (events: object[]) => {
    const res = await fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    })
    expect(res.status).toBe(202)
  }
  const customer = (type: string, n: number) => ({
    id: `${type}-${n}`,
    type,
    occurred_at: env.clock.now().toISOString(),
    data: { id: `c${n}`, email: `c${n}@example.com`, first_name: `C${n}` },
  })

  it('reports router lag, the oldest due run, emails by result, step latency and events ingested as they happen', async () => {
    const empty = await scrape()
    expect(sample(empty, 'storeflow_events_ingested_total')).toBe(0)
    expect(sample(empty, 'storeflow_router_lag_seconds')).toBe(0)
    expect(sample(empty, 'storeflow_runs_oldest_due_seconds')).toBe(0)
    expect(sample(empty, 'storeflow_emails', 'result="sent"')).toBe(0)
    expect(sample(empty, 'storeflow_workers', 'state="running"')).toBe(0)
    expect(empty).toContain('# TYPE storeflow_step_duration_seconds histogram')
    expect(empty).toContain('# TYPE storeflow_events_ingested_total counter')

    // three new customers and two updates arrive; no router has run yet
    await send([1, 2, 3].map((n) => customer('customer.created', n)))
    await send([4, 5].map((n) => customer('customer.updated', n)))
    env.clock.advance(45_000)
    const accepted = await scrape()
    expect(sample(accepted, 'storeflow_events_ingested_total')).toBe(5)
    expect(sample(accepted, 'storeflow_events_unrouted')).toBe(5)
    expect(sample(accepted, 'storeflow_router_lag_seconds')).toBe(45)

    // routed: three welcome runs are due now, and no worker takes them for two minutes
    await env.app.engine.settle()
    env.clock.advance(120_000)
    const queued = await scrape()
    expect(sample(queued, 'storeflow_router_lag_seconds')).toBe(0)
    expect(sample(queued, 'storeflow_events_unrouted')).toBe(0)
    expect(sample(queued, 'storeflow_runs_due')).toBe(3)
    expect(sample(queued, 'storeflow_runs_oldest_due_seconds')).toBe(120)
    const ingested = sample(queued, 'storeflow_events_ingested_total')!
    expect(ingested).toBe(sample(queued, 'storeflow_events_total'))

    // a worker's pass sends the three mails
    await env.app.engine.drain()
    expect(smtp.received).toHaveLength(3)
    const sent = await scrape()
    expect(sample(sent, 'storeflow_emails', 'result="sent"')).toBe(3)
    expect(sample(sent, 'storeflow_emails', 'result="failed"')).toBe(0)
    expect(sample(sent, 'storeflow_runs', 'status="completed"')).toBe(3)
    expect(sample(sent, 'storeflow_runs_due')).toBe(0)
    expect(sample(sent, 'storeflow_runs_oldest_due_seconds')).toBe(0)
    expect(sample(sent, 'storeflow_step_duration_seconds_count', 'kind="send_email"')).toBe(3)
    expect(sample(sent, 'storeflow_step_duration_seconds_bucket', 'le="+Inf",kind="send_email"')).toBe(3)

    // two days on, retention deletes the routed updates (the runs' triggers stay): fewer events
    // stored, the same ingested
    env.clock.advance(2 * 86_400_000)
    expect((await env.app.services.maintenance.prune()).events).toBe(2)
    const pruned = await scrape()
    expect(sample(pruned, 'storeflow_events_total')).toBe(ingested - 2)
    expect(sample(pruned, 'storeflow_events_ingested_total')).toBe(ingested)
  })
})
