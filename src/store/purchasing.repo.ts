import { forecastFor } from './forecasts.repo.ts'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { CanonicalEvent } from '../contracts/events.ts'
import { MAX_STOCK } from '../core/inventory.ts'
import { applyReceipt, type ReceiptLine, type SupplierInput } from '../core/purchasing/purchasing.ts'
import { UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import type {
  PurchaseOrderLine,
  PurchaseOrderRecord,
  PurchaseOrderRequest,
  PurchaseOrderStatus,
  PurchasingServices,
  SupplierRecord,
} from '../plugin-api/purchasing-services.ts'
import { appendEvents } from './event-log.repo.ts'
import { newestFirst, pageOfList, type Page, type PageRequest } from './keyset.ts'
import type { Database } from './tables.ts'
import type { PurchaseOrdersTable, SuppliersTable } from './purchasing-tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** In `db`'s transaction when it is one, else in a new one. */
function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : (db as Kysely<Database>).transaction().execute(fn)
}

function supplierOf(row: Selectable<SuppliersTable>): SupplierRecord & { created_at: string; updated_at: string } {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    lead_time_days: Number(row.lead_time_days),
    min_order_quantity: Number(row.min_order_quantity),
    skus: JSON.parse(row.skus) as string[],
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}

export function purchaseOrderOf(row: Selectable<PurchaseOrdersTable>): PurchaseOrderRecord & { workflow_id: string | null; run_id: string | null } {
  return {
    id: row.id,
    number: row.number,
    supplier_id: row.supplier_id,
    status: row.status as PurchaseOrderStatus,
    lines: JSON.parse(row.lines) as PurchaseOrderLine[],
    created_at: row.created_at,
    sent_at: row.sent_at,
    received_at: row.received_at,
    workflow_id: row.workflow_id,
    run_id: row.run_id,
  }
}

/** Creates the supplier, or replaces the one with its id (created_at kept). */
export async function upsertSupplier(db: Db, storeId: string, supplier: SupplierInput, now: Date): Promise<{ supplier: SupplierRecord; created: boolean }> {
  const at = now.toISOString()
  const values = {
    name: supplier.name,
    email: supplier.email,
    lead_time_days: supplier.lead_time_days,
    min_order_quantity: supplier.min_order_quantity,
    skus: JSON.stringify(supplier.skus),
    updated_at: at,
  }
  const existing = await db.selectFrom('suppliers').select('id').where('store_id', '=', storeId).where('id', '=', supplier.id).executeTakeFirst()
  await db
    .insertInto('suppliers')
    .values({ store_id: storeId, id: supplier.id, ...values, created_at: at })
    .onConflict((oc) => oc.columns(['store_id', 'id']).doUpdateSet(values))
    .execute()
  return { supplier: { ...supplier }, created: !existing }
}

export async function listSuppliers(db: Db, storeId: string, page: PageRequest): Promise<Page<ReturnType<typeof supplierOf>>> {
  const rows = await db.selectFrom('suppliers').selectAll().where('store_id', '=', storeId).orderBy('id').execute()
  return pageOfList(rows.map(supplierOf), (s) => s.id, page)
}

export async function getSupplier(db: Db, storeId: string, id: string): Promise<ReturnType<typeof supplierOf> | null> {
  const row = await db.selectFrom('suppliers').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  return row ? supplierOf(row) : null
}

/** Deletes the supplier; its purchase orders stay (they name it by id). False when there was none. */
export async function deleteSupplier(db: Db, storeId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('suppliers').where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

export interface PurchaseOrderFilter {
  status?: string
  supplier?: string
}

/** The store's purchase orders, newest first. */
export async function listPurchaseOrders(db: Db, storeId: string, filter: PurchaseOrderFilter, page: PageRequest) {
  let query = db.selectFrom('purchase_orders').selectAll().where('store_id', '=', storeId)
  if (filter.status) query = query.where('status', '=', filter.status)
  if (filter.supplier) query = query.where('supplier_id', '=', filter.supplier)
  const result = await newestFirst(query, { time: 'created_at', id: 'id' }, page)
  return { items: result.items.map(purchaseOrderOf), next_cursor: result.next_cursor }
}

/** The store's purchase order by its id or its number (PO-000042). */
export async function getPurchaseOrder(db: Db, storeId: string, ref: string) {
  const row = await db
    .selectFrom('purchase_orders')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('id', '=', ref), eb('number', '=', ref)]))
    .executeTakeFirst()
  return row ? purchaseOrderOf(row) : null
}

