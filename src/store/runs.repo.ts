import { sql, type Kysely, type Selectable } from 'kysely'
import { isActiveStatus } from '../engine/run-status.ts'
import { UserError } from '../lib/errors.ts'
import type { DialectName } from './db.ts'
import { newestFirst, type Page, type PageRequest } from './keyset.ts'
import type { Database, RunStepsTable, RunsTable } from './tables.ts'

/** A run as the API shows it (docs/http-api.md). */
export interface RunView {
  id: string
  workflow_id: string
  workflow_version: number
  status: string
  trigger_event_id: string
  customer_id: string | null
  customer_email: string | null
  holdout: boolean
  started_at: string
  ended_at: string | null
  wake_at: string | null
  steps: StepView[]
}

export interface StepView {
  id: string
  key: string
  type: string
  status: string
  attempts: number
  started_at: string
  ended_at: string | null
  wake_at?: string
  input?: unknown
  output?: unknown
  error?: string
}

export function stepView(row: Selectable<RunStepsTable>): StepView {
  return {
    id: row.step_id,
    key: row.step_key,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    started_at: row.started_at,
    ended_at: row.ended_at,
    ...(row.wake_at ? { wake_at: row.wake_at } : {}),
    ...(row.input ? { input: JSON.parse(row.input) } : {}),
    ...(row.output ? { output: JSON.parse(row.output) } : {}),
    ...(row.error ? { error: row.error } : {}),
  }
}

function runView(row: Selectable<RunsTable>, steps: StepView[]): RunView {
  return {
    id: row.id,
    workflow_id: row.workflow_id,
    workflow_version: row.workflow_version,
    status: row.status,
    trigger_event_id: row.trigger_event_id,
    customer_id: row.customer_id,
    customer_email: row.customer_email,
    holdout: row.holdout === 1,
    started_at: row.started_at,
    ended_at: row.ended_at,
    wake_at: isActiveStatus(row.status) ? row.due_at : null,
    steps,
  }
}

export async function getRun(db: Kysely<Database>, storeId: string, id: string): Promise<RunView> {
  const row = await db.selectFrom('runs').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (!row) throw new UserError(`run "${id}" not found`, { code: 'not_found' })
  const steps = await db.selectFrom('run_steps').selectAll().where('run_id', '=', id).orderBy('seq').orderBy('started_at').execute()
  return runView(row, steps.map(stepView))
}

export interface RunFilter {
  workflow?: string | undefined
  status?: string | undefined
  /** the shop's customer id, or storeflow's customer key */
  customer?: string | undefined
}

export async function listRuns(db: Kysely<Database>, storeId: string, filter: RunFilter, page: PageRequest): Promise<Page<Omit<RunView, 'steps'>>> {
  let q = db.selectFrom('runs').selectAll().where('store_id', '=', storeId)
  if (filter.workflow) q = q.where('workflow_id', '=', filter.workflow)
  if (filter.status) q = q.where('status', '=', filter.status)
  if (filter.customer) q = q.where((eb) => eb.or([eb('customer_id', '=', filter.customer!), eb('customer_key', '=', filter.customer!)]))
  const { items, next_cursor } = await newestFirst(q, { time: 'started_at', id: 'id' }, page)
  return {
    items: items.map((r) => {
      const { steps: _steps, ...rest } = runView(r, [])
      return rest
    }),
    next_cursor,
  }
}

/** Every run of a workflow, oldest first (simulate reads its sandbox's). */
export async function runsOfWorkflow(db: Kysely<Database>, workflowId: string): Promise<Array<Selectable<RunsTable>>> {
  return db.selectFrom('runs').selectAll().where('workflow_id', '=', workflowId).orderBy('started_at').execute()
}

/** A run's timeline as stored, in step order. */
export async function stepsOfRun(db: Kysely<Database>, runId: string): Promise<Array<Selectable<RunStepsTable>>> {
  return db.selectFrom('run_steps').selectAll().where('run_id', '=', runId).orderBy('seq').execute()
}

/*
 * Leases (src/engine/ARCHITECTURE.md, invariant 9). Row locks on `runs` are taken by the claim,
 * the heartbeat and the versioned run writes of batches and of ingest. None of these may wait for
 * one run's lock while holding another's in an order that a concurrent writer reverses: that is a
 * deadlock (40P01), and a heartbeat failed by one lets a lease lapse under a worker still acting.
 */

/** Stores per candidates statement (SQLite allows 500 terms in a compound SELECT). */
const CLAIM_STORES_PER_STATEMENT = 200

/**
 * Leases up to `limit` runs due at `now`, fairly between stores; rows another transaction holds
 * are skipped, never waited for.
 *
 * Fair: every store with due runs gets its share first, `ceil(limit / stores)` of its oldest
 * (each store's own range of runs_store_due_idx: a few index steps per store, whatever the
 * backlogs), so a store's oldest due run is in the next claim however many runs another store
 * has due (while there are no more stores than `limit`; past that, the stores whose share is
 * oldest go first and the rest come next time). What the shares leave of the claim is filled
 * with the oldest due runs of any store (runs_due_idx, as a claim in due order), so one busy
 * store still fills whole batches. The claim takes the shares first, oldest first, then the fill.
 *
 * Candidates are read without locks (on PostgreSQL up to twice `limit`); the UPDATE locks them in that order
 * with SKIP LOCKED on PostgreSQL and checks due and lease again on each row it locked, so a run
 * another worker is claiming right now is skipped without leaving this claim short, and none is
 * leased twice.
 */
