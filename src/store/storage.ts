import { createRemoteServices } from './remote-services.ts'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { CanonicalEvent } from '../contracts/events.ts'
import { segmentEventOf } from '../core/segments.ts'
import { newId } from '../lib/ids.ts'
import type { Clock } from '../lib/clock.ts'
import type { OutboundClient } from '../lib/guarded-request.ts'
import type {
  CorrelationRecord,
  RunRecord,
  Storage,
  StorageTx,
  StepRecord,
  StoredEvent,
  StoreRecord,
  WorkflowHead,
  WorkflowVersionRecord,
} from '../engine/ports.ts'
import { ACTIVE_RUN_STATUSES } from '../engine/run-status.ts'
import type { ActionServices, InvoiceRequest, OutboxMessage, StoredMessage } from '../plugin-api/services.ts'
import type { DatabaseHandle } from './db.ts'
import {
  advanceRouter,
  appendEvents,
  isRouted,
  lockRouter,
  logHead,
  pendingRouterStores,
  readLog,
  releaseRouterLeases,
  routerBacklog,
  takeRouterLease,
} from './event-log.repo.ts'
import { derivedViewReads } from './derived-view.repo.ts'
import { createInvoice } from './invoices.repo.ts'
import { createDiscountServices } from './discounts.repo.ts'
import { createLoyaltyServices } from './loyalty.repo.ts'
import { recomputeMarketingSinceOrder } from './engagement.ts'
import { createOrderServices } from './order-services.ts'
import { createPurchasingServices } from './purchasing.repo.ts'
import { applyToView } from './projection.ts'
import { compareAtView, createCatalogueServices, isChannelEcho } from './channel-sync.ts'
import { claimDueRuns, extendLeases, releaseLease } from './runs.repo.ts'
import { beatWorker, stopWorker } from './workers.repo.ts'
import { customerViews, deleteCorrelationsOf, eventsBySeq, orderViews, updateRuns, upsertSteps } from './runs-bulk.ts'
import { advanceSchedule, deleteSchedule, listSchedules, putSchedule, scheduledWorkflows, storeTimeZones } from './schedules.repo.ts'
import { refreshSegments, sweepSegments } from './segments.repo.ts'
import { createInventoryServices, refreshInventory } from './inventory.repo.ts'
import { recommendationsFor } from './recommendations.repo.ts'
import { loadMessageTemplate } from './templates.repo.ts'
import { updateMessage } from './outbox.repo.ts'
import { countRunEnded, countRunsStarted, withDeferredStats, withoutStats } from './workflow-stats.repo.ts'
import { addWorkflowEntries, recordSplitVariants } from './workflow-entries.repo.ts'
import type { Database, EventsTable, MessagesTable, RunsTable } from './tables.ts'
import { cartView, customerView, orderView } from './views.ts'

type Db = Kysely<Database> | Transaction<Database>

/** Runs per insert statement: 20 parameters each, under SQLite's and PostgreSQL's limits. */
const RUN_INSERT_CHUNK = 500

export type ServicesConfig = ActionServices['config']

/** The engine's ports over Kysely, for SQLite and PostgreSQL alike. */
/**
 * `analytics: false` (a backtest's sandbox, ViewSkips.analytics): the workflows' daily counters
 * and insight cohorts are not kept; nothing in the engine reads them, only the analytics reports.
 */
export function createStorage(
  handle: DatabaseHandle,
  config: ServicesConfig,
  clock: Clock,
  http: OutboundClient,
  options: { analytics?: boolean } = {},
): Storage {
  const { db, dialect } = handle
  const analytics = options.analytics ?? true
  const counted = analytics ? withDeferredStats : withoutStats
  return {
    dialect,
    transaction: (fn) => db.transaction().execute((trx) => counted(trx, () => fn(createTx(trx, config, dialect, clock, http, analytics)))),
    pendingRouterStores: (owner, now, limit, after) => pendingRouterStores(db, dialect, owner, now, limit, after),
    takeRouterLease: (storeId, owner, now, until) => takeRouterLease(db, storeId, owner, now, until),
    releaseRouterLeases: (owner) => releaseRouterLeases(db, owner),
    routerBacklog: () => routerBacklog(db),
    isRouted: (storeId, seq) => isRouted(db, storeId, seq),
    logHead: (storeId) => logHead(db, storeId),
    // leases and their lock order: store/runs.repo.ts
    claimDueRuns: async (owner, now, leaseMs, limit) => (await claimDueRuns(db, dialect, owner, now, leaseMs, limit)).map(toRun),
    extendLeases: (owner, runIds, until) => extendLeases(db, dialect, owner, runIds, until),
    releaseLease: (runId, owner) => releaseLease(db, runId, owner),
    beatWorker: (beat) => beatWorker(db, beat),
    stopWorker: (id, at) => stopWorker(db, id, at),
    services: (storeId, emit) => createServices(db, storeId, emit, config, dialect, clock, http),
  }
}