export async function markPurchaseOrderSent(db: Db, storeId: string, id: string, at: string): Promise<void> {
  await db
    .updateTable('purchase_orders')
    .set({ status: 'sent', sent_at: at })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .where('status', '=', 'draft')
    .execute()
}

/**
 * Makes a run step's purchase orders in one transaction, or answers the ones the step made on an
 * earlier attempt. Each takes the store's next number: the counter row's UPDATE serialises
 * concurrent runs, so numbers neither repeat nor skip (a rolled-back step gives its numbers back).
 */
export async function createPurchaseOrders(db: Db, storeId: string, request: PurchaseOrderRequest, now: Date) {
  return inTransaction(db, async (trx) => {
    const earlier = await trx
      .selectFrom('purchase_orders')
      .selectAll()
      .where('run_id', '=', request.runId)
      .where('step_key', '=', request.stepKey)
      .orderBy('number')
      .execute()
    if (earlier.length > 0) return { orders: earlier.map(purchaseOrderOf), created: false }
    await sql`insert into purchase_order_counters (store_id, last_number) values (${storeId}, 0) on conflict (store_id) do nothing`.execute(trx)
    const orders: PurchaseOrderRecord[] = []
    const at = now.toISOString()
    for (const order of request.orders) {
      const { rows } = await sql<{ last_number: number | string }>`
        update purchase_order_counters set last_number = last_number + 1 where store_id = ${storeId} returning last_number`.execute(trx)
      const row = {
        store_id: storeId,
        id: newId('po_'),
        number: `PO-${String(Number(rows[0]!.last_number)).padStart(6, '0')}`,
        supplier_id: order.supplierId,
        status: 'draft',
        lines: JSON.stringify(order.lines.map((l) => ({ ...l, received: 0 }))),
        created_at: at,
        sent_at: null,
        received_at: null,
        workflow_id: request.workflowId,
        run_id: request.runId,
        step_key: request.stepKey,
      }
      await trx.insertInto('purchase_orders').values(row).execute()
      orders.push(purchaseOrderOf(row))
    }
    return { orders, created: true }
  })
}

/**
 * A receipt: in one transaction, the order's received quantities count up (status `received`
 * once every line is complete), the receipt is recorded under its key, and a
 * `purchase_order.received` event is appended to the log, which the router applies to stock in
 * log order with every other stock change (projection). The same key again answers the order
 * and changes nothing; the same key with other lines is a 409. PostgreSQL: the order's row is locked first, so two receipts at once
 * cannot both pass the outstanding check.
 */
export async function receivePurchaseOrder(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  storeId: string,
  ref: string,
  receipt: { key: string; lines: ReceiptLine[] },
  now: Date,
): Promise<{ order: PurchaseOrderRecord; duplicate: boolean; eventId: string }> {
  return db.transaction().execute(async (trx) => {
    const found = await getPurchaseOrder(trx, storeId, ref)
    if (!found) throw new UserError(`purchase order "${ref}" not found`, { code: 'not_found' })
    if (dialect === 'postgres') await sql`select id from purchase_orders where store_id = ${storeId} and id = ${found.id} for update`.execute(trx)
    const order = (await getPurchaseOrder(trx, storeId, found.id))!
    const eventId = `purchase_order.received:${order.id}:${receipt.key}`
    const earlier = await trx
      .selectFrom('purchase_order_receipts')
      .select(['id', 'lines'])
      .where('store_id', '=', storeId)
      .where('purchase_order_id', '=', order.id)
      .where('id', '=', receipt.key)
      .executeTakeFirst()
    if (earlier) {
      // the key names one receipt: other lines under it are a client reusing its key, not a retry
      if (receiptText(JSON.parse(earlier.lines) as ReceiptLine[]) !== receiptText(receipt.lines))
        throw new UserError(
          `Idempotency-Key "${receipt.key}" was used for another receipt of ${order.number}, with other lines; give each delivery its own key`,
          {
            code: 'conflict',
            details: { field: 'Idempotency-Key' },
          },
        )
      return { order, duplicate: true, eventId }
    }
    const { lines, complete } = applyReceipt(order.lines, receipt.lines)
    await checkStockRange(trx, storeId, receipt.lines)
    const at = now.toISOString()
    const status = complete ? 'received' : order.status
    await trx
      .updateTable('purchase_orders')
      .set({ lines: JSON.stringify(lines), status, received_at: complete ? at : null })
      .where('store_id', '=', storeId)
      .where('id', '=', order.id)
      .execute()
    await trx
      .insertInto('purchase_order_receipts')
      .values({ store_id: storeId, purchase_order_id: order.id, id: receipt.key, lines: JSON.stringify(receipt.lines), event_id: eventId, created_at: at })
      .execute()
    const event: CanonicalEvent = {
      id: eventId,
      type: 'purchase_order.received',
      occurred_at: at,
      store: storeId,
      data: {
        purchase_order: { id: order.id, number: order.number, supplier_id: order.supplier_id, status },
        receipt_id: receipt.key,
        lines: receipt.lines,
      },
    }
    await appendEvents(trx, [{ event, receivedAt: at, historical: false, source: 'purchasing' }])
    return { order: { ...order, lines, status: status as PurchaseOrderStatus, received_at: complete ? at : null }, duplicate: false, eventId }
  })
}

