import { mailPurchaseOrder } from '../actions/create-purchase-order/mail.ts'
import { parseReceipt, parseSupplier } from '../core/purchasing/purchasing.ts'
import { OperationalError, UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { moneyToNumber } from '../lib/money.ts'
import { PermanentError, RetryableError, type ActionContext } from '../plugin-api/index.ts'
import type { PageRequest } from '../store/keyset.ts'
import {
  availableOf,
  deleteSupplier,
  getPurchaseOrder,
  getSupplier,
  listPurchaseOrders,
  listSuppliers,
  receivePurchaseOrder,
  upsertSupplier,
  type PurchaseOrderFilter,
} from '../store/purchasing.repo.ts'
import { getStore } from '../store/storage.ts'
import type { ServiceContext } from './context.ts'

const STATUSES = ['draft', 'sent', 'received']
/** an Idempotency-Key is the client's: any printable text up to this length */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

/** An order as the API shows it: money as a JSON number, like every other money field the API answers (the exact string stays in storage and in the supplier's CSV). */
function apiView<T extends { lines: Array<{ unit_cost: string | null }> }>(order: T) {
  return { ...order, lines: order.lines.map((l) => ({ ...l, unit_cost: l.unit_cost === null ? null : moneyToNumber(l.unit_cost) })) }
}

function notFound(what: string, ref: string): UserError {
  return new UserError(`${what} "${ref}" not found`, { code: 'not_found' })
}

/** Suppliers (POST /api/v1/suppliers …), per store. */
export function createSupplierService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** creates or replaces the supplier with the body's id; `created` tells which */
    async upsert(storeId: string, body: unknown) {
      const supplier = parseSupplier(body)
      const { created } = await upsertSupplier(db, storeId, supplier, ctx.clock.now())
      return { supplier: (await getSupplier(db, storeId, supplier.id))!, created }
    },
    list: (storeId: string, page: PageRequest) => listSuppliers(db, storeId, page),
    async get(storeId: string, id: string) {
      const supplier = await getSupplier(db, storeId, id)
      if (!supplier) throw notFound('supplier', id)
      return supplier
    },
    async remove(storeId: string, id: string) {
      if (!(await deleteSupplier(db, storeId, id))) throw notFound('supplier', id)
    },
  }
}

/** Purchase orders create_purchase_order made: listed, sent, received into stock. */
export function createPurchaseOrderService(ctx: ServiceContext) {
  const db = ctx.handle.db
  const find = async (storeId: string, ref: string) => {
    const order = await getPurchaseOrder(db, storeId, ref)
    if (!order) throw notFound('purchase order', ref)
    return order
  }
  const get = async (storeId: string, ref: string) => apiView(await find(storeId, ref))
  return {
    async list(storeId: string, filter: PurchaseOrderFilter, page: PageRequest) {
      if (filter.status && !STATUSES.includes(filter.status))
        throw new UserError(`status must be one of ${STATUSES.join(', ')}`, { code: 'validation_failed', details: { field: 'status' } })
      const listed = await listPurchaseOrders(db, storeId, filter, page)
      return { items: listed.items.map(apiView), next_cursor: listed.next_cursor }
    },
    get,
    /**
     * Emails a draft to its supplier (a sent one again answers `already_sent`: the email is keyed
     * by the order, so it leaves once whoever asks).
     */
    async send(storeId: string, ref: string) {
      const order = await find(storeId, ref)
      if (order.status === 'received')
        throw new UserError(`purchase order ${order.number} is received already`, { code: 'conflict', details: { field: 'status' } })
      const supplier = await getSupplier(db, storeId, order.supplier_id)
      if (!supplier)
        throw new UserError(`supplier "${order.supplier_id}" of ${order.number} no longer exists`, { code: 'conflict', details: { field: 'supplier_id' } })
      const store = await getStore(db, storeId)
      if (!store) throw notFound('store', storeId)
      const mailCtx: ActionContext<unknown> = {
        input: {},
        idempotencyKey: `purchase-order:${order.id}`,
        run: {
          id: order.run_id ?? `purchase-order:${order.id}`,
          workflowId: order.workflow_id ?? '',
          workflowVersion: 0,
          stepKey: 'send',
          attempt: 1,
          maxAttempts: 2,
        },
        store,
        customer: null,
        scope: {},
        clock: ctx.clock,
        log: ctx.log,
        services: ctx.engine.storage.services(storeId, () => Promise.reject(new Error('sending a purchase order emits no event'))),
        dryRun: false,
      }
      try {
        const email = await mailPurchaseOrder(mailCtx, order, supplier)
        return { ...(await get(storeId, order.id)), email }
      } catch (err) {
        if (err instanceof RetryableError) throw new OperationalError(`the email to ${supplier.email} did not leave: ${err.message}; try again`, { cause: err })
        if (err instanceof PermanentError) throw new UserError(`the email to ${supplier.email} was refused: ${err.message}`, { code: 'conflict', cause: err })
        throw err
      }
    },
    /**
     * Books what arrived: the receipt and a purchase_order.received event in one transaction
     * (store/purchasing.repo.ts), then waits for the store's router to apply it to stock, so the
     * answer shows the stock after it. The same Idempotency-Key again adds nothing.
     */
    async receive(storeId: string, ref: string, body: unknown, idempotencyKey: string | undefined) {
      const lines = parseReceipt(body)
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey))
        throw new UserError('Idempotency-Key must be 1 to 255 printable characters', { code: 'validation_failed', details: { field: 'Idempotency-Key' } })
      const key = idempotencyKey ?? newId('rcpt_')
      const { order, duplicate } = await receivePurchaseOrder(db, ctx.handle.dialect, storeId, ref, { key, lines }, ctx.clock.now())
      await ctx.engine.catchUp(storeId)
      const skus = [...new Set(lines.map((l) => l.sku))]
      const stock = await Promise.all(skus.map(async (sku) => ({ sku, available: await availableOf(db, storeId, sku) })))
      return { ...(duplicate ? await get(storeId, order.id) : apiView(order)), receipt_id: key, duplicate, stock }
    },
  }
}

export type SupplierService = ReturnType<typeof createSupplierService>
export type PurchaseOrderService = ReturnType<typeof createPurchaseOrderService>
