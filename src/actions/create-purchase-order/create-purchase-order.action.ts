import { z } from 'zod'
import { groupBySupplier, unitCostText, type WantedLine } from '../../core/purchasing/purchasing.ts'
import { defineAction, PermanentError, SkipStep, type ActionContext, type PurchaseOrderRecord, type SupplierRecord } from '../../plugin-api/index.ts'
import { mailPurchaseOrder, type PurchaseOrderMail } from './mail.ts'

/** Most units one order line may hold, given or suggested (a receipt line takes as many) */
const MAX_LINE_QUANTITY = 10_000_000

const unitCost = z
  .union([z.number(), z.string()])
  .refine((v) => unitCostText(v) !== null, { message: 'must be an amount like 4.50, not negative' })
  .describe('Price per unit, money (4.50 or "4.50"); optional')

const input = z.object({
  lines: z
    .array(
      z.object({
        sku: z.string().min(1).max(255).describe('The SKU to order'),
        quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY).describe('Units wanted; raised to the supplier’s min_order_quantity'),
        unit_cost: unitCost.optional(),
        description: z.string().max(500).optional().describe("What the supplier reads on the line; default: the product's title"),
      }),
    )
    .min(1)
    .max(500)
    .optional()
    .describe(
      "What to order. Default: the reorder suggestion for the SKU the trigger is about (an inventory.low event's `sku`, from its `available` and `reorder_point`), or for each of `skus`",
    ),
  sku: z
    .string()
    .max(255)
    .optional()
    .describe("Without lines: the one SKU to reorder by its suggestion, Liquid (e.g. '{{ trigger.data.sku }}'); default: the trigger's sku"),
  skus: z
    .array(z.string().min(1).max(255))
    .min(1)
    .max(500)
    .optional()
    .describe('Without lines: the SKUs to reorder, each by its reorder suggestion (for a schedule-triggered workflow)'),
  send: z
    .boolean()
    .default(false)
    .describe(
      'true: email each order to its supplier now, with the order as a CSV attachment (status sent); false (default): leave drafts, sent later by POST /api/v1/purchase-orders/:id/send',
    ),
})

type Input = z.infer<typeof input>

const orderOutput = z.object({
  id: z.string(),
  number: z.string().describe('Per store, in sequence: PO-000001, PO-000002, …'),
  supplier_id: z.string(),
  status: z.enum(['draft', 'sent', 'received']),
  lines: z.array(z.object({ sku: z.string(), quantity: z.number(), unit_cost: z.string().nullable(), description: z.string().nullable() })),
  email: z
    .object({ message_id: z.string(), delivery: z.enum(['smtp', 'outbox']), already_sent: z.boolean(), possible_duplicate: z.boolean() })
    .nullable()
    .describe('The email to the supplier when send is true; null for a draft'),
})

const output = z.object({
  number: z.string().describe('The order numbers, comma-separated (one order per supplier; usually one): `{{ steps.<id>.number }}` in a message'),
  purchase_orders: z.array(orderOutput).describe('One per supplier'),
  already_created: z.boolean().describe('An earlier attempt of this step made them; no new orders were made'),
  dry_run: z.boolean().describe('true under simulate: the orders are planned, not made (their id and number are empty)'),
})

type Output = z.infer<typeof output>

export const createPurchaseOrder = defineAction({
  type: 'create_purchase_order',
  title: 'Create purchase order',
  description:
    "Orders stock from suppliers: one purchase order per supplier (the supplier whose `skus` lists the SKU; with several, the shortest lead time), numbered per store (PO-000001), each line raised to the supplier's min_order_quantity. Lines are given, or the reorder suggestion for the SKU the trigger is about (an inventory.low event): max(2 × reorder_point − available, 0) units until forecasts provide one. A SKU no supplier lists fails the step, naming it, and nothing is ordered, as does a line over 10000000 units (a suggestion from an absurd reorder point, or given lines added up); nothing to order skips it. With send: true each order is emailed to its supplier once (transactional), the order attached as CSV. Listed at GET /api/v1/purchase-orders; received stock is booked with POST /api/v1/purchase-orders/:id/receive. A retried step answers the orders it made and sends nothing twice.",
  input: input as z.ZodType<Input>,
  output,
  effects: 'external',
  // a dry run plans the orders (suppliers, quantities) and makes and sends nothing
  simulate: 'dry_run',
  retry: { safe: true, maxAttempts: 8, baseDelayMs: 30_000 },
  examples: [
    { sku: '{{ trigger.data.sku }}', send: true },
    { lines: [{ sku: 'MUG-RED', quantity: 24, unit_cost: '3.10' }], send: false },
    { skus: ['MUG-RED', 'MUG-BLUE'], send: false },
  ],
  run: runCreatePurchaseOrder,
})

