import { z } from 'zod'
import { invoiceHtml, linesFromEvent, priceLines, referenceOf } from '../../core/invoices/invoice.ts'
import { parseDuration } from '../../lib/durations.ts'
import { moneyText } from '../../lib/money.ts'
import { defineAction, PermanentError } from '../../plugin-api/index.ts'

const money = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const text = moneyText(v)
    if (text === null || text.startsWith('-')) {
      ctx.addIssue({ code: 'custom', message: 'must be an amount like 19.00, not negative' })
      return z.NEVER
    }
    return text
  })
  .describe('Money, e.g. 19.00')

const duration = z.string().refine(
  (v) => {
    try {
      parseDuration(v)
      return true
    } catch {
      return false
    }
  },
  { message: 'must be a duration like "14d"' },
)

const input = z.object({
  lines: z
    .array(
      z.object({
        description: z.string().min(1).max(500),
        quantity: z.number().int().min(1).max(100_000).default(1),
        unit_price: money,
      }),
    )
    .min(1)
    .max(200)
    .optional()
    .describe("What is billed; default: the trigger's subscription (its plan for one interval) or order (its line items)"),
  due_in: duration.default('14d').describe('How long after issue the invoice falls due (then invoice.overdue); default 14d'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO code like USD')
    .optional()
    .describe("ISO 4217; default: the trigger's currency, else the store's"),
})

const output = z.object({
  id: z.string().describe("storeflow's invoice id; an invoice.paid event names it (or the number)"),
  number: z.string().describe('Per store, in sequence: INV-000001, INV-000002, …'),
  status: z.string(),
  total: z.string().describe('Exact, as a decimal string'),
  currency: z.string(),
  issued_at: z.string(),
  due_at: z.string(),
  html: z.string().describe('The invoice as an HTML table, every value escaped: `{{ steps.<id>.html | raw }}` in a send_email step mails it'),
  already_created: z.boolean().describe('An earlier attempt of this step made it; nothing new was made'),
})

export const createInvoice = defineAction({
  type: 'create_invoice',
  title: 'Create invoice',
  description:
    "Makes an invoice for the run's customer, numbered per store, stored and listed at GET /api/v1/invoices; paid when an invoice.paid event names it, overdue (invoice.overdue) when due_in passes unpaid. Mail it with a send_email step using its html output.",
  input,
  output,
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{ due_in: '14d' }, { lines: [{ description: 'Coffee subscription (month)', quantity: 1, unit_price: '19.00' }], due_in: '7d' }],
  async run({ input, run, store, customer, scope, clock, services }) {
    const trigger = scope.trigger as { type: string; data: Record<string, unknown> } | null
    const given = input.lines?.map((l) => ({ description: l.description, quantity: l.quantity, unit_price: l.unit_price }))
    const lines = given ?? (trigger ? linesFromEvent(trigger) : null)
    if (!lines || lines.length === 0)
      throw new PermanentError('create_invoice: no lines given, and the trigger is not a subscription or an order to bill (with.lines)')
    const priced = priceLines(lines)
    const now = clock.now()
    const triggerCurrency = typeof trigger?.data.currency === 'string' && /^[A-Z]{3}$/.test(trigger.data.currency) ? trigger.data.currency : null
    const { invoice, created } = await services.invoices.create({
      customerKey: customer?.key ?? null,
      email: customer?.email ?? null,
      currency: input.currency ?? triggerCurrency ?? store.currency,
      lines: priced.lines,
      total: priced.total,
      issuedAt: now.toISOString(),
      dueAt: new Date(now.getTime() + parseDuration(input.due_in)).toISOString(),
      reference: trigger ? referenceOf(trigger) : null,
      workflowId: run.workflowId,
      runId: run.id,
      stepKey: run.stepKey,
    })
    return {
      id: invoice.id,
      number: invoice.number,
      status: invoice.status,
      total: invoice.total,
      currency: invoice.currency,
      issued_at: invoice.issued_at,
      due_at: invoice.due_at,
      html: invoiceHtml(invoice, store.name),
      already_created: !created,
    }
  },
})