/** A receipt's lines in one order, to tell a retry (the same lines) from a reused key. */
function receiptText(lines: ReceiptLine[]): string {
  return JSON.stringify(lines.map((l) => [l.sku, l.quantity]).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : Number(a[1]) - Number(b[1]))))
}

/**
 * A receipt must leave each SKU's stock within MAX_STOCK: past it, the router could not add it
 * (an integer column) and the order would count units the stock never got. The 400 names the
 * line that crosses, lines of one SKU added up.
 */
async function checkStockRange(db: Db, storeId: string, receipt: ReceiptLine[]): Promise<void> {
  const added = new Map<string, number>()
  for (const [i, line] of receipt.entries()) {
    const before = added.get(line.sku) ?? (await largestStockOf(db, storeId, line.sku))
    const after = before + line.quantity
    if (after > MAX_STOCK)
      throw new UserError(
        `lines[${i}].quantity: receiving ${line.quantity} of "${line.sku}" would put its stock at ${after}, over the ${MAX_STOCK} units storeflow holds`,
        { code: 'validation_failed', details: { field: `lines[${i}].quantity` } },
      )
    added.set(line.sku, after)
  }
}

/** The largest count a receipt of `sku` adds to: its levels' sum, any one level, any variant's count (0 when none). */
async function largestStockOf(db: Db, storeId: string, sku: string): Promise<number> {
  const { levels, variants } = await stockCountsOf(db, storeId, sku)
  const counts = [...levels, ...variants]
  return Math.max(
    0,
    levels.reduce((n, l) => n + l, 0),
    ...counts,
  )
}

/**
 * The router's side of a receipt: adds the received units to stock. The lines come from the
 * receipt row written with the event, not from the event's data, so an event sent to the API
 * under this type moves no stock.
 */
export async function applyReceiptToStock(
  db: Db,
  storeId: string,
  data: Record<string, unknown>,
  addStock: (db: Db, storeId: string, sku: string, delta: number) => Promise<void>,
): Promise<void> {
  const po = data.purchase_order as { id?: unknown } | undefined
  if (typeof po?.id !== 'string' || typeof data.receipt_id !== 'string') return
  const receipt = await db
    .selectFrom('purchase_order_receipts')
    .select('lines')
    .where('store_id', '=', storeId)
    .where('purchase_order_id', '=', po.id)
    .where('id', '=', data.receipt_id)
    .executeTakeFirst()
  if (!receipt) return
  for (const line of JSON.parse(receipt.lines) as ReceiptLine[]) {
    const known =
      (await db.selectFrom('inventory_levels').select('sku').where('store_id', '=', storeId).where('sku', '=', line.sku).limit(1).executeTakeFirst()) ??
      (await db
        .selectFrom('variants')
        .select('sku')
        .where('store_id', '=', storeId)
        .where('sku', '=', line.sku)
        .where('inventory_quantity', 'is not', null)
        .limit(1)
        .executeTakeFirst())
    if (known) await addStock(db, storeId, line.sku, line.quantity)
    // a SKU the view has no stock of yet: it has what arrived, at the default location
    else
      await db
        .insertInto('inventory_levels')
        .values({ store_id: storeId, sku: line.sku, location_id: 'default', available: line.quantity, updated_at: '' })
        .execute()
  }
}

