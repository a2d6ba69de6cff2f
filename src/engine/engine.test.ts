import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { event, installWorkflow } from '../../test/helpers/workflows.ts'
import { parseEvent } from '../contracts/events.ts'
import { Engine } from './engine.ts'
import type { RunRecord, Storage, StorageTx } from './ports.ts'

const DAY = 86_400_000

async function send(env: TestEnv, raw: ReturnType<typeof event>) {
  const parsed = parseEvent(raw, { store: 'default', now: env.clock.now() })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  const [result] = await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
  // accepted; the router does what it causes
  await env.app.engine.settle()
  return result!
}

async function runOf(env: TestEnv, workflowId: string) {
  return env.app.handle.db.selectFrom('runs').selectAll().where('workflow_id', '=', workflowId).execute()
}

async function stepsOf(env: TestEnv, runId: string) {
  return env.app.handle.db.selectFrom('run_steps').selectAll().where('run_id', '=', runId).orderBy('seq').execute()
}

describe.each(DIALECTS)('engine on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  it('waits 7 days of the injected clock, not less', async () => {
    await installWorkflow(
      env.app,
      `
id: seven-days
name: Seven days later
trigger: { event: order.paid }
steps:
  - wait: 7d
  - action: tag_customer
    with: { tags: [week-later] }
`,
    )
    await send(env, event('order.paid', 'e1', { id: 'o1', currency: 'USD', total_price: '10.00', customer: { id: 'c1', email: 'a@example.com' } }))
    await env.app.engine.drain()
    let [run] = await runOf(env, 'seven-days')
    expect(run!.status).toBe('waiting')
    expect(run!.due_at).toBe(new Date(Date.parse('2026-03-02T10:00:00Z') + 7 * DAY).toISOString())

    env.clock.advance(7 * DAY - 1000)
    await env.app.engine.drain()
    ;[run] = await runOf(env, 'seven-days')
    expect(run!.status).toBe('waiting')

    env.clock.advance(1000)
    await env.app.engine.drain()
    ;[run] = await runOf(env, 'seven-days')
    expect(run!.status).toBe('completed')
    const customer = await env.app.handle.db.selectFrom('customers').select('tags').where('external_id', '=', 'c1').executeTakeFirstOrThrow()
    expect(JSON.parse(customer.tags)).toEqual(['week-later'])
    const steps = await stepsOf(env, run!.id)
    expect(steps.every((s) => s.store_id === 'default')).toBe(true)
    expect(steps.map((s) => [s.step_id, s.type, s.status])).toEqual([
      ['s1', 'wait', 'completed'],
      ['s2', 'tag_customer', 'completed'],
    ])
  })

  it('wait_for with exit_when: an order for the same checkout ends the run; otherwise the timeout branch runs', async () => {
    await installWorkflow(
      env.app,
      `
id: abandoned
name: Abandoned checkout
trigger: { event: checkout.started }
exit_when:
  - event: order.created
    match: 'event.data.checkout_id == trigger.data.id'
steps:
  - wait_for: { event: cart.updated, match: 'event.data.id == trigger.data.id', timeout: 4h }
    received:
      - action: log
        with: { message: 'cart changed' }
    timed_out:
      - action: tag_customer
        with: { tags: ['abandoned'] }
  - wait: 1d
  - action: tag_customer
    with: { tags: ['reminded'] }
`,
    )
    const checkout = (id: string, cust: string) =>
      event('checkout.started', `co-${id}`, { id, currency: 'USD', total_price: 50, customer: { id: cust, email: `${cust}@example.com` } })
    await send(env, checkout('k1', 'c1'))
    await send(env, checkout('k2', 'c2'))
    await env.app.engine.drain()
    // c1 buys: the goal ends c1's run, c2's run carries on
    env.clock.advance(3600_000)
    await send(env, event('order.created', 'order-1', { id: 'o1', checkout_id: 'k1', currency: 'USD', total_price: 50, customer: { id: 'c1' } }))
    env.clock.advance(4 * 3600_000)
    await env.app.engine.drain()
    env.clock.advance(DAY)
    await env.app.engine.drain()

    const runs = await runOf(env, 'abandoned')
    const byCustomer = Object.fromEntries(runs.map((r) => [r.customer_id, r]))
    expect(byCustomer.c1!.status).toBe('exited')
    expect(byCustomer.c2!.status).toBe('completed')
    const c2Steps = await stepsOf(env, byCustomer.c2!.id)
    expect(c2Steps.map((s) => s.step_id)).toEqual(['s1', 's1_timed_out_1', 's2', 's3'])
    const tags = await env.app.handle.db.selectFrom('customers').select(['external_id', 'tags']).execute()
    expect(Object.fromEntries(tags.map((t) => [t.external_id, JSON.parse(t.tags)]))).toEqual({ c1: [], c2: ['abandoned', 'reminded'] })
  })

  it('a wait_for sees an event that arrived between the start of the run and the wait', async () => {
    await installWorkflow(
      env.app,
      `
id: raced
name: Raced
trigger: { event: order.paid }
steps:
  - wait: 1h
  - wait_for: { event: order.fulfilled, match: 'event.data.order_id == trigger.data.id', timeout: 2d }
    received:
      - action: tag_customer
        with: { tags: ['shipped-fast'] }
`,
    )
    await send(env, event('order.paid', 'p1', { id: 'o9', currency: 'USD', total_price: 5, customer: { id: 'c9' } }))
    await env.app.engine.drain()
    env.clock.advance(10 * 60_000)
    await send(env, event('order.fulfilled', 'f1', { order_id: 'o9', customer: { id: 'c9' }, tracking_number: 'TN1' }))
    env.clock.advance(3600_000)
    await env.app.engine.drain()
    const [run] = await runOf(env, 'raced')
    expect(run!.status).toBe('completed')
    const steps = await stepsOf(env, run!.id)
    expect(steps.map((s) => s.step_id)).toEqual(['s1', 's2', 's2_received_1'])
  })

  // The goal race, constructed rather than hoped for: the storage ports let the test act at
  // the exact point between one side's read of the run and its versioned write.
  const GOAL_WORKFLOW = `
id: busy
name: Busy
trigger: { event: checkout.started }
exit_when:
  - event: order.created
    match: 'event.data.checkout_id == trigger.data.id'
steps:
  - action: log
    with: { message: 'x' }
  - wait: 1h
  - action: tag_customer
    with: { tags: [reminded] }
`
  const checkoutStarted = () =>
    event('checkout.started', 'k1', { id: 'chk1', currency: 'USD', total_price: '10', customer: { id: 'C', email: 'c@example.com' } })
  const orderCreated = () => event('order.created', 'o1', { id: 'o1', checkout_id: 'chk1', currency: 'USD', total_price: '10', customer: { id: 'C' } })
  const tagsOfC = async () =>
    JSON.parse((await env.app.handle.db.selectFrom('customers').select('tags').where('external_id', '=', 'C').executeTakeFirstOrThrow()).tags) as string[]

  it("a goal event committed after a worker claimed the run, before the worker writes it, ends the run; the worker's write loses", async () => {
    await installWorkflow(env.app, GOAL_WORKFLOW)
    await send(env, checkoutStarted())
    const [started] = await runOf(env, 'busy')
    const seen: { claimedWhile: string | null; workerWrites: boolean[] } = { claimedWhile: null, workerWrites: [] }
    const storage = hookedStorage(env.app.engine.storage, {
      async afterClaim(runs) {
        const claimed = runs.find((r) => r.id === started!.id)
        if (!claimed || seen.claimedWhile !== null) return
        seen.claimedWhile = claimed.status
        // the worker holds the run at version n; the goal arrives and moves it to n+1
        await send(env, orderCreated())
      },
      onUpdateRun(run, ok) {
        if (run.id === started!.id) seen.workerWrites.push(ok)
      },
    })
    const worker = new Engine({ storage, clock: env.clock, log: env.app.log, actions: env.app.actions })
    await worker.drain('racer')

    // the race happened: the worker had claimed a running run, and then every write it tried lost
    expect(seen.claimedWhile).toBe('running')
    expect(seen.workerWrites.length).toBeGreaterThan(0)
    expect(seen.workerWrites.every((ok) => !ok)).toBe(true)
    // and the goal won: the run ended at once, nothing of the worker's turn was kept
    env.clock.advance(2 * 3600_000)
    await env.app.engine.drain()
    const [run] = await runOf(env, 'busy')
    expect(run!.status).toBe('exited')
    expect((await stepsOf(env, run!.id)).map((s) => [s.step_id, s.status])).toEqual([['exit_when', 'completed']])
    expect(await tagsOfC()).toEqual([])
  })

  // SQLite has one writer: the transaction that stores the goal event holds the write lock from
  // its first statement, so no worker can commit between its read of the run and its write.
  it.runIf(dialect === 'postgres')(
    "a worker that moves the run between the goal's read of it and its write makes ingest read again; the goal still ends the run",
    async () => {
      await installWorkflow(env.app, GOAL_WORKFLOW)
      await send(env, checkoutStarted())
      const [started] = await runOf(env, 'busy')
      const seen: { workerMoved: number; ingestWrites: boolean[] } = { workerMoved: 0, ingestWrites: [] }
      const storage = hookedStorage(env.app.engine.storage, {
        async afterGetRun(run) {
          if (run?.id !== started!.id || seen.workerMoved > 0) return
          // ingest has read the run at version n; a worker, on another connection, advances it
          // (log, then into the 1 h wait) and commits
          seen.workerMoved = await env.app.engine.tick('worker')
        },
        onUpdateRun(run, ok) {
          if (run.id === started!.id) seen.ingestWrites.push(ok)
        },
      })
      const ingest = new Engine({ storage, clock: env.clock, log: env.app.log, actions: env.app.actions })
      const parsed = parseEvent(orderCreated(), { store: 'default', now: env.clock.now() })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      await ingest.ingest([parsed.event], { historical: false, source: 'test' })
      await ingest.settle('router')

      // the race happened: the worker committed in between, ingest's first write lost, it read
      // the run again and its second write ended it
      expect(seen.workerMoved).toBe(1)
      expect(seen.ingestWrites).toEqual([false, true])
      env.clock.advance(2 * 3600_000)
      await env.app.engine.drain()
      const [run] = await runOf(env, 'busy')
      expect(run!.status).toBe('exited')
      expect((await stepsOf(env, run!.id)).map((s) => [s.step_id, s.status]).sort()).toEqual([
        ['exit_when', 'completed'],
        ['s1', 'completed'],
        ['s2', 'waiting'],
      ])
      expect(await tagsOfC()).toEqual([])
    },
  )

  it('the same event id twice starts one run', async () => {
    await installWorkflow(
      env.app,
      `
id: once
name: Once
trigger: { event: customer.created }
steps:
  - action: log
    with: { message: 'hello {{ customer.email }}' }
`,
    )
    const first = await send(env, event('customer.created', 'same', { id: 'c1', email: 'x@example.com' }))
    const second = await send(env, event('customer.created', 'same', { id: 'c1', email: 'x@example.com' }))
    expect(first.duplicate).toBe(false)
    expect(second.duplicate).toBe(true)
    await env.app.engine.drain()
    const runs = await runOf(env, 'once')
    expect(runs).toHaveLength(1)
    const steps = await stepsOf(env, runs[0]!.id)
    expect(JSON.parse(steps[0]!.output!)).toEqual({ message: 'hello x@example.com', level: 'info' })
  })
})