async function runCreatePurchaseOrder(ctx: ActionContext<Input>): Promise<Output> {
  const { input, services, run } = ctx
  const purchasing = services.purchasing
  const wanted = await wantedLines(ctx)
  if (wanted.length === 0) throw new SkipStep('nothing_to_order', { reason: 'no SKU is below its reorder suggestion' })
  const skus = [...new Set(wanted.map((l) => l.sku))]
  const suppliers = await purchasing.suppliersFor(skus)
  const { orders: planned, unassigned } = groupBySupplier(wanted, suppliers)
  if (unassigned.length > 0)
    throw new PermanentError(
      `create_purchase_order: no supplier lists SKU ${unassigned.map((s) => `"${s}"`).join(', ')}; add it to a supplier's skus (POST /api/v1/suppliers)`,
      {
        reason: 'no_supplier',
        details: { skus: unassigned },
      },
    )
  // a suggestion from an absurd reorder point or stock, or given lines of one SKU added up: no
  // supplier is sent an order for more than a line may hold
  const tooMany = planned.flatMap((p) => p.lines).filter((l) => l.quantity > MAX_LINE_QUANTITY)
  if (tooMany.length > 0)
    throw new PermanentError(
      `create_purchase_order: ${tooMany.map((l) => `${l.quantity} units of "${l.sku}"`).join(', ')} is over the ${MAX_LINE_QUANTITY} units one line may hold; check the reorder point and stock, or give with.lines`,
      { reason: 'quantity_too_large', details: { skus: tooMany.map((l) => l.sku) } },
    )
  const titles = await purchasing.titlesOf(skus)
  const withTitles = planned.map((p) => ({
    supplier: p.supplier,
    lines: p.lines.map((l) => ({ ...l, description: l.description ?? titles.get(l.sku) ?? null })),
  }))
  if (ctx.dryRun) {
    return {
      number: '',
      purchase_orders: withTitles.map((p) => ({
        id: '',
        number: '',
        supplier_id: p.supplier.id,
        status: input.send ? 'sent' : 'draft',
        lines: p.lines,
        email: null,
      })),
      already_created: false,
      dry_run: true,
    }
  }
  const { orders, created } = await purchasing.createOrders({
    runId: run.id,
    stepKey: run.stepKey,
    workflowId: run.workflowId,
    orders: withTitles.map((p) => ({ supplierId: p.supplier.id, lines: p.lines })),
  })
  const bySupplier = new Map<string, SupplierRecord>(planned.map((p) => [p.supplier.id, p.supplier]))
  const out: Output['purchase_orders'] = []
  for (const order of orders) {
    let email: PurchaseOrderMail | null = null
    const supplier = bySupplier.get(order.supplier_id) ?? (await purchasing.suppliersFor(order.lines.map((l) => l.sku))).get(order.lines[0]?.sku ?? '')
    // a retried step mails what the first attempt made; each order's email is sent once
    if (input.send && supplier && order.status !== 'received') email = await mailPurchaseOrder(ctx, order, supplier)
    out.push(view(order, email))
  }
  return { number: out.map((o) => o.number).join(', '), purchase_orders: out, already_created: !created, dry_run: false }
}

function view(order: PurchaseOrderRecord, email: PurchaseOrderMail | null): Output['purchase_orders'][number] {
  return {
    id: order.id,
    number: order.number,
    supplier_id: order.supplier_id,
    status: email ? (order.status === 'draft' ? 'sent' : order.status) : order.status,
    lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unit_cost: l.unit_cost, description: l.description })),
    email,
  }
}

/** The lines given, else the reorder suggestion of the trigger's SKU or of `skus`. */
async function wantedLines(ctx: ActionContext<Input>): Promise<WantedLine[]> {
  const { input, services, scope } = ctx
  if (input.lines)
    return input.lines.map((l) => ({
      sku: l.sku.trim(),
      quantity: l.quantity,
      unit_cost: l.unit_cost === undefined ? null : unitCostText(l.unit_cost),
      description: l.description ?? null,
    }))
  const trigger = scope.trigger as { type?: string; data?: Record<string, unknown> } | null | undefined
  const data = trigger?.data ?? {}
  const triggerSku = typeof data.sku === 'string' && data.sku.trim() !== '' ? data.sku.trim() : null
  const named = input.sku?.trim() ? [input.sku.trim()] : null
  const fromTrigger = triggerSku ? [triggerSku] : []
  const skus = input.skus ?? named ?? fromTrigger
  if (skus.length === 0)
    throw new PermanentError('create_purchase_order: no lines, sku or skus given, and the trigger names no sku (with.lines, with.sku or with.skus)', {
      reason: 'no_lines',
    })
  const lines: WantedLine[] = []
  for (const sku of skus) {
    const hint = sku === triggerSku ? { available: numberOrNull(data.available), reorder_point: numberOrNull(data.reorder_point) } : {}
    const quantity = await services.purchasing.suggestedQuantity(sku, hint)
    if (quantity === null)
      throw new PermanentError(`create_purchase_order: no reorder point is known for SKU "${sku}"; give with.lines with a quantity`, {
        reason: 'no_suggestion',
        details: { sku },
      })
    if (quantity > 0) lines.push({ sku, quantity, unit_cost: null, description: null })
  }
  return lines
}

function numberOrNull(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  return null
}
