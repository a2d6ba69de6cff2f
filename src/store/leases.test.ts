import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import type { RunRecord, Storage } from '../engine/ports.ts'

/**
 * The lease heartbeat and the versioned run write touch the same rows at the same time: a worker
 * extends the leases of the runs it holds while its batch transaction writes those runs. Two
 * statements that lock rows in different orders deadlock on PostgreSQL (40P01), which fails the
 * heartbeat (a lease then lapses under a worker still acting) or the batch.
 */
const RUNS = 12

const WAITING = `
id: held
name: Held
trigger: { event: order.paid }
steps:
  - wait: 1d
`

describe.each(DIALECTS)('lease heartbeat against versioned run writes on %s', { timeout: 120_000 }, (dialect) => {
  let env: TestEnv
  let storage: Storage
  let runs: RunRecord[]
  const owner = 'worker-under-test'

  beforeAll(async () => {
    env = await createTestEnv(dialect)
    storage = env.app.engine.storage
    await installWorkflow(env.app, WAITING)
    const now = env.clock.now()
    const events = Array.from({ length: RUNS }, (_, i) => {
      const parsed = parseEvent(
        {
          id: `paid-${i}`,
          type: 'order.paid',
          data: { id: `o${i}`, currency: 'USD', total_price: '1.00', customer: { id: `c${i}`, email: `c${i}@example.com` } },
        },
        { store: 'default', now },
      )
      if (!parsed.ok) throw new Error('bad fixture')
      return parsed.event
    })
    await env.app.engine.ingest(events, { historical: false, source: 'test' })
    await env.app.engine.settle()
    runs = await storage.claimDueRuns(owner, now, 3_600_000, RUNS)
    expect(runs).toHaveLength(RUNS)
  })
  afterAll(async () => {
    await env.cleanup()
  })

  const until = () => new Date(env.clock.now().getTime() + 3_600_000)

  /** A batch's write: every run of `ids`, in the order given, each `UPDATE … WHERE version = ?`. */
  async function versionedWrite(ids: string[], afterFirst?: () => Promise<void>): Promise<void> {
    await storage.transaction(async (tx) => {
      for (const [i, id] of ids.entries()) {
        const fresh = (await tx.getRun(id))!
        expect(await tx.updateRun({ ...fresh, state: { ...fresh.state, seq: fresh.state.seq } }, fresh.version)).toBe(true)
        if (i === 0 && afterFirst) await afterFirst()
      }
    })
  }

  const deadlocks = (results: PromiseSettledResult<unknown>[]) =>
    results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { code?: string; message?: string })

  it.runIf(dialect === 'postgres')('a heartbeat that meets a batch holding one of its runs waits for it, and neither deadlocks', async () => {
    // the batch writes its runs in descending id order; the heartbeat starts once the batch holds
    // the highest id, so an ascending lock order would hold the rest and wait for it: a cycle
    const ids = runs
      .map((r) => r.id)
      .sort()
      .reverse()
    const errors: unknown[] = []
    for (let round = 0; round < 5; round++) {
      let heartbeat: Promise<unknown> = Promise.resolve()
      const write = versionedWrite(ids, async () => {
        heartbeat = storage.extendLeases(owner, [...ids].sort(), until())
        heartbeat.catch(() => undefined)
        // carry on once the heartbeat is waiting for the row this batch holds (or has finished)
        let settled = false
        heartbeat.then(
          () => (settled = true),
          () => (settled = true),
        )
        for (let i = 0; i < 100 && !settled; i++) {
          const { rows } = await sql<{
            n: number
          }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%lease_until%' and datname = current_database()`.execute(
            env.app.handle.db,
          )
          if (rows[0]!.n > 0) break
          await new Promise((r) => setTimeout(r, 20))
        }
      })
      const results = await Promise.allSettled([
        write,
        (async () => {
          await write.catch(() => undefined)
          return heartbeat
        })(),
      ])
      errors.push(...deadlocks(results))
    }
    expect(errors.map((e) => `${(e as { code?: string }).code}: ${(e as Error).message}`)).toEqual([])
  })

  it('many heartbeats and batch writes over overlapping runs, in any order, all succeed', async () => {
    const ids = runs.map((r) => r.id)
    const shuffled = () => [...ids].sort(() => Math.random() - 0.5)
    const errors: unknown[] = []
    for (let round = 0; round < 30; round++) {
      // one batch writer at a time holds a set of runs (the lease guarantees that); heartbeats
      // of the same and of overlapping sets run alongside it
      const batch = shuffled().slice(0, 8)
      const some = shuffled().slice(0, 10)
      const results = await Promise.allSettled([versionedWrite(batch), storage.extendLeases(owner, some, until()), storage.extendLeases(owner, ids, until())])
      errors.push(...deadlocks(results))
      // each heartbeat renewed every lease it was given: they are all still this worker's
      const [, a, b] = results
      if (a.status === 'fulfilled') expect([...a.value].sort()).toEqual([...some].sort())
      if (b.status === 'fulfilled') expect([...b.value].sort()).toEqual([...ids].sort())
    }
    expect(errors.map((e) => `${(e as { code?: string }).code}: ${(e as Error).message}`)).toEqual([])
    // the leases are still this worker's
    const held = await env.app.handle.db.selectFrom('runs').select(['id', 'lease_owner']).where('id', 'in', ids).execute()
    expect(held.every((r) => r.lease_owner === owner)).toBe(true)
  })
})
