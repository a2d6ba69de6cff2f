import { escapeHtml } from '../messaging/index.ts'
import { addMoney, moneyText, timesMoney } from '../../lib/money.ts'

export interface InvoiceLineInput {
  description: string
  quantity: number
  unit_price: string
}

export interface PricedLine extends InvoiceLineInput {
  amount: string
}

/** Lines priced exactly: amount = quantity × unit price; the total is their sum. */
export function priceLines(lines: InvoiceLineInput[]): { lines: PricedLine[]; total: string } {
  let total = '0.00'
  const priced = lines.map((line) => {
    const amount = timesMoney(line.unit_price, line.quantity)
    total = addMoney(total, amount)
    return { ...line, amount }
  })
  return { lines: priced, total }
}

/**
 * The lines an invoice bills when the step names none: a subscription's plan for one interval,
 * or an order's line items. Null when the event is about neither.
 */
export function linesFromEvent(event: { type: string; data: Record<string, unknown> }): InvoiceLineInput[] | null {
  const { type, data } = event
  if (type.startsWith('subscription.')) {
    const price = moneyText(data.price)
    if (!price) return null
    const interval = typeof data.interval === 'string' && data.interval ? ` (${data.interval})` : ''
    return [{ description: `${String(data.plan ?? 'Subscription')}${interval}`, quantity: 1, unit_price: price }]
  }
  if (type.startsWith('order.') && Array.isArray(data.line_items)) {
    const lines: InvoiceLineInput[] = []
    for (const item of data.line_items as Array<Record<string, unknown>>) {
      const price = moneyText(item.price)
      const quantity = Number(item.quantity ?? 1)
      if (!price || !Number.isInteger(quantity) || quantity < 1) continue
      lines.push({ description: String(item.title ?? item.sku ?? 'Item'), quantity, unit_price: price })
    }
    return lines.length > 0 ? lines : null
  }
  return null
}

/** What the invoice's reference names: the subscription or order it bills. */
export function referenceOf(event: { type: string; data: Record<string, unknown> }): string | null {
  const id = event.data.id
  if (typeof id !== 'string' && typeof id !== 'number') return null
  if (event.type.startsWith('subscription.')) return `subscription:${id}`
  if (event.type.startsWith('order.')) return `order:${id}`
  return null
}

/** The invoice as an HTML fragment for an email body; every value escaped (descriptions come from shop data). */
export function invoiceHtml(
  invoice: { number: string; currency: string; total: string; due_at: string; issued_at: string; lines: PricedLine[] },
  storeName: string,
): string {
  // stored exactly ("24", "24.5"): shown as a customer reads amounts, with at least two decimals
  const amount = (value: string) => {
    const [whole, fraction = ''] = value.split('.')
    return escapeHtml(`${whole}.${fraction.padEnd(2, '0')}`)
  }
  const rows = invoice.lines
    .map(
      (l) =>
        `<tr><td style="padding:4px 8px;">${escapeHtml(l.description)}</td><td style="padding:4px 8px;text-align:right;">${l.quantity}</td>` +
        `<td style="padding:4px 8px;text-align:right;">${amount(l.unit_price)}</td><td style="padding:4px 8px;text-align:right;">${amount(l.amount)}</td></tr>`,
    )
    .join('')
  const day = (iso: string) => escapeHtml(iso.slice(0, 10))
  return (
    `<h2 style="margin:0 0 8px;">Invoice ${escapeHtml(invoice.number)}</h2>` +
    `<p style="margin:0 0 12px;">${escapeHtml(storeName)} · issued ${day(invoice.issued_at)} · due ${day(invoice.due_at)}</p>` +
    `<table role="presentation" style="border-collapse:collapse;width:100%;">` +
    `<tr><th style="padding:4px 8px;text-align:left;">Item</th><th style="padding:4px 8px;text-align:right;">Qty</th>` +
    `<th style="padding:4px 8px;text-align:right;">Price</th><th style="padding:4px 8px;text-align:right;">Amount</th></tr>${rows}` +
    `<tr><td colspan="3" style="padding:4px 8px;text-align:right;"><strong>Total</strong></td>` +
    `<td style="padding:4px 8px;text-align:right;"><strong>${amount(invoice.total)} ${escapeHtml(invoice.currency)}</strong></td></tr></table>`
  )
}
