import { CompiledQuery, sql, type Selectable, type Transaction } from 'kysely'
import type { RunRecord, StepRecord } from '../engine/ports.ts'
import type { DialectName } from './db.ts'
import type { CustomersTable, Database, EventsTable, OrdersTable } from './tables.ts'
import { customerView, orderView } from './views.ts'

/*
 * Set-based forms of the run writes a claimed batch makes (engine/write-behind.ts).
 *
 * SQLite: multi-row VALUES, in chunks whose sizes are powers of two (at most 256 rows), so a batch
 * of any size uses a handful of SQL texts that SQLite's statement cache keeps prepared, and no
 * statement nears the limit on bound parameters. (json_each over one JSON parameter was tried: it
 * costs SQLite three times as much per row, parsing each row's object once per column.) The texts
 * are built once and sent as compiled queries: the query builder would make and compile a node
 * per bound value, thousands per batch.
 * PostgreSQL: one JSON parameter read by jsonb_to_recordset, one round trip whatever the size.
 */

type Trx = Transaction<Database>

const MAX_CHUNK = 256

/** Splits rows into chunks of 256, 128, … 1 rows. */
function chunks<T>(rows: T[]): T[][] {
  const out: T[][] = []
  let at = 0
  for (let size = MAX_CHUNK; size >= 1; size >>= 1) {
    while (rows.length - at >= size) {
      out.push(rows.slice(at, at + size))
      at += size
    }
  }
  return out
}

const texts = new Map<string, string>()

