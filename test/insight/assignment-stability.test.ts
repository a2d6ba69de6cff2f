import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseEvent } from '../../src/contracts/events.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { ManualClock } from '../../src/lib/clock.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { createApp, type App } from '../../src/main.ts'
import { dropPostgresSchema } from '../../src/store/db.ts'
import { DIALECTS, TEST_DATABASE_URL } from '../helpers/dialects.ts'
import { event, installWorkflow } from '../helpers/workflows.ts'

/**
 * Issue 13: a customer stays in the same group — holdout or treated, and the same A/B variant —
 * after the process restarts and after the workflow is saved as a new version. Otherwise a
 * report would compare groups that leak into each other.
 */

const CUSTOMERS = 80

const workflow = (version: number) => `
id: ab-holdout
name: A/B with a holdout (v${version})
trigger: { event: order.paid }
holdout: 25%
steps:
  - split:
      variants:
        - { id: a, weight: 50, steps: [ { action: tag_customer, with: { tags: [got-a] } } ] }
        - { id: b, weight: 50, steps: [ { action: tag_customer, with: { tags: [got-b] } } ] }
  - action: log
    with: { message: 'version ${version} took {{ steps.s1.variant }}' }
`

interface Assignment {
  holdout: boolean
  variant: string | null
}

describe.each(DIALECTS)('holdout and split assignment on %s', (dialect) => {
  let dir = ''
  let schema = ''
  let app: App | null = null
  afterEach(async () => {
    await app?.close()
    app = null
    if (dialect === 'postgres') await dropPostgresSchema(TEST_DATABASE_URL, schema)
    rmSync(dir, { recursive: true, force: true })
  })

  const open = async (config: Config, clock: ManualClock) => createApp(config, { log: silentLogger, clock, ...(dialect === 'postgres' ? { schema } : {}) })

  const sendOrders = async (a: App, clock: ManualClock, round: number) => {
    for (let i = 0; i < CUSTOMERS; i++) {
      const raw = event(
        'order.paid',
        `paid-${round}-${i}`,
        { id: `o${round}-${i}`, currency: 'USD', total_price: 20, customer: { id: `c${i}`, email: `c${i}@example.com` } },
        clock.now().toISOString(),
      )
      const parsed = parseEvent(raw, { store: 'default', now: clock.now() })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      await a.engine.ingest([parsed.event], { historical: false, source: 'test' })
    }
    await a.engine.drain()
  }

  /** Each customer's group in the runs of one workflow version, read from the runs and their split step. */
  const assignments = async (a: App, version: number): Promise<Map<string, Assignment>> => {
    const runs = await a.handle.db
      .selectFrom('runs')
      .select(['id', 'customer_id', 'holdout', 'status'])
      .where('workflow_id', '=', 'ab-holdout')
      .where('workflow_version', '=', version)
      .execute()
    const out = new Map<string, Assignment>()
    for (const run of runs) {
      expect(run.status).toBe('completed')
      const split = await a.handle.db.selectFrom('run_steps').select('output').where('run_id', '=', run.id).where('type', '=', 'split').executeTakeFirst()
      out.set(run.customer_id!, {
        holdout: Number(run.holdout) === 1,
        variant: split?.output ? (JSON.parse(split.output) as { variant: string }).variant : null,
      })
    }
    return out
  }

  it('the same customers are in the holdout and in each variant after a restart and a new version', async () => {
    dir = mkdtempSync(join(tmpdir(), 'storeflow-assign-'))
    schema = `t_${process.pid}_${Date.now().toString(36)}_assign`
    const config = await loadConfig(
      { dataDir: dir, databaseUrl: dialect === 'postgres' ? TEST_DATABASE_URL : join(dir, 'storeflow.db') },
      { STOREFLOW_SECRET_KEY: 'test-secret-key' },
      dir,
    )
    const clock = new ManualClock('2026-03-02T10:00:00Z')
    app = await open(config, clock)
    await installWorkflow(app, workflow(1))
    await sendOrders(app, clock, 1)
    const first = await assignments(app, 1)
    expect(first.size).toBe(CUSTOMERS)

    // both groups and both variants are drawn, so the comparison below can fail
    const held = [...first.values()].filter((x) => x.holdout).length
    expect(held).toBeGreaterThan(5)
    expect(held).toBeLessThan(40)
    const treated = [...first.values()].filter((x) => !x.holdout)
    expect(treated.every((x) => x.variant === 'a' || x.variant === 'b')).toBe(true)
    expect(treated.filter((x) => x.variant === 'a').length).toBeGreaterThan(10)
    expect(treated.filter((x) => x.variant === 'b').length).toBeGreaterThan(10)
    // the holdout takes no action: no split step, no tag
    expect([...first.values()].filter((x) => x.holdout).every((x) => x.variant === null)).toBe(true)

    // a restart: a new process on the same database, and a new version of the workflow
    await app.close()
    clock.advance(24 * 3_600_000)
    app = await open(config, clock)
    await installWorkflow(app, workflow(2))
    await sendOrders(app, clock, 2)
    const second = await assignments(app, 2)
    expect(second.size).toBe(CUSTOMERS)
    for (const [customer, was] of first) expect(second.get(customer), customer).toEqual(was)

    // and the treated customers' tags show the variant they were sent down, both times
    for (const [customer, was] of first) {
      const row = await app.handle.db.selectFrom('customers').select('tags').where('external_id', '=', customer).executeTakeFirstOrThrow()
      expect(JSON.parse(row.tags)).toEqual(was.holdout ? [] : [`got-${was.variant}`])
    }
  })
})