function createTx(
  trx: Transaction<Database>,
  config: ServicesConfig,
  dialect: 'sqlite' | 'postgres',
  clock: Clock,
  http: OutboundClient,
  analytics: boolean,
): StorageTx {
  return {
    appendEvents: (items) => appendEvents(trx, items),
    lockRouter: (storeId, owner) => lockRouter(trx, dialect, storeId, owner),
    async readLog(storeId, position, limit) {
      const rows = await readLog(trx, dialect, storeId, position, limit)
      return rows.map((row) => ({ event: toEvent(row), source: row.source, position: { tx: Number(row.tx_id), seq: Number(row.seq) } }))
    },
    advanceRouter: (storeId, position, leaseUntil) => advanceRouter(trx, storeId, position, leaseUntil),
    applyToView: (event, _seq, skip) => applyToView(trx, event, skip),
    isChannelEcho: (event, now) => isChannelEcho(trx, event, now),
    async setEventCustomer(seq, customerKey) {
      if (customerKey) await sql`update events set customer_key = ${customerKey} where seq = ${seq}`.execute(trx)
    },
    async getEvent(seq) {
      const { rows } = await sql<Selectable<EventsTable>>`select * from events where seq = ${seq}`.execute(trx)
      return rows[0] ? toEvent(rows[0]) : null
    },
    async findEventsAfter(storeId, type, customerKey, afterSeq, limit) {
      let q = trx
        .selectFrom('events')
        .selectAll()
        .where('store_id', '=', storeId)
        .where('type', '=', type)
        .where('seq', '>', afterSeq)
        .where('historical', '=', 0)
      if (customerKey) q = q.where('customer_key', '=', customerKey)
      return (await q.orderBy('seq').limit(limit).execute()).map(toEvent)
    },
    getStore: (storeId) => getStore(trx, storeId),
    async customerView(customerKey) {
      const row = await trx.selectFrom('customers').selectAll().where('key', '=', customerKey).executeTakeFirst()
      return row ? customerView(row) : null
    },
    async orderView(storeId, orderId) {
      const row = await trx.selectFrom('orders').selectAll().where('store_id', '=', storeId).where('id', '=', orderId).executeTakeFirst()
      return row ? orderView(row) : null
    },
    async cartView(storeId, cartId) {
      const row = await trx.selectFrom('carts').selectAll().where('store_id', '=', storeId).where('id', '=', cartId).executeTakeFirst()
      return row ? cartView(row) : null
    },
    async productView(storeId, productId) {
      const row = await trx.selectFrom('products').selectAll().where('store_id', '=', storeId).where('id', '=', productId).executeTakeFirst()
      if (!row) return null
      const variants = await trx.selectFrom('variants').selectAll().where('store_id', '=', storeId).where('product_id', '=', productId).execute()
      return {
        ...(JSON.parse(row.data) as object),
        id: row.id,
        title: row.title,
        status: row.status,
        variants: variants.map((v) => ({ id: v.id, sku: v.sku, price: Number(v.price), inventory_quantity: v.inventory_quantity, ...compareAtView(v) })),
      }
    },
    async activeWorkflows(storeId, triggerType): Promise<WorkflowHead[]> {
      return trx
        .selectFrom('workflows')
        .select(['id', 'version'])
        .where('store_id', '=', storeId)
        .where('trigger_type', '=', triggerType)
        .where('active', '=', 1)
        .execute()
    },
    async getWorkflowVersion(storeId, workflowId, version): Promise<WorkflowVersionRecord | null> {
      const row = await trx
        .selectFrom('workflow_versions')
        .selectAll()
        .where('store_id', '=', storeId)
        .where('workflow_id', '=', workflowId)
        .where('version', '=', version)
        .executeTakeFirst()
      return row
        ? { store_id: row.store_id, workflow_id: row.workflow_id, version: row.version, source: row.source, definition: JSON.parse(row.definition) }
        : null
    },
    async activeRunWorkflows(storeId, customerKey) {
      const { rows } = await sql<{
        workflow_id: string
      }>`select distinct workflow_id from runs where store_id = ${storeId} and customer_key = ${customerKey} and status in (${sql.join([...ACTIVE_RUN_STATUSES])})`.execute(
        trx,
      )
      return new Set(rows.map((r) => r.workflow_id))
    },
    async activeRunsOfCustomer(storeId, customerKey) {
      const rows = await trx
        .selectFrom('runs')
        .selectAll()
        .where('store_id', '=', storeId)
        .where('customer_key', '=', customerKey)
        .where('status', 'in', [...ACTIVE_RUN_STATUSES])
        .execute()
      return rows.map(toRun)
    },
    async lastRunStartedAt(storeId, workflowId, customerKey) {
      const row = await trx
        .selectFrom('runs')
        .select('started_at')
        .where('store_id', '=', storeId)
        .where('customer_key', '=', customerKey)
        .where('workflow_id', '=', workflowId)
        .orderBy('started_at', 'desc')
        .limit(1)
        .executeTakeFirst()
      return row?.started_at ?? null
    },
    async insertRuns(runs) {
      // a routed batch's runs: plain multi-row SQL, chunked under the bound-parameter limits
      for (let i = 0; i < runs.length; i += RUN_INSERT_CHUNK) {
        const rows = runs.slice(i, i + RUN_INSERT_CHUNK).map((run) => {
          const r = fromRun(run)
          return sql`(${r.id}, ${r.store_id}, ${r.workflow_id}, ${r.workflow_version}, ${r.status}, ${r.trigger_event_seq}, ${r.trigger_event_id},
            ${r.customer_key}, ${r.customer_id}, ${r.customer_email}, ${r.holdout}, ${r.state}, ${r.due_at}, ${r.signal_event_seq}, ${r.lease_owner},
            ${null}, ${r.version}, ${r.started_at}, ${r.ended_at}, ${r.updated_at})`
        })
        await sql`
          insert into runs (id, store_id, workflow_id, workflow_version, status, trigger_event_seq, trigger_event_id, customer_key, customer_id,
            customer_email, holdout, state, due_at, signal_event_seq, lease_owner, lease_until, version, started_at, ended_at, updated_at)
          values ${sql.join(rows)}`.execute(trx)
      }
      if (!analytics) return
      await countRunsStarted(trx, runs)
      await addWorkflowEntries(trx, runs)
    },
    // getRun, updateRun and upsertStep run for every step of every run: plain SQL here spares
    // the query builder's per-call work on the engine's hottest path
    async getRun(runId) {
      const { rows } = await sql<Selectable<RunsTable>>`select * from runs where id = ${runId}`.execute(trx)
      return rows[0] ? toRun(rows[0]) : null
    },
    async updateRun(run, expectedVersion) {
      // only what a run's progress changes; letting go of a run (no owner) frees its lease at once
      const lease = run.lease_owner ? sql`` : sql`lease_until = null,`
      const result = await sql`
        update runs set status = ${run.status}, state = ${JSON.stringify(run.state)}, due_at = ${run.due_at},
          signal_event_seq = ${run.signal_event_seq}, lease_owner = ${run.lease_owner}, ${lease}
          version = ${expectedVersion + 1}, ended_at = ${run.ended_at}, updated_at = ${clock.now().toISOString()}
        where id = ${run.id} and version = ${expectedVersion}`.execute(trx)
      return Number(result.numAffectedRows ?? 0) === 1
    },
    async upsertStep(step: StepRecord) {
      const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v))
      // started_at is kept from the first write: a step's timeline spans all its attempts
      await sql`
        insert into run_steps (run_id, store_id, step_key, seq, step_id, type, status, attempts, input, output, error, started_at, ended_at, wake_at)
        values (${step.run_id}, ${step.store_id}, ${step.step_key}, ${step.seq}, ${step.step_id}, ${step.type}, ${step.status}, ${step.attempts},
          ${json(step.input)}, ${json(step.output)}, ${step.error ?? null}, ${step.started_at}, ${step.ended_at ?? null}, ${step.wake_at ?? null})
        on conflict (run_id, step_key) do update set seq = excluded.seq, step_id = excluded.step_id, type = excluded.type,
          status = excluded.status, attempts = excluded.attempts, input = excluded.input, output = excluded.output,
          error = excluded.error, ended_at = excluded.ended_at, wake_at = excluded.wake_at`.execute(trx)
      if (analytics && step.type === 'split') await recordSplitVariants(trx, [step])
    },
    countRunEnded: (run, undo) => countRunEnded(trx, run, undo),
    async addCorrelations(storeId, runId, items) {
      if (items.length === 0) return
      await trx
        .insertInto('correlations')
        .values(items.map((i) => ({ store_id: storeId, run_id: runId, event_type: i.eventType, corr_key: i.key, purpose: i.purpose, ref: i.ref })))
        .execute()
    },
    async findCorrelations(storeId, eventType, keys): Promise<CorrelationRecord[]> {
      const byKey = keys === null ? sql`` : sql`and corr_key in (${sql.join(keys)})`
      const { rows } = await sql<{ run_id: string; purpose: string; ref: number }>`
        select run_id, purpose, ref from correlations where store_id = ${storeId} and event_type = ${eventType} ${byKey}`.execute(trx)
      return rows.map((r) => ({ run_id: r.run_id, purpose: r.purpose as CorrelationRecord['purpose'], ref: r.ref }))
    },
    async deleteCorrelations(runId, purpose) {
      let q = trx.deleteFrom('correlations').where('run_id', '=', runId)
      if (purpose) q = q.where('purpose', '=', purpose)
      await q.execute()
    },
    services: (storeId, emit) => createServices(trx, storeId, emit, config, dialect, clock, http),
    refreshSegments: (storeId, customerKey, now) => refreshSegments(trx, storeId, customerKey, now),
    sweepSegments: (storeId, now) => sweepSegments(trx, storeId, now),
    refreshInventory: (storeId, skus, now, historical) => refreshInventory(trx, dialect, storeId, skus, now, historical),
    scheduledWorkflows: (triggerType) => scheduledWorkflows(trx, triggerType),
    storeTimeZones: () => storeTimeZones(trx),
    derivedView: (storeId) => derivedViewReads(trx, storeId),
    listSchedules: () => listSchedules(trx),
    putSchedule: (schedule, now) => putSchedule(trx, schedule, now),
    deleteSchedule: (storeId, key, triggerType) => deleteSchedule(trx, storeId, key, triggerType),
    advanceSchedule: (storeId, key, expected, next, firedAt, now) => advanceSchedule(trx, storeId, key, expected, next, firedAt, now),
    // a claimed batch's writes, set-based: store/runs-bulk.ts
    updateRuns: (writes) => updateRuns(trx, dialect, writes, clock.now().toISOString()),
    upsertSteps: async (steps) => {
      await upsertSteps(trx, dialect, steps)
      if (analytics) await recordSplitVariants(trx, steps)
    },
    deleteCorrelationsOf: (runIds, purpose) => deleteCorrelationsOf(trx, dialect, runIds, purpose),
    getEvents: async (seqs) => (await eventsBySeq(trx, dialect, seqs)).map(toEvent),
    customerViews: (keys) => customerViews(trx, dialect, keys),
    orderViews: (storeId, ids) => orderViews(trx, dialect, storeId, ids),
  }
}