/** The SQL text with `rows` VALUES tuples of `width` parameters in place of `{values}`, built once per size. */
function withValues(template: string, rows: number, width: number): string {
  const key = `${template}\u0000${rows}`
  let text = texts.get(key)
  if (!text) {
    const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`
    text = template.replace('{values}', Array.from({ length: rows }, () => tuple).join(', '))
    texts.set(key, text)
  }
  return text
}

interface RunWrite {
  run: RunRecord
  expectedVersion: number
  /** the version once written */
  version: number
}

const runRow = ({ run, expectedVersion, version }: RunWrite) => [
  run.id,
  expectedVersion,
  version,
  run.status,
  JSON.stringify(run.state),
  run.due_at,
  run.signal_event_seq,
  run.lease_owner,
  run.ended_at,
]

// letting go of a run (no owner) frees its lease at once, as updateRun does
const SQLITE_UPDATE_RUNS = `with v(id, expected, version, status, state, due_at, signal_event_seq, lease_owner, ended_at) as (values {values})
  update runs set status = v.status, state = v.state, due_at = v.due_at, signal_event_seq = v.signal_event_seq,
    lease_owner = v.lease_owner, lease_until = case when v.lease_owner is null then null else runs.lease_until end,
    version = v.version, ended_at = v.ended_at, updated_at = ?
  from v where runs.id = v.id and runs.version = v.expected
  returning runs.id`

/**
 * Writes each run only where its version is still the one expected (invariant 8), moving it to
 * `version`; returns the ids written. On PostgreSQL the rows are locked in id order first, as every writer of several runs
 * does (invariant 9): the update's own join order is the planner's, not ours.
 */
export async function updateRuns(trx: Trx, dialect: DialectName, writes: RunWrite[], nowIso: string): Promise<string[]> {
  if (writes.length === 0) return []
  if (dialect === 'sqlite') {
    const written: string[] = []
    for (const chunk of chunks(writes)) {
      const text = withValues(SQLITE_UPDATE_RUNS, chunk.length, 9)
      const { rows } = await trx.executeQuery<{ id: string }>(CompiledQuery.raw(text, [...chunk.flatMap(runRow), nowIso]))
      for (const r of rows) written.push(r.id)
    }
    return written
  }
  const ids = writes.map((w) => w.run.id).sort()
  await sql`select id from runs where id = any(${ids}::text[]) order by id for update`.execute(trx)
  const rows = JSON.stringify(writes.map((w) => runRow(w)))
  const { rows: written } = await sql<{ id: string }>`
    update runs set status = v.status, state = v.state, due_at = v.due_at, signal_event_seq = v.signal_event_seq,
      lease_owner = v.lease_owner, lease_until = case when v.lease_owner is null then null else runs.lease_until end,
      version = v.version, ended_at = v.ended_at, updated_at = ${nowIso}
    from (select r ->> 0 as id, (r ->> 1)::integer as expected, (r ->> 2)::integer as version, r ->> 3 as status, r ->> 4 as state,
      r ->> 5 as due_at, (r ->> 6)::bigint as signal_event_seq, r ->> 7 as lease_owner, r ->> 8 as ended_at
      from jsonb_array_elements(${rows}::jsonb) as r) as v
    where runs.id = v.id and runs.version = v.expected
    returning runs.id`.execute(trx)
  return written.map((r) => r.id)
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v))

const stepRow = (s: StepRecord) => [
  s.run_id,
  s.store_id,
  s.step_key,
  s.seq,
  s.step_id,
  s.type,
  s.status,
  s.attempts,
  json(s.input),
  json(s.output),
  s.error ?? null,
  s.started_at,
  s.ended_at ?? null,
  s.wake_at ?? null,
]

const STEP_COLUMNS = '(run_id, store_id, step_key, seq, step_id, type, status, attempts, input, output, error, started_at, ended_at, wake_at)'
const STEPS_ON_CONFLICT = `on conflict (run_id, step_key) do update set seq = excluded.seq, step_id = excluded.step_id, type = excluded.type,
  status = excluded.status, attempts = excluded.attempts, input = excluded.input, output = excluded.output,
  error = excluded.error, ended_at = excluded.ended_at, wake_at = excluded.wake_at`
const SQLITE_UPSERT_STEPS = `insert into run_steps ${STEP_COLUMNS} values {values} ${STEPS_ON_CONFLICT}`

/** Timeline rows, at most one per (run, step key); started_at is kept from a row's first write, as upsertStep does. */
export async function upsertSteps(trx: Trx, dialect: DialectName, steps: StepRecord[]): Promise<void> {
  if (steps.length === 0) return
  if (dialect === 'sqlite') {
    for (const chunk of chunks(steps)) await trx.executeQuery(CompiledQuery.raw(withValues(SQLITE_UPSERT_STEPS, chunk.length, 14), chunk.flatMap(stepRow)))
    return
  }
  const rows = JSON.stringify(steps.map(stepRow))
  await sql`insert into run_steps ${sql.raw(STEP_COLUMNS)}
    select r ->> 0, r ->> 1, r ->> 2, (r ->> 3)::integer, r ->> 4, r ->> 5, r ->> 6, (r ->> 7)::integer, r ->> 8, r ->> 9, r ->> 10,
      r ->> 11, r ->> 12, r ->> 13
    from jsonb_array_elements(${rows}::jsonb) as r
    ${sql.raw(STEPS_ON_CONFLICT)}`.execute(trx)
}

/** Drops the correlations (of one purpose, or all) of many runs. */
export async function deleteCorrelationsOf(trx: Trx, dialect: DialectName, runIds: string[], purpose?: 'wait_for' | 'exit_when'): Promise<void> {
  if (runIds.length === 0) return
  const ofPurpose = purpose ? sql`and purpose = ${purpose}` : sql``
  if (dialect === 'sqlite')
    await sql`delete from correlations where run_id in (select value from json_each(${JSON.stringify(runIds)})) ${ofPurpose}`.execute(trx)
  else await sql`delete from correlations where run_id = any(${runIds}::text[]) ${ofPurpose}`.execute(trx)
}

/** Stored events by seq, in one statement (a batch's trigger events). */
export async function eventsBySeq(trx: Trx, dialect: DialectName, seqs: number[]): Promise<Array<Selectable<EventsTable>>> {
  if (seqs.length === 0) return []
  const { rows } =
    dialect === 'sqlite'
      ? await sql<Selectable<EventsTable>>`select * from events where seq in (select value from json_each(${JSON.stringify(seqs)}))`.execute(trx)
      : await sql<Selectable<EventsTable>>`select * from events where seq = any(${seqs}::bigint[])`.execute(trx)
  return rows
}

/** customerView for many customers, in one read: key → view. */
export async function customerViews(trx: Trx, dialect: DialectName, keys: string[]): Promise<Map<string, Record<string, unknown>>> {
  if (keys.length === 0) return new Map()
  const { rows } =
    dialect === 'sqlite'
      ? await sql<Selectable<CustomersTable>>`select * from customers where key in (select value from json_each(${JSON.stringify(keys)}))`.execute(trx)
      : await sql<Selectable<CustomersTable>>`select * from customers where key = any(${keys}::text[])`.execute(trx)
  return new Map(rows.map((r) => [r.key, customerView(r)]))
}

/** orderView for many orders of one store, in one read: order id → view. */
export async function orderViews(trx: Trx, dialect: DialectName, storeId: string, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  if (ids.length === 0) return new Map()
  const { rows } =
    dialect === 'sqlite'
      ? await sql<
          Selectable<OrdersTable>
        >`select * from orders where store_id = ${storeId} and id in (select value from json_each(${JSON.stringify(ids)}))`.execute(trx)
      : await sql<Selectable<OrdersTable>>`select * from orders where store_id = ${storeId} and id = any(${ids}::text[])`.execute(trx)
  return new Map(rows.map((r) => [r.id, orderView(r)]))
}
