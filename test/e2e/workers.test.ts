import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, TEST_DATABASE_URL, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { processEnv, startServe, startStoreflow, waitFor, waitForOutput, workerIdOf, type StoreflowProcess } from '../helpers/processes.ts'

/** A short heartbeat, so a killed worker is lost (3 heartbeats unseen) within a second. */
const HEARTBEAT_MS = 300

const EMAIL = 'ops@example.com'
const PASSWORD = 'a long enough password'

interface WorkerItem {
  id: string
  state: 'running' | 'stopped' | 'lost'
  pid: number
  hostname: string
  version: string
  heartbeat_ms: number
  claimed_runs: number
  stopped_at: string | null
}

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/**
 * Real processes: `storeflow serve --no-worker` and two `storeflow worker`s on one database. Both
 * workers show as running in GET /api/v1/workers and in the API node's /metrics; one SIGTERMed is
 * stopped at once, one SIGKILLed is lost once its heartbeats stop coming.
 */
describe.each(DIALECTS)('workers on %s', { timeout: 180_000 }, (dialect) => {
  let env: TestEnv
  let api: { proc: StoreflowProcess; url: string }
  const workers: StoreflowProcess[] = []
  let cookie = ''
  beforeAll(async () => {
    env = await createTestEnv(dialect)
    await env.app.services.users.create({ email: EMAIL, password: PASSWORD })
    const childEnv = await processEnv(env.app.handle.db, env.config.dataDir, dialect, TEST_DATABASE_URL, {
      STOREFLOW_WORKER_HEARTBEAT_MS: String(HEARTBEAT_MS),
    })
    api = await startServe(['--no-worker'], childEnv)
    for (let i = 0; i < 2; i++) workers.push(startStoreflow(['worker', '--metrics-port', '0'], childEnv))
    const login = await fetch(`${api.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
    })
    expect(login.status).toBe(200)
    cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
  }, 120_000)
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) await w.kill9()
    if (api) await api.proc.stop()
    await env?.cleanup()
  })

  const list = async (): Promise<WorkerItem[]> => {
    const res = await fetch(`${api.url}/api/v1/workers`, { headers: { cookie, 'x-storeflow-store': 'default' } })
    expect(res.status).toBe(200)
    return ((await res.json()) as { items: WorkerItem[] }).items
  }
  const metrics = async (url = `${api.url}/metrics`) => (await fetch(url)).text()

  it('lists both workers alive, then one stopped by SIGTERM and one lost after SIGKILL', async () => {
    const [a, b] = [await workerIdOf(workers[0]!), await workerIdOf(workers[1]!)]
    const byId = (items: WorkerItem[], id: string) => items.find((w) => w.id === id)

    // an API key is bound to one store: the installation's workers are for a signed-in user
    const key = await fetch(`${api.url}/api/v1/workers`)
    expect(key.status).toBe(401)

    const both = await waitFor('both workers running', async () => {
      const items = await list()
      return byId(items, a)?.state === 'running' && byId(items, b)?.state === 'running' && items
    })
    expect(both).toHaveLength(2)
    for (const [id, proc] of [
      [a, workers[0]!],
      [b, workers[1]!],
    ] as const) {
      expect(byId(both, id)).toMatchObject({ pid: proc.child.pid, version: '0.1.0', heartbeat_ms: HEARTBEAT_MS, claimed_runs: 0, stopped_at: null })
    }
    const running = await metrics()
    expect(sample(running, 'storeflow_workers', 'state="running"')).toBe(2)
    expect(sample(running, 'storeflow_workers', 'state="lost"')).toBe(0)
    expect(sample(running, 'storeflow_worker_claimed_runs', `worker="${a}"`)).toBe(0)
    expect(sample(running, 'storeflow_worker_last_seen_seconds', `worker="${b}"`)).toBeGreaterThan(0)
    // each worker serves its own /metrics too (its steps are measured there): the same database figures
    const own = (await waitForOutput(workers[0]!, /metrics on (http:\/\/\S+\/metrics)/))[1]!
    const ownText = await metrics(own)
    expect(sample(ownText, 'storeflow_workers', 'state="running"')).toBe(2)
    expect(ownText).toContain('# TYPE storeflow_step_duration_seconds histogram')

    // SIGTERM: a graceful stop, written at once
    expect(await workers[0]!.stop()).toBe(0)
    const afterTerm = await list()
    expect(byId(afterTerm, a)).toMatchObject({ state: 'stopped', claimed_runs: 0 })
    expect(byId(afterTerm, a)!.stopped_at).not.toBeNull()
    expect(byId(afterTerm, b)!.state).toBe('running')

    // SIGKILL: nothing written; lost once three heartbeats passed unseen
    await workers[1]!.kill9()
    await waitFor('the killed worker lost', async () => byId(await list(), b)?.state === 'lost', 30_000)
    const gone = await metrics()
    expect(sample(gone, 'storeflow_workers', 'state="running"')).toBe(0)
    expect(sample(gone, 'storeflow_workers', 'state="stopped"')).toBe(1)
    expect(sample(gone, 'storeflow_workers', 'state="lost"')).toBe(1)
    // the lost worker stays on the per-worker gauges (what it held is claimed again once its leases lapse); the stopped one leaves them
    expect(sample(gone, 'storeflow_worker_last_seen_seconds', `worker="${b}"`)).toBeGreaterThan(0)
    expect(sample(gone, 'storeflow_worker_last_seen_seconds', `worker="${a}"`)).toBeUndefined()
  })
})
