import { sql, type Selectable, type Transaction } from 'kysely'
import type { RunRecord, StepRecord } from '../engine/ports.ts'
import type { DialectName } from './db.ts'
import type { Database, EventsTable } from './tables.ts'

/*
 * Set-based forms of the run writes a claimed batch makes (engine/write-behind.ts). Each statement
 * takes its rows as one JSON parameter (json_each on SQLite, jsonb_to_recordset on PostgreSQL):
 * one SQL text whatever the batch size, so SQLite's statement cache keeps it prepared, and no
 * statement comes near either database's limit on bound parameters.
 */

type Trx = Transaction<Database>

/**
 * Writes each run only where its version is still the one expected (invariant 8); returns the ids
 * written. On PostgreSQL the rows are locked in id order first, as every writer of several runs
 * does (invariant 9): the update's own join order is the planner's, not ours.
 */
export async function updateRuns(
  trx: Trx,
  dialect: DialectName,
  writes: Array<{ run: RunRecord; expectedVersion: number }>,
  nowIso: string,
): Promise<string[]> {
  if (writes.length === 0) return []
  const rows = JSON.stringify(
    writes.map(({ run, expectedVersion }) => ({
      id: run.id,
      expected: expectedVersion,
      status: run.status,
      state: JSON.stringify(run.state),
      due_at: run.due_at,
      signal_event_seq: run.signal_event_seq,
      lease_owner: run.lease_owner,
      ended_at: run.ended_at,
    })),
  )
  if (dialect === 'sqlite') {
    // letting go of a run (no owner) frees its lease at once, as updateRun does
    const { rows: written } = await sql<{ id: string }>`
      with v as (
        select value ->> 'id' as id, value ->> 'expected' as expected, value ->> 'status' as status, value ->> 'state' as state,
          value ->> 'due_at' as due_at, value ->> 'signal_event_seq' as signal_event_seq, value ->> 'lease_owner' as lease_owner,
          value ->> 'ended_at' as ended_at
        from json_each(${rows})
      )
      update runs set status = v.status, state = v.state, due_at = v.due_at, signal_event_seq = v.signal_event_seq,
        lease_owner = v.lease_owner, lease_until = case when v.lease_owner is null then null else runs.lease_until end,
        version = v.expected + 1, ended_at = v.ended_at, updated_at = ${nowIso}
      from v where runs.id = v.id and runs.version = v.expected
      returning runs.id`.execute(trx)
    return written.map((r) => r.id)
  }
  const ids = writes.map((w) => w.run.id).sort()
  await sql`select id from runs where id = any(${ids}::text[]) order by id for update`.execute(trx)
  const { rows: written } = await sql<{ id: string }>`
    update runs set status = v.status, state = v.state, due_at = v.due_at, signal_event_seq = v.signal_event_seq,
      lease_owner = v.lease_owner, lease_until = case when v.lease_owner is null then null else runs.lease_until end,
      version = v.expected + 1, ended_at = v.ended_at, updated_at = ${nowIso}
    from jsonb_to_recordset(${rows}::jsonb) as v(id text, expected integer, status text, state text, due_at text,
      signal_event_seq bigint, lease_owner text, ended_at text)
    where runs.id = v.id and runs.version = v.expected
    returning runs.id`.execute(trx)
  return written.map((r) => r.id)
}

/** Timeline rows, at most one per (run, step key); started_at is kept from a row's first write, as upsertStep does. */
export async function upsertSteps(trx: Trx, dialect: DialectName, steps: StepRecord[]): Promise<void> {
  if (steps.length === 0) return
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v))
  const rows = JSON.stringify(
    steps.map((s) => ({
      run_id: s.run_id,
      store_id: s.store_id,
      step_key: s.step_key,
      seq: s.seq,
      step_id: s.step_id,
      type: s.type,
      status: s.status,
      attempts: s.attempts,
      input: json(s.input),
      output: json(s.output),
      error: s.error ?? null,
      started_at: s.started_at,
      ended_at: s.ended_at ?? null,
      wake_at: s.wake_at ?? null,
    })),
  )
  const onConflict = sql`on conflict (run_id, step_key) do update set seq = excluded.seq, step_id = excluded.step_id, type = excluded.type,
    status = excluded.status, attempts = excluded.attempts, input = excluded.input, output = excluded.output,
    error = excluded.error, ended_at = excluded.ended_at, wake_at = excluded.wake_at`
  const columns = sql`(run_id, store_id, step_key, seq, step_id, type, status, attempts, input, output, error, started_at, ended_at, wake_at)`
  if (dialect === 'sqlite') {
    // `where true`: SQLite reads an ON CONFLICT after a bare SELECT as a join constraint
    await sql`insert into run_steps ${columns}
      select value ->> 'run_id', value ->> 'store_id', value ->> 'step_key', value ->> 'seq', value ->> 'step_id', value ->> 'type',
        value ->> 'status', value ->> 'attempts', value ->> 'input', value ->> 'output', value ->> 'error', value ->> 'started_at',
        value ->> 'ended_at', value ->> 'wake_at'
      from json_each(${rows}) where true
      ${onConflict}`.execute(trx)
    return
  }
  await sql`insert into run_steps ${columns}
    select run_id, store_id, step_key, seq, step_id, type, status, attempts, input, output, error, started_at, ended_at, wake_at
    from jsonb_to_recordset(${rows}::jsonb) as v(run_id text, store_id text, step_key text, seq integer, step_id text, type text,
      status text, attempts integer, input text, output text, error text, started_at text, ended_at text, wake_at text)
    ${onConflict}`.execute(trx)
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
