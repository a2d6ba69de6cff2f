import { escapeHtml, stableMessageId } from '../../core/messaging/index.ts'
import { purchaseOrderCsv } from '../../core/purchasing/purchasing.ts'
import { RetryableError, type ActionContext, type PurchaseOrderRecord, type SupplierRecord } from '../../plugin-api/index.ts'
import { sendOnce, type MessageContent, type Transport } from '../messaging/index.ts'
import { layOutEmail } from '../send-email/render.ts'
import { sendSmtp, serverRefused, type SmtpResult } from '../send-email/smtp.ts'

export interface PurchaseOrderMail {
  /** the outbox message id */
  message_id: string
  delivery: 'smtp' | 'outbox'
  /** an earlier attempt (of this step, or a POST …/send) already sent it; nothing was sent this time */
  already_sent: boolean
  /** an earlier attempt crashed after handing it to SMTP, so it was sent again with the same Message-ID */
  possible_duplicate: boolean
}

type Attachment = { filename: string; content: string; contentType: string }
type PurchaseOrderContent = MessageContent & { to: string; from: string; subject: string; html: string; text: string; attachments: Attachment[] }

/** The outbox key of a purchase order's email: one email per order, whoever sends it. */
export function purchaseOrderMailKey(orderId: string): string {
  return `purchase-order:${orderId}`
}

/**
 * Mails the order to its supplier, with the order as a CSV attachment, exactly once per order
 * through the outbox's send-once sequence (actions/messaging/send-once.ts): the outbox row is
 * keyed by the order (not the step), so a retried step, a crash after the hand-over and a later
 * `POST /purchase-orders/:id/send` all find the one row; a resend after a crash carries the same
 * Message-ID and says possible_duplicate. Transactional: no consent, cap or quiet hours (the
 * supplier is not a customer). The CSV is rebuilt from the order on every attempt (its lines do
 * not change once made), so the outbox row keeps the body and the attachment is not stored.
 * Marks the order sent once the email left (or, without SMTP_URL, is final in the outbox).
 */
export async function mailPurchaseOrder(ctx: ActionContext<unknown>, order: PurchaseOrderRecord, supplier: SupplierRecord): Promise<PurchaseOrderMail> {
  const { services, store } = ctx
  const key = purchaseOrderMailKey(order.id)
  const mailCtx: ActionContext<unknown> = { ...ctx, idempotencyKey: key, customer: null }
  const smtpUrl = services.config.smtpUrl
  const from = stringSetting(store.settings, 'mail_from') ?? services.config.mailFrom
  const replyTo = stringSetting(store.settings, 'mail_reply_to')
  const outcome = await sendOnce<PurchaseOrderContent, SmtpResult>(mailCtx, {
    channel: 'email',
    category: 'transactional',
    guardrails: false,
    prepare: () => ({
      content: renderPurchaseOrderMail(order, supplier, store, from, stableMessageId(key, services.config.publicUrl)),
      transport: smtpUrl ? smtpTransport(smtpUrl, store.name, replyTo) : null,
    }),
    log: { sent: 'purchase order emailed', keptInOutbox: 'purchase order kept in outbox (no SMTP_URL)' },
  })
  if (outcome.kind === 'dry_run') throw new Error('mailPurchaseOrder is not called in a dry run')
  await services.purchasing.markSent(order.id, ctx.clock.now().toISOString())
  return {
    message_id: outcome.row.id,
    delivery: outcome.kind === 'kept_in_outbox' || (outcome.kind === 'already_sent' && !smtpUrl) ? 'outbox' : 'smtp',
    already_sent: outcome.kind === 'already_sent',
    possible_duplicate: outcome.kind === 'sent' && outcome.possibleDuplicate,
  }
}

export function purchaseOrderFilename(order: Pick<PurchaseOrderRecord, 'number'>): string {
  return `${order.number}.csv`
}

/** The order in the store's mail layout (its logo, colours and footer, as its customers' mail), and a plain-text part listing the lines. */
function renderPurchaseOrderMail(
  order: PurchaseOrderRecord,
  supplier: SupplierRecord,
  store: { name: string; settings: Record<string, unknown> },
  from: string,
  messageId: string,
): PurchaseOrderContent {
  const storeName = store.name
  const subject = `Purchase order ${order.number} from ${storeName}`.replace(/[\r\n]+/g, ' ')
  const rows = order.lines
    .map(
      (l) =>
        `<tr><td style="padding:4px 8px;">${escapeHtml(l.sku)}</td><td style="padding:4px 8px;">${escapeHtml(l.description ?? '')}</td>` +
        `<td style="padding:4px 8px;text-align:right;">${l.quantity}</td><td style="padding:4px 8px;text-align:right;">${escapeHtml(l.unit_cost ?? '')}</td></tr>`,
    )
    .join('')
  const body =
    `<p>Hello ${escapeHtml(supplier.name)},</p><p>please supply purchase order <strong>${escapeHtml(order.number)}</strong> from ${escapeHtml(storeName)}; ` +
    `the lines are below and in the attached ${escapeHtml(purchaseOrderFilename(order))}.</p>` +
    `<table style="border-collapse:collapse;"><tr><th style="padding:4px 8px;text-align:left;">SKU</th><th style="padding:4px 8px;text-align:left;">Description</th>` +
    `<th style="padding:4px 8px;">Quantity</th><th style="padding:4px 8px;">Unit cost</th></tr>${rows}</table>`
  const { html } = layOutEmail(store, body, null, null)
  const text =
    `Hello ${supplier.name},\n\nplease supply purchase order ${order.number} from ${storeName}; the lines are below and in the attached ${purchaseOrderFilename(order)}.\n\n` +
    order.lines.map((l) => `${l.sku}  ${l.quantity}${l.unit_cost ? ` x ${l.unit_cost}` : ''}  ${l.description ?? ''}`.trimEnd()).join('\n') +
    '\n'
  return {
    to: supplier.email,
    from,
    subject,
    html,
    text,
    headers: {},
    messageId,
    attachments: [{ filename: purchaseOrderFilename(order), content: purchaseOrderCsv(order.lines), contentType: 'text/csv; charset=utf-8' }],
  }
}

function smtpTransport(smtpUrl: string, storeName: string, replyTo: string | undefined): Transport<PurchaseOrderContent, SmtpResult> {
  return {
    send: (mail) =>
      sendSmtp(smtpUrl, {
        from: mail.from.includes('<') ? mail.from : { name: storeName, address: mail.from.trim() },
        to: mail.to,
        ...(replyTo ? { replyTo } : {}),
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        messageId: mail.messageId!,
        headers: mail.headers ?? {},
        attachments: mail.attachments,
      }),
    refused: (err) => err instanceof RetryableError && serverRefused(err),
  }
}

function stringSetting(settings: Record<string, unknown>, key: string): string | undefined {
  const value = settings[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}
