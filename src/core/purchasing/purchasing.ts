import { UserError } from '../../lib/errors.ts'
import { moneyText } from '../../lib/money.ts'

/**
 * Suppliers and purchase orders, pure: what a supplier and a receipt must look like, how wanted
 * quantities become one order per supplier, and the order as a CSV file for the supplier.
 */

/** A supplier as `POST /api/v1/suppliers` takes it and the store keeps it. */
export interface SupplierInput {
  id: string
  name: string
  email: string
  /** days from order to delivery */
  lead_time_days: number
  /** the least quantity of one SKU the supplier takes on an order line, units */
  min_order_quantity: number
  skus: string[]
}

const SUPPLIER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
// one plain address: the order is mailed to it, so no display name, list or line break
const EMAIL = /^[^\s@<>()[\],;:"\\]+@[^\s@<>()[\],;:"\\]+\.[^\s@<>()[\],;:"\\]+$/

function invalid(field: string, rule: string): UserError {
  return new UserError(`${field} ${rule}`, { code: 'validation_failed', details: { field } })
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** POST /api/v1/suppliers' body; throws a 400 naming the field. */
export function parseSupplier(input: unknown): SupplierInput {
  if (!isObject(input)) throw invalid('body', 'must be an object { id, name, email, lead_time_days, min_order_quantity, skus }')
  const { id, name, email, lead_time_days, min_order_quantity, skus } = input
  if (typeof id !== 'string' || !SUPPLIER_ID.test(id)) throw invalid('id', 'must be 1 to 64 letters, digits, ".", "-" or "_", starting with a letter or digit')
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) throw invalid('name', 'must be a non-empty string of at most 200 characters')
  if (typeof email !== 'string' || email.length > 254 || !EMAIL.test(email.trim()))
    throw invalid('email', 'must be one email address like orders@supplier.example')
  if (typeof lead_time_days !== 'number' || !Number.isInteger(lead_time_days) || lead_time_days < 0 || lead_time_days > 365)
    throw invalid('lead_time_days', 'must be a whole number of days from 0 to 365')
  const minimum = min_order_quantity ?? 1
  if (typeof minimum !== 'number' || !Number.isInteger(minimum) || minimum < 1 || minimum > 1_000_000)
    throw invalid('min_order_quantity', 'must be a whole number of units from 1 to 1000000 (default 1)')
  if (!Array.isArray(skus) || skus.length > 10_000) throw invalid('skus', 'must be a list of SKUs (at most 10000)')
  skus.forEach((sku, i) => {
    if (typeof sku !== 'string' || sku.trim() === '' || sku.length > 255) throw invalid(`skus[${i}]`, 'must be a non-empty string of at most 255 characters')
  })
  return {
    id,
    name: name.trim(),
    email: email.trim(),
    lead_time_days,
    min_order_quantity: minimum,
    skus: [...new Set((skus as string[]).map((s) => s.trim()))],
  }
}

export interface ReceiptLine {
  sku: string
  quantity: number
}

/** POST /api/v1/purchase-orders/:id/receive's body; throws a 400 naming the field. */
export function parseReceipt(input: unknown): ReceiptLine[] {
  if (!isObject(input) || !Array.isArray(input.lines)) throw invalid('lines', 'must be a list of { sku, quantity }')
  if (input.lines.length === 0 || input.lines.length > 1000) throw invalid('lines', 'must hold 1 to 1000 lines')
  return input.lines.map((line: unknown, i) => {
    if (!isObject(line)) throw invalid(`lines[${i}]`, 'must be an object { sku, quantity }')
    if (typeof line.sku !== 'string' || line.sku.trim() === '') throw invalid(`lines[${i}].sku`, 'must be a non-empty string')
    if (typeof line.quantity !== 'number' || !Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > 10_000_000)
      throw invalid(`lines[${i}].quantity`, 'must be a whole number of units from 1 to 10000000')
    return { sku: line.sku.trim(), quantity: line.quantity }
  })
}

export interface OrderLineLike {
  sku: string
  quantity: number
  received: number
}

/**
 * What a receipt makes of an order's lines: each line's `received` counts up; a SKU not on the
 * order, or more than is still outstanding (summed over the receipt's lines of that SKU), is a
 * 400 naming the receipt's line. `complete` when every line is fully received.
 */
export function applyReceipt<L extends OrderLineLike>(lines: L[], receipt: ReceiptLine[]): { lines: L[]; complete: boolean } {
  const next = lines.map((l) => ({ ...l }))
  receipt.forEach((r, i) => {
    const line = next.find((l) => l.sku === r.sku)
    if (!line) throw invalid(`lines[${i}].sku`, `"${r.sku}" is not on this purchase order`)
    const outstanding = line.quantity - line.received
    if (r.quantity > outstanding)
      throw invalid(`lines[${i}].quantity`, `receives ${r.quantity} of "${r.sku}" but only ${outstanding} of the ${line.quantity} ordered are outstanding`)
    line.received += r.quantity
  })
  return { lines: next, complete: next.every((l) => l.received >= l.quantity) }
}

export interface WantedLine {
  sku: string
  quantity: number
  unit_cost: string | null
  description: string | null
}

export interface SupplierLike {
  id: string
  min_order_quantity: number
}

/**
 * One order per supplier: each line goes to its SKU's supplier, lines of the same SKU are added
 * up, and each line is raised to the supplier's minimum order quantity. Suppliers in id order,
 * lines in the order first given. SKUs without a supplier are answered apart (`unassigned`).
 */
export function groupBySupplier<S extends SupplierLike>(
  lines: WantedLine[],
  supplierOf: Map<string, S>,
): { orders: Array<{ supplier: S; lines: WantedLine[] }>; unassigned: string[] } {
  const bySupplier = new Map<string, { supplier: S; lines: Map<string, WantedLine> }>()
  const unassigned: string[] = []
  for (const line of lines) {
    const supplier = supplierOf.get(line.sku)
    if (!supplier) {
      if (!unassigned.includes(line.sku)) unassigned.push(line.sku)
      continue
    }
    const group = bySupplier.get(supplier.id) ?? { supplier, lines: new Map<string, WantedLine>() }
    bySupplier.set(supplier.id, group)
    const same = group.lines.get(line.sku)
    if (same)
      group.lines.set(line.sku, {
        ...same,
        quantity: same.quantity + line.quantity,
        unit_cost: same.unit_cost ?? line.unit_cost,
        description: same.description ?? line.description,
      })
    else group.lines.set(line.sku, { ...line })
  }
  const orders = [...bySupplier.values()]
    .sort((a, b) => (a.supplier.id < b.supplier.id ? -1 : a.supplier.id > b.supplier.id ? 1 : 0))
    .map(({ supplier, lines: grouped }) => ({
      supplier,
      lines: [...grouped.values()].map((l) => ({ ...l, quantity: Math.max(l.quantity, supplier.min_order_quantity) })),
    }))
  return { orders, unassigned }
}

/** A money input (number or numeric string, not negative) as an exact string, or null when it is not one. */
export function unitCostText(value: unknown): string | null {
  const text = moneyText(value)
  return text === null || text.startsWith('-') ? null : text
}

/**
 * A cell as RFC 4180 writes it, made safe to open in a spreadsheet: text starting with = + - @
 * (or a tab or carriage return, which some spreadsheets skip before such a sign) would be read
 * as a formula, so it gets a leading ' (OWASP, "CSV Injection"); a cell with a comma, quote or
 * line break is quoted, its quotes doubled.
 */
export function csvCell(value: string | number | null): string {
  let text = value === null ? '' : String(value)
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** The order as the supplier gets it: a header row and one row per line, CRLF line ends (RFC 4180). */
export function purchaseOrderCsv(lines: Array<{ sku: string; quantity: number; unit_cost: string | null; description: string | null }>): string {
  const rows = [['sku', 'quantity', 'unit_cost', 'description'].join(',')]
  for (const l of lines) rows.push([csvCell(l.sku), csvCell(l.quantity), csvCell(l.unit_cost), csvCell(l.description)].join(','))
  return `${rows.join('\r\n')}\r\n`
}
