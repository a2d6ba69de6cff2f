import type { Kysely } from 'kysely'
import type { CanonicalEvent } from '../contracts/events.ts'
import type { Database } from './tables.ts'

/**
 * What `storeflow backtest` reads from the store it replays (read only) and writes into its
 * sandbox (an in-memory database of its own). Nothing here writes to the store being replayed.
 */

/** One stored event as the backtest plans its replay: light, so a year of a store fits in memory. */
export interface EventHead {
  seq: number
  type: string
  occurred_at: string
  /** the real store's customer key (set by its router), or null */
  customer_key: string | null
}

/**
 * The heads of the store's events that occurred before `until`, in time order (occurred_at, then
 * the order they were accepted in). Read in pages by seq, the primary key: no index on
 * occurred_at is needed, and the sort is done here.
 */
export async function eventHeadsBefore(db: Kysely<Database>, storeId: string, until: string, page = 20_000): Promise<EventHead[]> {
  const out: EventHead[] = []
  let after = -1
  for (;;) {
    const rows = await db
      .selectFrom('events')
      .select(['seq', 'type', 'occurred_at', 'customer_key'])
      .where('store_id', '=', storeId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(page)
      .execute()
    for (const r of rows) {
      if (r.occurred_at < until) out.push({ seq: Number(r.seq), type: r.type, occurred_at: r.occurred_at, customer_key: r.customer_key })
    }
    if (rows.length < page) break
    after = Number(rows[rows.length - 1]!.seq)
  }
  out.sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : a.seq - b.seq))
  return out
}

/**
 * A stored event as the backtest reads it: its data still the stored JSON text, so it crosses to
 * a sandbox's thread as one string and is parsed there (eventOf).
 */
export interface StoredEvent {
  id: string
  type: string
  occurred_at: string
  data: string
}

/** The canonical event of a stored one, as of store `asStore`. */
export function eventOf(stored: StoredEvent, asStore: string): CanonicalEvent {
  return { id: stored.id, type: stored.type, occurred_at: stored.occurred_at, store: asStore, data: JSON.parse(stored.data) as Record<string, unknown> }
}

/** The store's events with these seqs, in the order of `seqs`; null for one no longer stored. */
export async function eventsBySeq(db: Kysely<Database>, storeId: string, seqs: number[]): Promise<Array<StoredEvent | null>> {
  const bySeq = new Map<number, StoredEvent>()
  for (let i = 0; i < seqs.length; i += 900) {
    const chunk = seqs.slice(i, i + 900)
    // by seq alone (the table's key): with `store_id = ?` beside it SQLite's planner walked the
    // store's whole range of the log index for every chunk; the store is checked on each row instead
    const rows = await db.selectFrom('events').select(['seq', 'store_id', 'id', 'type', 'occurred_at', 'data']).where('seq', 'in', chunk).execute()
    for (const r of rows) if (r.store_id === storeId) bySeq.set(Number(r.seq), { id: r.id, type: r.type, occurred_at: r.occurred_at, data: r.data })
  }
  return seqs.map((s) => bySeq.get(s) ?? null)
}

/** Who the store's customers are (not what they did): the keys the sandbox gives them too. */
export interface CustomerIdentity {
  key: string
  external_id: string | null
  email: string | null
  phone: string | null
  created_at: string
}

export async function customerIdentities(db: Kysely<Database>, storeId: string): Promise<CustomerIdentity[]> {
  return db.selectFrom('customers').select(['key', 'external_id', 'email', 'phone', 'created_at']).where('store_id', '=', storeId).execute()
}

/**
 * Writes the customers into the sandbox by identity only (key, shop id, email), with an empty
 * profile: the events replayed fill it in, in time order. So each customer has the key the store
 * gave them, and with it the same holdout group and the same frequency-cap history.
 */
export async function seedCustomerIdentities(sandbox: Kysely<Database>, storeId: string, customers: CustomerIdentity[], at: string): Promise<void> {
  for (let i = 0; i < customers.length; i += 500) {
    const chunk = customers.slice(i, i + 500)
    await sandbox
      .insertInto('customers')
      .values(
        chunk.map((c) => ({
          key: c.key,
          store_id: storeId,
          external_id: c.external_id,
          email: c.email,
          phone: c.phone,
          first_name: null,
          last_name: null,
          accepts_marketing: 0,
          unsubscribed_at: null,
          consent_at: null,
          shop_accepts_marketing: null,
          shop_accepts_marketing_at: null,
          birthday: null,
          timezone: null,
          tags: '[]',
          orders_count: 0,
          total_spent: '0.00',
          last_order_at: null,
          attributes: '{}',
          profile_at: null,
          created_at: c.created_at < at ? c.created_at : at,
          updated_at: at,
        })),
      )
      .execute()
  }
}