export async function getStore(db: Db, storeId: string): Promise<StoreRecord | null> {
  const row = await db.selectFrom('stores').selectAll().where('id', '=', storeId).executeTakeFirst()
  return row
    ? { id: row.id, name: row.name, currency: row.currency, timezone: row.timezone, settings: JSON.parse(row.settings) as Record<string, unknown> }
    : null
}

function createServices(
  db: Db,
  storeId: string,
  emit: ActionServices['events']['emit'],
  config: ServicesConfig,
  dialect: 'sqlite' | 'postgres',
  clock: Clock,
  http: OutboundClient,
): ActionServices {
  const changeTags = async (customerKey: string, tags: string[], add: boolean) => {
    const row = await db.selectFrom('customers').select('tags').where('store_id', '=', storeId).where('key', '=', customerKey).executeTakeFirstOrThrow()
    const current = JSON.parse(row.tags) as string[]
    const next = add ? [...new Set([...current, ...tags])] : current.filter((t) => !tags.includes(t))
    await db
      .updateTable('customers')
      .set({ tags: JSON.stringify(next) })
      .where('store_id', '=', storeId)
      .where('key', '=', customerKey)
      .execute()
    const changed = add ? tags.filter((t) => !current.includes(t)) : tags.filter((t) => current.includes(t))
    // tags are the profile: segments reading them follow at once, each change one event (core/segments.ts)
    if (changed.length > 0) {
      const now = clock.now()
      for (const change of await refreshSegments(db, storeId, customerKey, now)) await emit({ ...segmentEventOf(change), occurred_at: now.toISOString() })
    }
    return changed
  }
  return {
    templates: { load: (store, name) => loadMessageTemplate(db, store, name) },
    invoices: {
      async create(request) {
        const { invoice, created } = await createInvoice(db, { ...request, storeId })
        const lines = JSON.parse(invoice.lines) as InvoiceRequest['lines']
        return { invoice: { ...invoice, lines }, created }
      },
    },
    customers: {
      addTags: (key, tags) => changeTags(key, tags, true),
      removeTags: (key, tags) => changeTags(key, tags, false),
    },
    orders: createOrderServices(db, storeId, config.secretKey),
    remote: createRemoteServices(db, storeId, config.secretKey, () => clock.now()),
    catalogue: createCatalogueServices(db, storeId, config.secretKey),
    messages: {
      async record(message: OutboxMessage) {
        // the engine's clock, like sent_at: outbox times stay consistent under a test's virtual time
        const now = clock.now().toISOString()
        const inserted = await db
          .insertInto('messages')
          .values({
            id: newId('msg_'),
            store_id: storeId,
            idempotency_key: message.idempotencyKey,
            run_id: message.runId,
            step_key: message.stepKey,
            workflow_id: message.workflowId,
            customer_key: message.customerKey,
            channel: message.channel,
            category: message.category,
            to_addr: message.to,
            from_addr: message.from ?? null,
            subject: message.subject ?? null,
            html: message.html ?? null,
            text: message.text ?? null,
            headers: JSON.stringify(message.headers ?? {}),
            status: message.status,
            error: message.error ?? null,
            message_id: message.messageId ?? null,
            handovers: message.handovers ?? 0,
            opens: 0,
            clicks: 0,
            created_at: now,
            sent_at: message.status === 'sent' ? now : null,
          })
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .returningAll()
          .executeTakeFirst()
        if (inserted) {
          if (inserted.status === 'sent' && inserted.customer_key) await recomputeMarketingSinceOrder(db, storeId, inserted.customer_key)
          return { message: toMessage(inserted), created: true }
        }
        const existing = await db
          .selectFrom('messages')
          .selectAll()
          .where('store_id', '=', storeId)
          .where('idempotency_key', '=', message.idempotencyKey)
          .executeTakeFirstOrThrow()
        return { message: toMessage(existing), created: false }
      },
      async update(id, patch) {
        const values: Record<string, unknown> = {}
        if (patch.status) values.status = patch.status
        if (patch.error !== undefined) values.error = patch.error
        if (patch.messageId !== undefined) values.message_id = patch.messageId
        if (patch.sentAt) values.sent_at = patch.sentAt
        if (patch.handovers !== undefined) values.handovers = patch.handovers
        if (patch.handoversCut !== undefined) values.handovers_cut = patch.handoversCut
        const written = Object.keys(values).length > 0 ? await updateMessage(db, storeId, id, values, clock.now().toISOString()) : null
        // only marketing mail counts, and only a changed status or sent time changes the count
        if (written?.category === 'marketing' && written.customer_key) await recomputeMarketingSinceOrder(db, storeId, written.customer_key)
      },
      async reserveMarketingSlot(messageId, customerKey, _channel, since, now) {
        const reserve = async (t: Db): Promise<boolean> => {
          // PostgreSQL: the customer's row serialises concurrent reservations (READ COMMITTED
          // would let two transactions each see no other message); SQLite has one writer anyway
          if (dialect === 'postgres') await sql`select key from customers where store_id = ${storeId} and key = ${customerKey} for update`.execute(t)
          const other = await t
            .selectFrom('messages')
            .select('id')
            .where('store_id', '=', storeId)
            .where('customer_key', '=', customerKey)
            .where('category', '=', 'marketing')
            // a reservation is a queued row with sent_at set; sending and sent rows hold the slot too
            .where('status', 'in', ['queued', 'sending', 'sent'])
            .where('sent_at', '>', since.toISOString())
            .where('id', '!=', messageId)
            .limit(1)
            .executeTakeFirst()
          if (other) return false
          // the status stays `queued`: `sending` means "handed to SMTP, outcome unknown", and a
          // crash right after reserving must not make the retry skip its guardrails as a duplicate
          await t.updateTable('messages').set({ sent_at: now.toISOString() }).where('store_id', '=', storeId).where('id', '=', messageId).execute()
          return true
        }
        return db.isTransaction ? reserve(db) : (db as Kysely<Database>).transaction().execute(reserve)
      },
      async lastMarketingSentAt(customerKey, _channel) {
        const row = await db
          .selectFrom('messages')
          .select('sent_at')
          .where('store_id', '=', storeId)
          .where('customer_key', '=', customerKey)
          .where('category', '=', 'marketing')
          .where('status', '=', 'sent')
          .where('sent_at', 'is not', null)
          .orderBy('sent_at', 'desc')
          .limit(1)
          .executeTakeFirst()
        return row?.sent_at ? new Date(row.sent_at) : null
      },
    },
    discounts: createDiscountServices(db, storeId, dialect, clock),
    loyalty: createLoyaltyServices(db, storeId, dialect, clock),
    purchasing: createPurchasingServices(db, storeId, () => clock.now()),
    inventory: createInventoryServices(db, storeId, dialect, clock, emit),
    recommendations: { forCustomer: (key, limit) => recommendationsFor(db, storeId, key, limit, clock.now()) },
    events: { emit },
    http,
    config,
  }
}

