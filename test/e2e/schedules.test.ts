import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import { Scheduler } from '../../src/engine/scheduler.ts'
import { Worker } from '../../src/engine/worker.ts'
import { buildServer } from '../../src/http/server.ts'
import { ManualClock } from '../../src/lib/clock.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { createApp, type App } from '../../src/main.ts'
import { dropPostgresSchema } from '../../src/store/db.ts'
import { migrate } from '../../src/store/migrate.ts'
import { createKey } from '../../src/store/stores.repo.ts'
import { DIALECTS, TEST_DATABASE_URL, type DialectName } from '../helpers/dialects.ts'

/**
 * Schedule triggers through the front door: workflows saved over the API, ticks and runs read
 * back over it. Two apps (each its own connections, engine and workers) share one database, as
 * two worker processes would, on one ManualClock: a week of ticks takes milliseconds.
 */

const DAILY_BERLIN = `
id: daily-report
name: Daily report
trigger: { cron: '0 9 * * *', timezone: Europe/Berlin }
steps:
  - action: log
    with: { message: 'tick {{ trigger.data.scheduled_at }}' }
`

interface Cluster {
  /** the two apps sharing the database */
  apps: [App, App]
  clock: ManualClock
  server: FastifyInstance
  headers: { authorization: string }
  cleanup(): Promise<void>
}

let counter = 0

