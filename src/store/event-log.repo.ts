import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { AppendItem, LogPosition } from '../engine/ports.ts'
import type { DialectName } from './db.ts'
import type { Database, EventsTable } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** Rows per multi-row insert: under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters (9 a row). */
const APPEND_CHUNK = 1000

/**
 * Appends events to the log, deduplicated on (store, event id), as multi-row inserts. Returns each
 * item's sequence number and whether it was a repeat (of an earlier event, or of an item before it
 * in this very call). Every store appended to gets its router row, so a router looks at it.
 */
export async function appendEvents(trx: Db, items: AppendItem[]): Promise<Array<{ seq: number; duplicate: boolean }>> {
  const out: Array<{ seq: number; duplicate: boolean }> = new Array(items.length)
  for (let start = 0; start < items.length; start += APPEND_CHUNK) {
    const chunk = items.slice(start, start + APPEND_CHUNK)
    const values = sql.join(
      chunk.map(
        (i) =>
          sql`(${i.event.store}, ${i.event.id}, ${i.event.type}, ${i.event.occurred_at}, ${i.receivedAt}, ${i.customerKey ?? null}, ${i.historical ? 1 : 0}, ${i.source}, ${JSON.stringify(i.event.data)})`,
      ),
    )
    const { rows } = await sql<{ seq: number; store_id: string; id: string }>`
      insert into events (store_id, id, type, occurred_at, received_at, customer_key, historical, source, data)
      values ${values}
      on conflict (store_id, id) do nothing
      returning seq, store_id, id`.execute(trx)
    const inserted = new Map(rows.map((r) => [keyOf(r.store_id, r.id), Number(r.seq)]))
    const missing: AppendItem[] = []
    chunk.forEach((item, i) => {
      const key = keyOf(item.event.store, item.event.id)
      const seq = inserted.get(key)
      if (seq !== undefined) {
        out[start + i] = { seq, duplicate: false }
        // a second item with the same id in this call is the repeat
        inserted.delete(key)
      } else missing.push(item)
    })
    if (missing.length > 0) {
      const found = await findSeqs(trx, missing)
      chunk.forEach((item, i) => {
        if (out[start + i]) return
        out[start + i] = { seq: found.get(keyOf(item.event.store, item.event.id))!, duplicate: true }
      })
    }
  }
  const stores = [...new Set(items.map((i) => i.event.store))]
  await sql`
    insert into event_routers (store_id, position_tx, position_seq)
    values ${sql.join(stores.map((s) => sql`(${s}, 0, 0)`))}
    on conflict (store_id) do nothing`.execute(trx)
  return out
}

async function findSeqs(trx: Db, items: AppendItem[]): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  const byStore = new Map<string, string[]>()
  for (const i of items) byStore.set(i.event.store, [...(byStore.get(i.event.store) ?? []), i.event.id])
  for (const [storeId, ids] of byStore) {
    const rows = await trx.selectFrom('events').select(['seq', 'id']).where('store_id', '=', storeId).where('id', 'in', ids).execute()
    for (const r of rows) found.set(keyOf(storeId, r.id), Number(r.seq))
  }
  return found
}

const keyOf = (storeId: string, id: string) => `${storeId}\u0000${id}`

/**
 * The upper bound of what a router may read. On PostgreSQL: the oldest transaction still running
 * (the snapshot's xmin). Every event of an older transaction has committed or never will; any event
 * still to commit belongs to a transaction at or above it, so after the position.
 */
function routableBound(dialect: DialectName) {
  return dialect === 'postgres' ? sql<number>`(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)` : null
}

/*
 * "After the router's position" is (tx_id, seq) > (position_tx, position_seq). Written as one OR,
 * or as a row-value comparison, SQLite seeks the index on store_id alone and scans the store's
 * whole log up to the position (every tx_id is 0 there): each read grows with the log. So every
 * query here says it as two index seeks: the rest of the position's transaction (tx_id equal, seq
 * greater) and the transactions after it (tx_id greater). On SQLite the second is always empty
 * (tx_id is 0 on every row), and the union and its sort cost more than the seek (a log read at
 * the tip: 105 µs against about 20), so SQLite is asked the first alone.
 */

/** Stores with events past their router's position, whose lease is free, lapsed or `owner`'s. */
export async function pendingRouterStores(db: Db, dialect: DialectName, owner: string, now: Date, limit: number, after?: string): Promise<string[]> {
  const { rows } = await pendingRouterStoresQuery(dialect, owner, now, limit, after).execute(db)
  return rows.map((r) => r.store_id)
}

