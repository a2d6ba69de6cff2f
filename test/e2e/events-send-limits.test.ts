import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cliEnvFor, runCli } from '../helpers/cli-run.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { rowCounts } from '../helpers/row-counts.ts'

/**
 * Issue 7, defect 7 on the command line: `storeflow events send` refuses money as 1e21 / 1e-7 and
 * data nested 5,000 levels deep, naming the field or the limit, exits non-zero, and stores nothing
 * of the refused events (a real process against the test's database).
 */

const order = (eventId: string, total: string) =>
  `{"id":"${eventId}","type":"order.paid","occurred_at":"2026-03-02T09:00:00Z","data":{"id":"o-${eventId}","currency":"USD","total_price":${total},"customer":{"id":"c-1","email":"ada@example.com"}}}`

describe.each(DIALECTS)('storeflow events send on %s', (dialect) => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv(dialect)
  })
  afterEach(async () => {
    await env.cleanup()
  })

  it('refuses 1e21, 1e-7 and 5,000 levels of nesting, naming field and limit; stores none of them', async () => {
    const file = join(env.config.dataDir, 'bad.ndjson')
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`
    writeFileSync(file, [order('c-1', '1e21'), order('c-2', '1e-7'), `{"id":"c-3","type":"raw.shop.thing","data":{"x":${deep}}}`].join('\n'))
    const before = await rowCounts(env.app.handle)
    const res = await runCli(['events', 'send', file], await cliEnvFor(env, dialect))
    expect(res.code, res.stderr).toBe(1)
    expect(res.stderr).toContain('line 1: data.total_price')
    expect(res.stderr).toContain('line 2: data.total_price')
    expect(res.stderr).toMatch(/line 3: data\.x(\.a)+.*depth limit/)
    expect(res.stderr).not.toContain('looks like a bug')
    expect(res.stdout).toContain('accepted 0')
    expect(await rowCounts(env.app.handle)).toEqual(before)
  })
})