async function cluster(dialect: DialectName, start: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-schedules-'))
  const schema = `t_sched_${process.pid}_${Date.now().toString(36)}_${counter++}`
  const config = await loadConfig(
    { dataDir: dir, databaseUrl: dialect === 'postgres' ? TEST_DATABASE_URL : join(dir, 'storeflow.db') },
    { STOREFLOW_SECRET_KEY: 'test-secret-key' },
    dir,
  )
  const clock = new ManualClock(start)
  // these tests count workflow ticks: the built-in derived triggers' schedules (the segment sweep) are tested in their own files
  const options = { log: silentLogger, clock, builtInTriggers: false, ...(dialect === 'postgres' ? { schema } : {}) }
  const a = await createApp(config, options)
  const b = await createApp(config, options)
  const server = await buildServer(a)
  const admin = (await createKey(a.handle.db, 'default', 'admin', clock.now())).key
  return {
    apps: [a, b],
    clock,
    server,
    headers: { authorization: `Bearer ${admin}` },
    async cleanup() {
      await server.close()
      await a.close()
      await b.close()
      if (dialect === 'postgres') await dropPostgresSchema(TEST_DATABASE_URL, schema)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

describe.each(DIALECTS)('schedule triggers on %s', (dialect) => {
  let c: Cluster
  let schedulers: Scheduler[]
  beforeEach(async () => {
    // a Friday, before a weekend with the change to summer time (Sunday 29 March 2026, 02:00 → 03:00 in Berlin)
    c = await cluster(dialect, '2026-03-27T10:00:00Z')
    // the built-in sweeps (cart.abandoned, …) tick beside the workflows' schedules: counted apart
    schedulers = c.apps.map((app) => new Scheduler(app.engine, silentLogger, { everyMs: 0, counts: (key) => key.startsWith('workflow:') }))
  })
  afterEach(async () => {
    await c.cleanup()
  })

  const api = {
    save: (yaml: string) =>
      c.server.inject({ method: 'POST', url: '/api/v1/workflows', headers: { ...c.headers, 'content-type': 'application/yaml' }, payload: yaml }),
    post: (url: string) => c.server.inject({ method: 'POST', url, headers: c.headers }),
    ticks: async () => {
      const res = await c.server.inject({ method: 'GET', url: '/api/v1/events?type=schedule.tick&limit=100', headers: c.headers })
      expect(res.statusCode).toBe(200)
      return (res.json().items as Array<{ id: string; occurred_at: string; data: Record<string, unknown> }>).reverse()
    },
    runs: async (workflow: string) => {
      const res = await c.server.inject({ method: 'GET', url: `/api/v1/runs?workflow=${workflow}&limit=100`, headers: c.headers })
      expect(res.statusCode).toBe(200)
      return res.json().items as Array<{ id: string; status: string; trigger_event_id: string; customer_id: string | null }>
    },
  }

  /**
   * Both workers look at the schedules, as often as asked: at the same moment on PostgreSQL. On
   * SQLite one after the other: two connections of one process cannot both wait for the one
   * write lock (a synchronous busy wait holds the event loop the other needs to commit), while
   * two processes simply take turns; the stale read SQLite leaves is tested on its own below.
   */
  async function bothPass(times = 3): Promise<number> {
    let fired = 0
    for (let i = 0; i < times; i++) {
      if (dialect === 'postgres') fired += (await Promise.all(schedulers.map((s) => s.pass()))).reduce((a, b) => a + b, 0)
      else for (const s of schedulers) fired += await s.pass()
    }
    return fired
  }

  async function activate(yaml: string, id: string) {
    const saved = await api.save(yaml)
    expect(saved.statusCode).toBe(201)
    expect((await api.post(`/api/v1/workflows/${id}/activate`)).statusCode).toBe(200)
  }

  it('ticks once per time in its time zone, across a change to summer time, with two workers', async () => {
    await activate(DAILY_BERLIN, 'daily-report')
    expect(await bothPass()).toBe(0)

    // 09:00 in Berlin is 08:00 UTC before the change and 07:00 UTC after it
    const expected = ['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']
    for (const at of expected) {
      c.clock.set(new Date(Date.parse(at) - 1000))
      expect(await bothPass()).toBe(0)
      c.clock.set(at)
      expect(await bothPass()).toBe(1)
      // an hour on: the old offset's 09:00 is no tick
      c.clock.set(new Date(Date.parse(at) + 3_600_000))
      expect(await bothPass()).toBe(0)
    }
    await c.apps[0].engine.drain()

    const ticks = await api.ticks()
    expect(ticks.map((t) => t.occurred_at)).toEqual(expected)
    expect(ticks[0]!.data).toEqual({ workflow_id: 'daily-report', scheduled_at: expected[0], cron: '0 9 * * *', timezone: 'Europe/Berlin' })
    const runs = await api.runs('daily-report')
    expect(runs).toHaveLength(3)
    expect(new Set(runs.map((r) => r.trigger_event_id))).toEqual(new Set(ticks.map((t) => t.id)))
    for (const run of runs) {
      expect(run.status).toBe('completed')
      expect(run.customer_id).toBeNull()
    }
  })

  // PostgreSQL only: two worker loops of one process on one SQLite file can stall each other for
  // the busy timeout (see bothPass); on SQLite the passes above take turns instead
  it.runIf(dialect === 'postgres')('two running workers fire each tick once', async () => {
    await activate(DAILY_BERLIN, 'daily-report')
    const workers = c.apps.map((app) => new Worker(app.engine, silentLogger, { pollMs: 5, scheduleEveryMs: 0 }))
    for (const w of workers) w.start()
    try {
      const expected = ['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z']
      for (const [i, at] of expected.entries()) {
        c.clock.set(at)
        await until(async () => (await api.runs('daily-report')).filter((r) => r.status === 'completed').length === i + 1)
        // both loops go round many more times at this moment: nothing more may fire
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
    } finally {
      await Promise.all(workers.map((w) => w.stop()))
    }
    expect((await api.ticks()).map((t) => t.occurred_at)).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z'])
    expect(await api.runs('daily-report')).toHaveLength(2)
  })

  it('a worker that read the schedule before another fired the tick fires nothing', async () => {
    await activate(DAILY_BERLIN, 'daily-report')
    await bothPass()
    c.clock.set('2026-03-28T08:00:00Z')
    const seen = (await c.apps[1].engine.storage.transaction((tx) => tx.listSchedules())).find((s) => s.key === 'workflow:daily-report')
    expect(seen).toMatchObject({ key: 'workflow:daily-report', next_at: '2026-03-28T08:00:00.000Z' })
    expect(await schedulers[0]!.pass()).toBe(1)
    const late = await c.apps[1].engine.storage.transaction((tx) =>
      tx.advanceSchedule('default', seen!.key, seen!.next_at!, '2026-03-29T07:00:00.000Z', seen!.next_at!, c.clock.now()),
    )
    expect(late).toBe(false)
    expect(await schedulers[1]!.pass()).toBe(0)
    expect(await api.ticks()).toHaveLength(1)
  })

  it('after downtime fires the latest missed tick once, then goes on from the next', async () => {
    await activate(DAILY_BERLIN, 'daily-report')
    await bothPass()
    c.clock.set('2026-03-28T08:00:00Z')
    expect(await bothPass()).toBe(1)

    // down from Saturday until Wednesday noon: four ticks missed
    c.clock.set('2026-04-01T12:00:00Z')
    expect(await bothPass()).toBe(1)
    c.clock.set('2026-04-01T23:00:00Z')
    expect(await bothPass()).toBe(0)
    c.clock.set('2026-04-02T07:00:00Z')
    expect(await bothPass()).toBe(1)
    await c.apps[1].engine.drain()

    expect((await api.ticks()).map((t) => t.occurred_at)).toEqual(['2026-03-28T08:00:00.000Z', '2026-04-01T07:00:00.000Z', '2026-04-02T07:00:00.000Z'])
    expect(await api.runs('daily-report')).toHaveLength(3)
  })

  it('a cron workflow active before schedules existed fires at its next time after the upgrade, not a catch-up at once', async () => {
    await activate(DAILY_BERLIN, 'daily-report')
    // the database as the version before schedules left it: the workflow active, no schedules table
    const db = c.apps[0].handle.db
    await db.schema.dropTable('schedules').execute()
    await db
      .deleteFrom('storeflow_migrations' as never)
      .where('name' as never, '=', '0007-schedules' as never)
      .execute()

    // upgraded on Monday noon, three 09:00s after the workflow was saved
    c.clock.set('2026-03-30T12:00:00Z')
    expect(await migrate(c.apps[0].handle)).toEqual(['0007-schedules'])
    expect(await bothPass()).toBe(0)
    c.clock.set('2026-03-31T07:00:00Z')
    expect(await bothPass()).toBe(1)
    await c.apps[1].engine.drain()
    expect((await api.ticks()).map((t) => t.occurred_at)).toEqual(['2026-03-31T07:00:00.000Z'])
  })

  it('stops when the workflow is deactivated or deleted, and follows a changed cron', async () => {
    await activate(DAILY_BERLIN, 'daily-report')
    await bothPass()
    expect((await api.post('/api/v1/workflows/daily-report/deactivate')).statusCode).toBe(200)
    await bothPass()
    c.clock.set('2026-03-28T08:00:00Z')
    expect(await bothPass()).toBe(0)

    // active again on Saturday at 12:00: ticks count from then, the morning's is not caught up
    c.clock.set('2026-03-28T11:00:00Z')
    expect((await api.post('/api/v1/workflows/daily-report/activate')).statusCode).toBe(200)
    expect(await bothPass()).toBe(0)

    // the same workflow, now at 18:00 UTC
    const evening = DAILY_BERLIN.replace("cron: '0 9 * * *', timezone: Europe/Berlin", "cron: '0 18 * * *'").replace(
      'id: daily-report',
      'id: daily-report\nactive: true',
    )
    const changed = await c.server.inject({
      method: 'PUT',
      url: '/api/v1/workflows/daily-report',
      headers: { ...c.headers, 'content-type': 'application/yaml' },
      payload: evening,
    })
    expect(changed.statusCode).toBe(200)
    expect(await bothPass()).toBe(0)
    c.clock.set('2026-03-28T18:00:00Z')
    expect(await bothPass()).toBe(1)
    c.clock.set('2026-03-29T07:00:00Z')
    expect(await bothPass()).toBe(0)

    expect((await c.server.inject({ method: 'DELETE', url: '/api/v1/workflows/daily-report', headers: c.headers })).statusCode).toBe(204)
    await bothPass()
    c.clock.set('2026-03-29T18:00:00Z')
    expect(await bothPass()).toBe(0)
    expect((await api.ticks()).map((t) => t.occurred_at)).toEqual(['2026-03-28T18:00:00.000Z'])
  })

  it("reads a cron without a zone in the store's zone", async () => {
    await c.apps[0].handle.db.updateTable('stores').set({ timezone: 'America/New_York' }).where('id', '=', 'default').execute()
    await activate(DAILY_BERLIN.replace(', timezone: Europe/Berlin', ''), 'daily-report')
    await bothPass()
    c.clock.set('2026-03-28T13:00:00Z') // 09:00 in New York (summer time there since 8 March)
    expect(await bothPass()).toBe(1)
    expect((await api.ticks()).map((t) => t.data.timezone)).toEqual(['America/New_York'])
  })

  it('refuses an invalid cron or time zone when the workflow is saved, naming the field', async () => {
    const badCron = await api.save(DAILY_BERLIN.replace("'0 9 * * *'", "'0 25 * * *'"))
    expect(badCron.statusCode).toBe(400)
    expect(badCron.json().error.message).toMatch(/\(trigger\.cron\): not a valid cron expression/)
    const badZone = await api.save(DAILY_BERLIN.replace('Europe/Berlin', 'Europe/Atlantis'))
    expect(badZone.statusCode).toBe(400)
    expect(badZone.json().error.message).toMatch(/\(trigger\.timezone\): unknown time zone "Europe\/Atlantis"/)
  })
})

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