/** `after`: only stores whose id sorts after it (a router going round the stores, router.ts) */
export function pendingRouterStoresQuery(dialect: DialectName, owner: string, now: Date, limit: number, after?: string) {
  const bound = routableBound(dialect)
  const below = bound ? sql`and e.tx_id < ${bound}` : sql.raw('')
  const from = after === undefined ? sql.raw('') : sql`and r.store_id > ${after}`
  const later = dialect === 'sqlite' ? sql.raw('') : sql`or exists (select 1 from events e where e.store_id = r.store_id and e.tx_id > r.position_tx ${below})`
  return sql<{ store_id: string }>`
    select r.store_id from event_routers r
    where (r.owner is null or r.owner = ${owner} or r.lease_until < ${now.toISOString()}) ${from}
      and (
        exists (select 1 from events e where e.store_id = r.store_id and e.tx_id = r.position_tx and e.seq > r.position_seq ${below})
        ${later}
      )
    order by r.store_id
    limit ${limit}`
}

/** Takes (or renews) a store's router lease; false when another live router holds it. */
export async function takeRouterLease(db: Db, storeId: string, owner: string, now: Date, until: Date): Promise<boolean> {
  const result = await db
    .updateTable('event_routers')
    .set({ owner, lease_until: until.toISOString() })
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('owner', 'is', null), eb('owner', '=', owner), eb('lease_until', '<', now.toISOString())]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function releaseRouterLeases(db: Db, owner: string): Promise<void> {
  await db.updateTable('event_routers').set({ owner: null, lease_until: null }).where('owner', '=', owner).execute()
}

/**
 * Locks the store's router row for this transaction and returns its position, if `owner` still
 * holds the lease. The lock makes routing exactly once whatever the leases do: a second router
 * of the store waits here, then reads the position the first one committed.
 */
export async function lockRouter(trx: Db, dialect: DialectName, storeId: string, owner: string): Promise<LogPosition | null> {
  const { rows } = await sql<{ position_tx: number | string; position_seq: number | string; owner: string | null }>`
    select position_tx, position_seq, owner from event_routers where store_id = ${storeId}
    ${dialect === 'postgres' ? sql`for update` : sql.raw('')}`.execute(trx)
  const row = rows[0]
  if (!row || row.owner !== owner) return null
  return { tx: Number(row.position_tx), seq: Number(row.position_seq) }
}

/** The next events of the store's log after `position`, in log order. */
export async function readLog(trx: Db, dialect: DialectName, storeId: string, position: LogPosition, limit: number): Promise<Array<Selectable<EventsTable>>> {
  const { rows } = await readLogQuery(dialect, storeId, position, limit).execute(trx)
  return rows
}

export function readLogQuery(dialect: DialectName, storeId: string, position: LogPosition, limit: number) {
  const bound = routableBound(dialect)
  const below = bound ? sql`and tx_id < ${bound}` : sql.raw('')
  if (dialect === 'sqlite')
    return sql<Selectable<EventsTable>>`
      select * from events where store_id = ${storeId} and tx_id = ${position.tx} and seq > ${position.seq}
      order by seq limit ${limit}`
  return sql<Selectable<EventsTable>>`
    select * from (
      select * from events where store_id = ${storeId} and tx_id = ${position.tx} and seq > ${position.seq} ${below}
      order by seq limit ${limit}
    ) same_tx
    union all
    select * from (
      select * from events where store_id = ${storeId} and tx_id > ${position.tx} ${below}
      order by tx_id, seq limit ${limit}
    ) later_tx
    order by tx_id, seq
    limit ${limit}`
}

export async function advanceRouter(trx: Db, storeId: string, position: LogPosition, leaseUntil: Date): Promise<void> {
  await trx
    .updateTable('event_routers')
    .set({ position_tx: position.tx, position_seq: position.seq, lease_until: leaseUntil.toISOString() })
    .where('store_id', '=', storeId)
    .execute()
}

/** The store's last accepted event, or null before its first. */
export async function logHead(db: Db, storeId: string): Promise<number | null> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('store_id', '=', storeId)
    .executeTakeFirst()
  return row?.seq == null ? null : Number(row.seq)
}

/**
 * Whether the store's router has routed every event of the store up to `seq`. Not just that one:
 * on PostgreSQL the log's order is (tx_id, seq), so an event with a lower seq can still lie ahead
 * of the router when the event `seq` is behind it.
 */
export async function isRouted(db: Db, storeId: string, seq: number): Promise<boolean> {
  const { rows } = await sql<{ one: number }>`
    select 1 as one from event_routers r
    where r.store_id = ${storeId}
      and (
        exists (select 1 from events e where e.store_id = r.store_id and e.tx_id = r.position_tx and e.seq > r.position_seq and e.seq <= ${seq})
        or exists (select 1 from events e where e.store_id = r.store_id and e.tx_id > r.position_tx and e.seq <= ${seq})
      )`.execute(db)
  return rows.length === 0
}

/** Events accepted and not routed yet, per store (metrics, tests, the bench). */
export async function routerBacklog(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number | string | null }>`
    select sum(
      (select count(*) from events e where e.store_id = r.store_id and e.tx_id = r.position_tx and e.seq > r.position_seq)
      + (select count(*) from events e where e.store_id = r.store_id and e.tx_id > r.position_tx)
    ) as n
    from event_routers r`.execute(db)
  return Number(rows[0]?.n ?? 0)
}