/** Units of `sku` in stock in the view: its inventory levels summed, else its variants' counts; null when unknown. */
export async function availableOf(db: Db, storeId: string, sku: string): Promise<number | null> {
  const { levels, variants } = await stockCountsOf(db, storeId, sku)
  if (levels.length > 0) return levels.reduce((n, l) => n + l, 0)
  return variants.length > 0 ? variants.reduce((n, v) => n + v, 0) : null
}

/** The counts the view holds for `sku`: each inventory level's, and each variant's that has one. */
async function stockCountsOf(db: Db, storeId: string, sku: string): Promise<{ levels: number[]; variants: number[] }> {
  const levels = await db.selectFrom('inventory_levels').select('available').where('store_id', '=', storeId).where('sku', '=', sku).execute()
  const variants = await db
    .selectFrom('variants')
    .select('inventory_quantity')
    .where('store_id', '=', storeId)
    .where('sku', '=', sku)
    .where('inventory_quantity', 'is not', null)
    .execute()
  return { levels: levels.map((l) => Number(l.available)), variants: variants.map((v) => Number(v.inventory_quantity)) }
}

/** ActionServices.purchasing over the store's tables. */
export function createPurchasingServices(db: Db, storeId: string, now: () => Date): PurchasingServices {
  return {
    async suggestedQuantity(sku, hint) {
      // the forecast's suggestion (demand over the supplier's lead time and the review period, plus
      // safety stock, less what is there, up to the supplier's minimum) when the SKU has sold
      const supplier = (await db.selectFrom('suppliers').selectAll().where('store_id', '=', storeId).orderBy('lead_time_days').orderBy('id').execute())
        .map(supplierOf)
        .find((s) => s.skus.includes(sku))
      const forecast = await forecastFor(db, storeId, sku, {
        now: now(),
        ...(supplier ? { leadTimeDays: supplier.lead_time_days, minOrderQuantity: supplier.min_order_quantity } : {}),
      })
      if (forecast && forecast.daily_demand > 0) return forecast.suggested_quantity
      // no sales to forecast from: back up to twice the reorder point, the classic min/max rule
      const reorderPoint = typeof hint.reorder_point === 'number' && Number.isFinite(hint.reorder_point) ? hint.reorder_point : null
      if (reorderPoint === null) return null
      const available = typeof hint.available === 'number' && Number.isFinite(hint.available) ? hint.available : await availableOf(db, storeId, sku)
      return Math.max(Math.ceil(2 * reorderPoint - (available ?? 0)), 0)
    },
    async suppliersFor(skus) {
      const wanted = new Set(skus)
      const rows = await db.selectFrom('suppliers').selectAll().where('store_id', '=', storeId).orderBy('lead_time_days').orderBy('id').execute()
      const out = new Map<string, SupplierRecord>()
      for (const supplier of rows.map(supplierOf)) {
        for (const sku of supplier.skus) if (wanted.has(sku) && !out.has(sku)) out.set(sku, supplier)
      }
      return out
    },
    async titlesOf(skus) {
      if (skus.length === 0) return new Map()
      const rows = await db
        .selectFrom('variants')
        .innerJoin('products', (j) => j.onRef('products.store_id', '=', 'variants.store_id').onRef('products.id', '=', 'variants.product_id'))
        .select(['variants.sku', 'products.title'])
        .where('variants.store_id', '=', storeId)
        .where('variants.sku', 'in', skus)
        .orderBy('variants.id')
        .execute()
      const out = new Map<string, string>()
      for (const r of rows) if (r.sku && !out.has(r.sku)) out.set(r.sku, r.title)
      return out
    },
    createOrders: (request) => createPurchaseOrders(db, storeId, request, now()),
    markSent: (orderId, at) => markPurchaseOrderSent(db, storeId, orderId, at),
  }
}