export async function claimDueRuns(
  db: Kysely<Database>,
  dialect: DialectName,
  owner: string,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<Array<Selectable<RunsTable>>> {
  const nowIso = now.toISOString()
  const until = new Date(now.getTime() + leaseMs).toISOString()
  const claimable = sql`due_at <= ${nowIso} and (lease_until is null or lease_until < ${nowIso})`
  const stores = (await db.selectFrom('stores').select('id').execute()).map((s) => s.id)
  const share = Math.max(1, Math.ceil(limit / Math.max(1, stores.length)))
  const shares: Array<{ id: string; due_at: string }> = []
  for (let i = 0; i < stores.length; i += CLAIM_STORES_PER_STATEMENT) {
    const parts = stores
      .slice(i, i + CLAIM_STORES_PER_STATEMENT)
      .map((storeId) => sql`select * from (select id, due_at from runs where store_id = ${storeId} and ${claimable} order by due_at limit ${share}) s`)
    const { rows } = await sql<{ id: string; due_at: string }>`${sql.join(parts, sql` union all `)}`.execute(db)
    shares.push(...rows)
  }
  shares.sort((a, b) => (a.due_at < b.due_at ? -1 : a.due_at > b.due_at ? 1 : 0))
  // PostgreSQL: spares for the rows another worker's claim holds right now (SKIP LOCKED drops them)
  const wanted = dialect === 'postgres' ? limit * 2 : limit
  const candidates = shares.slice(0, wanted).map((r) => r.id)
  if (candidates.length < wanted) {
    const taken = new Set(candidates)
    const fill = await sql<{ id: string }>`select id from runs where ${claimable} order by due_at limit ${wanted + taken.size}`.execute(db)
    for (const { id } of fill.rows) if (!taken.has(id) && candidates.length < wanted) candidates.push(id)
  }
  if (candidates.length === 0) return []
  const picked =
    dialect === 'postgres'
      ? sql`select r.id from unnest(${candidates}::text[]) with ordinality as c(id, n) join runs r on r.id = c.id
          where ${claimable} order by c.n limit ${limit} for update of r skip locked`
      : sql`select id from runs where id in (${sql.join(candidates)}) and ${claimable}`
  const result = await sql<Selectable<RunsTable>>`
    update runs set lease_owner = ${owner}, lease_until = ${until}
    where id in (${picked}) and ${claimable}
    returning *`.execute(db)
  return result.rows
}

/**
 * The heartbeat: moves the lease of each run still held by `owner` to `until`; returns the ids
 * it renewed (a run missing was let go, or taken over after its lease lapsed).
 *
 * On PostgreSQL it never waits for one run's lock while holding another's, so it cannot close a
 * cycle with a transaction writing those runs in any order (one `UPDATE … WHERE id IN (…)` did:
 * it locked the rows one by one in its own order while a batch locked them in another, 40P01).
 * One statement renews every run nobody else is writing right now (SKIP LOCKED: it takes no lock
 * it would have to wait for); each run it skipped is then renewed by a statement of its own, in
 * its own transaction, which may wait for that one run and holds nothing else meanwhile.
 */
export async function extendLeases(db: Kysely<Database>, dialect: DialectName, owner: string, runIds: string[], until: Date): Promise<string[]> {
  if (runIds.length === 0) return []
  const leaseUntil = until.toISOString()
  if (dialect === 'sqlite') {
    // one writer at a time: no lock order to get wrong
    const rows = await db
      .updateTable('runs')
      .set({ lease_until: leaseUntil })
      .where('id', 'in', runIds)
      .where('lease_owner', '=', owner)
      .returning('id')
      .execute()
    return rows.map((r) => r.id)
  }
  const { rows } = await sql<{ id: string }>`
    update runs set lease_until = ${leaseUntil}
    where id in (
      select id from runs where id in (${sql.join(runIds)}) and lease_owner = ${owner}
      order by id for update skip locked
    )
    returning id`.execute(db)
  const renewed = new Set(rows.map((r) => r.id))
  // skipped: being written by someone (usually this worker's own batch), or no longer ours
  for (const id of [...runIds].sort()) {
    if (renewed.has(id)) continue
    const result = await db.updateTable('runs').set({ lease_until: leaseUntil }).where('id', '=', id).where('lease_owner', '=', owner).executeTakeFirst()
    if (Number(result.numUpdatedRows) === 1) renewed.add(id)
  }
  return [...renewed]
}

/** Lets go of a run this worker holds; another worker may claim it at once. */
export async function releaseLease(db: Kysely<Database>, runId: string, owner: string): Promise<void> {
  await db.updateTable('runs').set({ lease_owner: null, lease_until: null }).where('id', '=', runId).where('lease_owner', '=', owner).execute()
}
