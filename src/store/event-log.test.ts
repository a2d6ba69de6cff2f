import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { pendingRouterStoresQuery, readLog, readLogQuery } from './event-log.repo.ts'

/** `count` events e0, e1, … of the default store, straight into the log (no router runs here). */
async function appendEvents(db: TestEnv['app']['handle']['db'], count: number): Promise<void> {
  await db
    .insertInto('events')
    .values(
      Array.from({ length: count }, (_, i) => ({
        store_id: 'default',
        id: `e${i}`,
        type: 'order.paid',
        occurred_at: '2026-03-02T10:00:00.000Z',
        received_at: '2026-03-02T10:00:00.000Z',
        customer_key: null,
        historical: 0,
        source: 'test',
        data: '{}',
      })),
    )
    .execute()
}

/**
 * The router reads "after its position", (tx_id, seq) > (position). Said as one OR, SQLite seeks
 * the index on store_id alone and walks the store's whole log up to the position on every read,
 * so routing slowed down as the log grew (quadratic in its length). These read plans must seek
 * past the position instead.
 */
describe('reading the event log after the router position (SQLite)', () => {
  let env: TestEnv
  const events = 3000

  beforeAll(async () => {
    env = await createTestEnv('sqlite')
    await appendEvents(env.app.handle.db, events)
  })
  afterAll(async () => {
    await env.cleanup()
  })

  const explain = async (query: ReturnType<typeof readLogQuery> | ReturnType<typeof pendingRouterStoresQuery>): Promise<string[]> => {
    const compiled = query.compile(env.app.handle.db)
    const result = await env.app.handle.db.executeQuery({ ...compiled, sql: `explain query plan ${compiled.sql}` } as typeof compiled)
    return (result.rows as unknown as Array<{ detail: string }>).map((r) => r.detail)
  }

  /** every look at events seeks on more than the store: its position's seq or a later transaction */
  const seeksPastPosition = (details: string[]) => {
    const onEvents = details.filter((d) => /^(SEARCH|SCAN) (events|e)\b/.test(d))
    expect(onEvents.length).toBeGreaterThan(0)
    for (const d of onEvents) expect(d).toMatch(/seq>\?|tx_id>\?/)
  }

  it('the log read seeks past the position instead of walking the store from its first event', async () => {
    seeksPastPosition(await explain(readLogQuery('sqlite', 'default', { tx: 0, seq: events - 10 }, 32)))
  })

  it('the look for stores with unrouted events seeks past each router position', async () => {
    seeksPastPosition(await explain(pendingRouterStoresQuery('sqlite', 'r', new Date(), 64)))
  })

  it('reads the events after the position in log order (SQLite: one transaction id, 0)', async () => {
    const db = env.app.handle.db
    const seqOf = async (id: string) => Number((await db.selectFrom('events').select('seq').where('id', '=', id).executeTakeFirstOrThrow()).seq)
    const rows = await readLog(db, 'sqlite', 'default', { tx: 0, seq: await seqOf('e2996') }, 2)
    expect(rows.map((r) => r.id)).toEqual(['e2997', 'e2998'])
    expect(await readLog(db, 'sqlite', 'default', { tx: 0, seq: await seqOf('e2999') }, 10)).toEqual([])
  })
})

/** On PostgreSQL an event's transaction id orders the log before its seq: a read takes the rest of the position's transaction, then the later ones. */
describe.each(DIALECTS.filter((d) => d === 'postgres'))('reading the event log after the router position (%s)', (dialect) => {
  let env: TestEnv

  beforeAll(async () => {
    env = await createTestEnv(dialect)
    await appendEvents(env.app.handle.db, 10)
  })
  afterAll(async () => {
    await env.cleanup()
  })

  it('reads the rest of the position transaction, then the later transactions, in log order', async () => {
    const db = env.app.handle.db
    // transaction ids made up, all older than any transaction running (so routable): one for
    // most, later ones for three events, to see both halves read
    await db.updateTable('events').set({ tx_id: 1 }).execute()
    await db.updateTable('events').set({ tx_id: 7 }).where('id', 'in', ['e5', 'e2']).execute()
    await db.updateTable('events').set({ tx_id: 3 }).where('id', '=', 'e9').execute()
    const seqOf = async (id: string) => Number((await db.selectFrom('events').select('seq').where('id', '=', id).executeTakeFirstOrThrow()).seq)
    const rows = await readLog(db, dialect, 'default', { tx: 1, seq: await seqOf('e8') }, 10)
    expect(rows.map((r) => r.id)).toEqual(['e9', 'e2', 'e5'])
    const fromMiddle = await readLog(db, dialect, 'default', { tx: 3, seq: await seqOf('e9') }, 1)
    expect(fromMiddle.map((r) => r.id)).toEqual(['e2'])
    const before = await readLog(db, dialect, 'default', { tx: 1, seq: await seqOf('e6') }, 3)
    expect(before.map((r) => r.id)).toEqual(['e7', 'e8', 'e9'])
  })
})
