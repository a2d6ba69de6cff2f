import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { startHttpReceiver, type HttpReceiver } from '../../test/helpers/http-receiver.ts'
import { waitFor } from '../../test/helpers/processes.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/**
 * A worker's claimed work is visible while it works: with an http_request held at a real HTTP
 * receiver, the worker's heartbeat reports the run it holds (GET /api/v1/workers' claimed_runs,
 * /metrics' storeflow_worker_claimed_runs), and none once the answer came; the step is then on
 * this process's histogram.
 */
describe.each(DIALECTS)('a worker at work on %s', { timeout: 120_000 }, (dialect) => {
  let receiver: HttpReceiver
  let env: TestEnv
  beforeAll(async () => {
    receiver = await startHttpReceiver()
    env = await createTestEnv(dialect, { env: { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } })
    await installWorkflow(
      env.app,
      `
id: notify
name: Notify
trigger: { event: customer.created }
steps:
  - action: http_request
    id: call
    with:
      url: '${receiver.url}/hook'
      body: { email: '{{ customer.email }}' }
`,
    )
  })
  afterAll(async () => {
    receiver?.release()
    await env?.cleanup()
    await receiver?.close()
  })

  it('reports the run it holds while its request is out, and none after', async () => {
    receiver.hold()
    const worker = env.app.services.workers.create({ heartbeatMs: 50, pollMs: 20 })
    worker.start()
    try {
      const parsed = parseEvent({ ...event('customer.created', 'c1', { id: 'c1', email: 'c1@example.com' }) }, { store: 'default', now: env.clock.now() })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })

      await waitFor('the request held at the receiver', async () => receiver.held().length === 1, 30_000, 20)
      const holding = await waitFor('the heartbeat reporting the claimed run', async () => {
        const mine = (await env.app.services.workers.list()).find((w) => w.id === worker.id)
        return mine?.claimed_runs === 1 && mine
      })
      expect(holding.state).toBe('running')
      const busy = (await env.app.services.health.metrics()).text
      expect(sample(busy, 'storeflow_worker_claimed_runs', `worker="${worker.id}"`)).toBe(1)
      expect(sample(busy, 'storeflow_workers', 'state="running"')).toBe(1)

      receiver.release()
      await waitFor('the run completed and let go', async () => {
        const mine = (await env.app.services.workers.list()).find((w) => w.id === worker.id)
        return mine?.claimed_runs === 0 && (await env.app.services.health.counts()).runsByStatus.some((r) => r.status === 'completed' && r.count === 1)
      })
      const idle = (await env.app.services.health.metrics()).text
      expect(sample(idle, 'storeflow_worker_claimed_runs', `worker="${worker.id}"`)).toBe(0)
      expect(sample(idle, 'storeflow_step_duration_seconds_count', 'kind="http_request"')).toBe(1)
    } finally {
      await worker.stop()
    }
    const stopped = (await env.app.services.workers.list()).find((w) => w.id === worker.id)
    expect(stopped).toMatchObject({ state: 'stopped', claimed_runs: 0 })
  })
})
