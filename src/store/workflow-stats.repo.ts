import type { Kysely, Transaction } from 'kysely'
import { localParts } from '../core/time-zones.ts'
import type { Database } from './tables.ts'
import { storeRowInTx } from './tx-memo.ts'

type Db = Kysely<Database> | Transaction<Database>

/**
 * The per-workflow daily counters (migration 0020-insight, `workflow_stats_daily`): one row per
 * store, workflow, step (`''` for the workflow as a whole) and day in the store's time zone. Every
 * caller increments them in the transaction of the state change it counts (a run inserted or
 * ended, a message's status, a message's first open or click, an attribution), so a change rolled
 * back, retried or replayed is counted once. Increments only: `insert … on conflict do update set
 * x = x + excluded.x`, the same on SQLite and PostgreSQL, so concurrent writers never lose one.
 *
 * What counts where:
 * - `runs_started` when a run is inserted (holdout runs too; they are recorded completed at once,
 *   and counted so); `runs_completed` / `runs_exited` / `runs_failed` when a run ends so
 *   (engine/run-lifecycle.ts); a cancelled run is in none of the three, and a failed run retried
 *   is taken back out of `runs_failed` (counted again by however it ends next).
 * - per step and per workflow: `sent` when a message leaves (status `sent`, or `bounced` when the
 *   receiving server refused it), `delivered` when it was accepted (`sent`), `bounced` when it was
 *   refused, so sent = delivered + bounced; `opened` / `clicked` once per message, at its first
 *   open / click (a click implies an open); `unsubscribed` once per message whose unsubscribe
 *   link was used; `orders` / `revenue_micros` per attributed order, on the day of the order
 *   (refunds take revenue back from that same day).
 * Team chat messages are not the customer's mail and are not counted.
 */
export const STAT_COUNTERS = [
  'runs_started',
  'runs_completed',
  'runs_exited',
  'runs_failed',
  'sent',
  'delivered',
  'opened',
  'clicked',
  'unsubscribed',
  'bounced',
  'orders',
  'revenue_micros',
] as const

export type StatCounter = (typeof STAT_COUNTERS)[number]

export interface StatIncrement {
  workflowId: string
  /** the step's id; '' for the workflow as a whole */
  stepId: string
  /** the moment of the change, ISO 8601: its date in the store's time zone is the row's day */
  at: string
  counts: Partial<Record<StatCounter, number | bigint>>
}

/** Transactions whose increments are dropped (withoutStats). */
const muted = new WeakSet<object>()

/**
 * Runs an engine transaction's work with its counters' increments dropped: a sandbox (backtest)
 * whose counters no report reads (ViewSkips.analytics).
 */
export async function withoutStats<T>(trx: Transaction<Database>, work: () => Promise<T>): Promise<T> {
  muted.add(trx)
  try {
    return await work()
  } finally {
    muted.delete(trx)
  }
}

/** Increments held back until the end of an engine transaction (withDeferredStats), by transaction. */
const deferred = new WeakMap<object, Array<StatIncrement & { storeId: string }>>()

/**
 * Adds the increments to the store's counters. Inside an engine transaction (withDeferredStats)
 * they are written at its end, just before the commit; elsewhere at once.
 */
export async function addWorkflowStats(db: Db, storeId: string, increments: readonly StatIncrement[]): Promise<void> {
  if (increments.length === 0 || muted.has(db)) return
  const held = deferred.get(db)
  if (held) for (const inc of increments) held.push({ ...inc, storeId })
  else
    await writeStats(
      db,
      increments.map((inc) => ({ ...inc, storeId })),
    )
}

/**
 * Runs an engine transaction's work (store/storage.ts transaction), then writes the counters it
 * incremented, merged per row and in one order of rows. On PostgreSQL a counter row (a workflow's
 * day) is shared by every transaction of that workflow: taken at the end, its lock is held only
 * for the commit, not for the whole batch, and two transactions take their rows in the same order,
 * so they wait for each other instead of deadlocking.
 */
export async function withDeferredStats<T>(trx: Transaction<Database>, work: () => Promise<T>): Promise<T> {
  const held: Array<StatIncrement & { storeId: string }> = []
  deferred.set(trx, held)
  try {
    const out = await work()
    deferred.delete(trx)
    await writeStats(trx, held)
    return out
  } finally {
    deferred.delete(trx)
  }
}