/** The real marketing messages the store sent in [from, until), of workflows other than `workflowId`: the frequency cap's history. */
export async function marketingSends(
  db: Kysely<Database>,
  storeId: string,
  workflowId: string,
  from: string,
  until: string,
): Promise<Array<{ customer_key: string; sent_at: string }>> {
  const rows = await db
    .selectFrom('messages')
    .select(['customer_key', 'sent_at', 'workflow_id'])
    .where('store_id', '=', storeId)
    .where('category', '=', 'marketing')
    .where('status', '=', 'sent')
    .where('sent_at', '>=', from)
    .where('sent_at', '<', until)
    .where('customer_key', 'is not', null)
    .execute()
  return rows
    .filter((r) => r.workflow_id !== workflowId && r.customer_key !== null && r.sent_at !== null)
    .map((r) => ({ customer_key: r.customer_key!, sent_at: r.sent_at! }))
}

/** The sandbox's earliest time a run of the store is due (null: none is). */
export async function nextDueAt(sandbox: Kysely<Database>): Promise<string | null> {
  const row = await sandbox
    .selectFrom('runs')
    .select((eb) => eb.fn.min('due_at').as('due'))
    .where('due_at', 'is not', null)
    .where('ended_at', 'is', null)
    .executeTakeFirst()
  return row?.due ? String(row.due) : null
}

/** Whether a run is due by `at` in the sandbox (what a tick would claim, leases aside). */
export async function anyRunDueBy(sandbox: Kysely<Database>, at: string): Promise<boolean> {
  const row = await sandbox.selectFrom('runs').select('id').where('due_at', 'is not', null).where('due_at', '<=', at).limit(1).executeTakeFirst()
  return row !== undefined
}

/** Whether the sandbox's store has a run of the workflow that has not ended, of the customer or of no customer. */
export async function hasOpenRun(sandbox: Kysely<Database>, storeId: string, workflowId: string, customerKey: string): Promise<boolean> {
  // the customer's runs and the runs of no customer, each read from the customer index (an `or` of
  // the two would read every run of the workflow)
  const open = (customer: string | null) =>
    sandbox
      .selectFrom('runs')
      .select('id')
      .where('store_id', '=', storeId)
      .where('customer_key', customer === null ? 'is' : '=', customer)
      .where('workflow_id', '=', workflowId)
      .where('ended_at', 'is', null)
  const row = await open(customerKey).unionAll(open(null)).limit(1).executeTakeFirst()
  return row !== undefined
}

export interface SandboxRun {
  id: string
  status: string
  holdout: boolean
  customer_key: string | null
  started_at: string
}

export interface SandboxStep {
  run_id: string
  step_id: string
  type: string
  status: string
  output: string | null
  ended_at: string | null
  started_at: string
}

/** What the sandbox's runs of the workflow did: runs and their action steps. */
export async function sandboxOutcome(sandbox: Kysely<Database>, workflowId: string): Promise<{ runs: SandboxRun[]; steps: SandboxStep[] }> {
  const runs = await sandbox
    .selectFrom('runs')
    .select(['id', 'status', 'holdout', 'customer_key', 'started_at'])
    .where('workflow_id', '=', workflowId)
    .execute()
  const steps = await sandbox
    .selectFrom('run_steps')
    .innerJoin('runs', 'runs.id', 'run_steps.run_id')
    .select(['run_steps.run_id', 'run_steps.step_id', 'run_steps.type', 'run_steps.status', 'run_steps.output', 'run_steps.ended_at', 'run_steps.started_at'])
    .where('runs.workflow_id', '=', workflowId)
    .where('run_steps.type', 'not in', ['if', 'wait', 'wait_for', 'split', 'for_each', 'exit'])
    .execute()
  return { runs: runs.map((r) => ({ ...r, holdout: Number(r.holdout) === 1 })), steps }
}

/** The customers the sandbox's router found for the events it routed (each key once). */
export async function customersOfEvents(sandbox: Kysely<Database>): Promise<string[]> {
  const rows = await sandbox.selectFrom('events').select('customer_key').distinct().where('customer_key', 'is not', null).execute()
  return rows.map((r) => r.customer_key!)
}

/** The ids of the sandbox's events its router found to be of these customers. */
export async function eventIdsOfCustomers(sandbox: Kysely<Database>, customerKeys: string[]): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < customerKeys.length; i += 500) {
    const rows = await sandbox
      .selectFrom('events')
      .select('id')
      .where('customer_key', 'in', customerKeys.slice(i, i + 500))
      .execute()
    for (const r of rows) out.push(r.id)
  }
  return out
}

/** How many of the sandbox's runs of the workflow have no customer. */
export async function runsWithoutCustomer(sandbox: Kysely<Database>, workflowId: string): Promise<number> {
  const row = await sandbox
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workflow_id', '=', workflowId)
    .where('customer_key', 'is', null)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}
