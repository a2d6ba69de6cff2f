import type { Kysely, Transaction } from 'kysely'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * Reads a transaction may share: the store-level rows the router reads for every event it routes
 * (the store's settings and time zone, its own segments, its RFM cuts), read once per transaction
 * instead of once per event and per module. A router's batch is one transaction of up to a few
 * hundred events, and these rows were read 5–7 times for each of them.
 *
 * Why only within a transaction: the transaction is the unit that sees one state of the database
 * (other processes change settings between transactions: PUT /settings on an API node), and it
 * ends within milliseconds, so nothing is kept that could go stale. Outside a transaction (a
 * plain connection) nothing is memoised. A write in the same transaction to a memoised row must
 * call `forgetInTx` (recomputeRfm does, for the cuts).
 */
const memos = new WeakMap<object, Map<string, Promise<unknown>>>()

/** `load()` once per transaction and key; on a plain connection, every time. */
export function sharedInTx<T>(db: Db, key: string, load: () => Promise<T>): Promise<T> {
  if (!db.isTransaction) return load()
  let memo = memos.get(db)
  if (!memo) {
    memo = new Map()
    memos.set(db, memo)
  }
  const hit = memo.get(key) as Promise<T> | undefined
  if (hit) return hit
  const loaded = load()
  memo.set(key, loaded)
  // a failed read is not remembered: the transaction is failing anyway, but say nothing untrue
  loaded.catch(() => memo.delete(key))
  return loaded
}

/** Drops a memoised read after the transaction wrote its row. */
export function forgetInTx(db: Db, key: string): void {
  memos.get(db)?.delete(key)
}

/** The store's row as the router reads it (settings JSON text, time zone): once per transaction. */
export function storeRowInTx(db: Db, storeId: string): Promise<{ settings: string; timezone: string } | undefined> {
  return sharedInTx(db, `stores:${storeId}`, () => db.selectFrom('stores').select(['settings', 'timezone']).where('id', '=', storeId).executeTakeFirst())
}