async function writeStats(db: Db, increments: ReadonlyArray<StatIncrement & { storeId: string }>): Promise<void> {
  if (increments.length === 0) return
  const zones = new Map<string, string>()
  const rows = new Map<string, { store_id: string; workflow_id: string; step_id: string; day: string; counts: Map<StatCounter, bigint> }>()
  for (const inc of increments) {
    let zone = zones.get(inc.storeId)
    if (zone === undefined) {
      zone = await storeZone(db, inc.storeId)
      zones.set(inc.storeId, zone)
    }
    const day = localDay(inc.at, zone)
    const key = `${inc.storeId}\u0000${inc.workflowId}\u0000${inc.stepId}\u0000${day}`
    let row = rows.get(key)
    if (!row) {
      row = { store_id: inc.storeId, workflow_id: inc.workflowId, step_id: inc.stepId, day, counts: new Map() }
      rows.set(key, row)
    }
    for (const [counter, n] of Object.entries(inc.counts) as Array<[StatCounter, number | bigint]>) {
      row.counts.set(counter, (row.counts.get(counter) ?? 0n) + BigInt(n))
    }
  }
  // one statement for up to STATS_ROWS rows, in the order of their keys (PostgreSQL takes the rows'
  // locks in that order); each row lists every counter of the statement, 0 where it has none of it
  const ordered = [...rows.keys()].sort().map((key) => rows.get(key)!)
  const counters = [...new Set(ordered.flatMap((row) => [...row.counts].filter(([, n]) => n !== 0n).map(([c]) => c)))]
  if (counters.length === 0) return
  const values = ordered
    .filter((row) => counters.some((c) => (row.counts.get(c) ?? 0n) !== 0n))
    .map((row) => {
      const v: Record<string, unknown> = { store_id: row.store_id, workflow_id: row.workflow_id, step_id: row.step_id, day: row.day }
      // as numbers: exact up to 2^53 millionths (9 billion in a currency's units per row and day)
      for (const c of counters) v[c] = Number(row.counts.get(c) ?? 0n)
      return v
    })
  for (let i = 0; i < values.length; i += STATS_ROWS)
    await db
      .insertInto('workflow_stats_daily')
      .values(values.slice(i, i + STATS_ROWS) as never)
      .onConflict((oc) =>
        oc
          .columns(['store_id', 'workflow_id', 'step_id', 'day'])
          .doUpdateSet((eb) => Object.fromEntries(counters.map((c) => [c, eb(eb.ref(`workflow_stats_daily.${c}`), '+', eb.ref(`excluded.${c}`))])) as never),
      )
      .execute()
}

/** Counter rows per statement: well under SQLite's and PostgreSQL's limits on bound values with every counter listed. */
const STATS_ROWS = 500

/** The same counts for a step of a workflow and for the workflow as a whole. */
export function stepAndWorkflow(workflowId: string, stepId: string, at: string, counts: StatIncrement['counts']): StatIncrement[] {
  return stepId === ''
    ? [{ workflowId, stepId: '', at, counts }]
    : [
        { workflowId, stepId, at, counts },
        { workflowId, stepId: '', at, counts },
      ]
}

/** A message's step id from its step key (engine/step-kit.ts stepKey: the id, then `#` and the loop indexes). */
export function stepIdOfKey(stepKey: string | null): string {
  if (!stepKey) return ''
  const hash = stepKey.indexOf('#')
  return hash < 0 ? stepKey : stepKey.slice(0, hash)
}

const RUN_END_COUNTER: Record<string, StatCounter | undefined> = { completed: 'runs_completed', exited: 'runs_exited', failed: 'runs_failed' }

interface RunCounted {
  store_id: string
  workflow_id: string
  status: string
  started_at: string
  ended_at: string | null
}

/** Runs inserted (store/storage.ts insertRuns): started, and those that end at once (the holdout) ended. */
export async function countRunsStarted(db: Db, runs: readonly RunCounted[]): Promise<void> {
  const byStore = new Map<string, StatIncrement[]>()
  for (const run of runs) {
    const list = byStore.get(run.store_id) ?? []
    list.push({ workflowId: run.workflow_id, stepId: '', at: run.started_at, counts: { runs_started: 1 } })
    const ended = RUN_END_COUNTER[run.status]
    if (ended && run.ended_at) list.push({ workflowId: run.workflow_id, stepId: '', at: run.ended_at, counts: { [ended]: 1 } })
    byStore.set(run.store_id, list)
  }
  for (const [storeId, list] of byStore) await addWorkflowStats(db, storeId, list)
}

/**
 * A run that ended (engine/run-lifecycle.ts), in the transaction of its ending write; `undo`: a
 * failed run retried is no longer failed, so its failure is taken back from the day it failed.
 */
export async function countRunEnded(db: Db, run: RunCounted, undo = false): Promise<void> {
  const counter = RUN_END_COUNTER[run.status]
  if (!counter) return
  await addWorkflowStats(db, run.store_id, [
    { workflowId: run.workflow_id, stepId: '', at: run.ended_at ?? run.started_at, counts: { [counter]: undo ? -1 : 1 } },
  ])
}

function localDay(at: string, zone: string): string {
  const p = localParts(new Date(at), zone)
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`
}

async function storeZone(db: Db, storeId: string): Promise<string> {
  const row = await storeRowInTx(db, storeId)
  return row?.timezone || 'UTC'
}