export function toMessage(row: Selectable<MessagesTable>): StoredMessage {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    runId: row.run_id,
    stepKey: row.step_key,
    workflowId: row.workflow_id,
    customerKey: row.customer_key,
    channel: row.channel as StoredMessage['channel'],
    category: row.category as StoredMessage['category'],
    to: row.to_addr,
    from: row.from_addr,
    subject: row.subject,
    html: row.html,
    text: row.text,
    headers: JSON.parse(row.headers) as Record<string, string>,
    status: row.status as StoredMessage['status'],
    error: row.error,
    messageId: row.message_id,
    handovers: Number(row.handovers ?? 0),
    handoversCut: Number(row.handovers_cut ?? 0),
    createdAt: row.created_at,
    sentAt: row.sent_at,
  }
}

export function toEvent(row: Selectable<EventsTable>): StoredEvent {
  return {
    seq: Number(row.seq),
    id: row.id,
    type: row.type,
    occurred_at: row.occurred_at,
    received_at: row.received_at,
    store: row.store_id,
    customer_key: row.customer_key,
    historical: row.historical === 1,
    data: JSON.parse(row.data) as Record<string, unknown>,
  }
}

export function toRun(row: Selectable<RunsTable>): RunRecord {
  return {
    id: row.id,
    store_id: row.store_id,
    workflow_id: row.workflow_id,
    workflow_version: row.workflow_version,
    status: row.status as RunRecord['status'],
    trigger_event_seq: Number(row.trigger_event_seq),
    trigger_event_id: row.trigger_event_id,
    customer_key: row.customer_key,
    customer_id: row.customer_id,
    customer_email: row.customer_email,
    holdout: row.holdout === 1,
    state: JSON.parse(row.state) as RunRecord['state'],
    due_at: row.due_at,
    signal_event_seq: row.signal_event_seq === null ? null : Number(row.signal_event_seq),
    lease_owner: row.lease_owner,
    version: row.version,
    started_at: row.started_at,
    ended_at: row.ended_at,
  }
}

/** A run as a row. lease_until is left out: only claimDueRuns sets it, and clearing the owner frees it. */
function fromRun(run: RunRecord): Omit<Selectable<RunsTable>, 'lease_until'> {
  return {
    id: run.id,
    store_id: run.store_id,
    workflow_id: run.workflow_id,
    workflow_version: run.workflow_version,
    status: run.status,
    trigger_event_seq: run.trigger_event_seq,
    trigger_event_id: run.trigger_event_id,
    customer_key: run.customer_key,
    customer_id: run.customer_id,
    customer_email: run.customer_email,
    holdout: run.holdout ? 1 : 0,
    state: JSON.stringify(run.state),
    due_at: run.due_at,
    signal_event_seq: run.signal_event_seq,
    lease_owner: run.lease_owner,
    version: run.version,
    started_at: run.started_at,
    ended_at: run.ended_at,
    updated_at: run.started_at,
  }
}

export type { CanonicalEvent }
