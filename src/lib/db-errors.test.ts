import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isDatabaseUnavailable } from './db-errors.ts'

/**
 * Two connections on one SQLite file, as `serve` and a `storeflow worker` have: a write after
 * another connection committed since this transaction's snapshot fails with SQLITE_BUSY_SNAPSHOT,
 * which busy_timeout cannot wait out. It is transient (the same work succeeds when tried again),
 * so the engine must treat it like an outage and retry soon, not as a failure of the run.
 */
describe('isDatabaseUnavailable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-dberr-'))
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('is true for a real SQLITE_BUSY_SNAPSHOT between two connections, false for a constraint error', () => {
    const file = join(dir, 'x.db')
    const a = new Database(file)
    const b = new Database(file)
    a.pragma('journal_mode = WAL')
    a.exec('create table t (id integer primary key, v text)')
    a.exec("insert into t values (1, 'x')")
    a.exec('begin')
    a.prepare('select * from t').all() // a's snapshot starts here
    b.exec("update t set v = 'y' where id = 1") // b commits after it
    let busy: unknown
    try {
      a.exec("update t set v = 'z' where id = 1")
    } catch (err) {
      busy = err
    }
    a.exec('rollback')
    expect((busy as { code?: string }).code).toBe('SQLITE_BUSY_SNAPSHOT')
    expect(isDatabaseUnavailable(busy)).toBe(true)
    let constraint: unknown
    try {
      a.exec("insert into t values (1, 'dup')")
    } catch (err) {
      constraint = err
    }
    expect(isDatabaseUnavailable(constraint)).toBe(false)
    a.close()
    b.close()
  })
})