/**
 * The engine's storage with hooks at the points where a run is read or written: a test acts there
 * (ingests an event, runs a worker) to build an interleaving deterministically.
 */
function hookedStorage(
  storage: Storage,
  hooks: {
    afterClaim?(runs: RunRecord[]): Promise<void>
    afterGetRun?(run: RunRecord | null): Promise<void>
    onUpdateRun?(run: RunRecord, ok: boolean): void
  },
): Storage {
  const hookTx = (tx: StorageTx): StorageTx =>
    Object.assign(Object.create(tx) as StorageTx, {
      async getRun(id: string) {
        const run = await tx.getRun(id)
        await hooks.afterGetRun?.(run)
        return run
      },
      async updateRun(run: RunRecord, expectedVersion: number) {
        const ok = await tx.updateRun(run, expectedVersion)
        hooks.onUpdateRun?.(run, ok)
        return ok
      },
      // a claimed batch writes its runs set-based: each run's write is seen as if alone
      async updateRuns(writes: Array<{ run: RunRecord; expectedVersion: number; version: number }>) {
        const written = await tx.updateRuns(writes)
        for (const { run } of writes) hooks.onUpdateRun?.(run, written.includes(run.id))
        return written
      },
    })
  return {
    ...storage,
    transaction: (fn) => storage.transaction((tx) => fn(hookTx(tx))),
    async claimDueRuns(owner, now, leaseMs, limit) {
      const runs = await storage.claimDueRuns(owner, now, leaseMs, limit)
      await hooks.afterClaim?.(runs)
      return runs
    },
  }
}
