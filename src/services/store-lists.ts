import { sendSmtp } from '../actions/send-email/smtp.ts'
import { UserError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import type { PageRequest } from '../store/keyset.ts'
import { getSettings } from '../store/stores.repo.ts'
import { listCarts, listCustomers, listOrders } from '../store/store-lists.repo.ts'
import type { ServiceContext } from './context.ts'

/** The dashboard's store lists (customers, orders, carts) and the SMTP test mail. */
export function createStoreListsService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    customers: (storeId: string, filter: { q?: string }, page: PageRequest) => listCustomers(db, storeId, filter, page),
    orders: (storeId: string, filter: { customer?: string }, page: PageRequest) => listOrders(db, storeId, filter, page),
    carts: (storeId: string, filter: { converted?: boolean }, page: PageRequest) => listCarts(db, storeId, filter, page),

    /** One plain mail to `to` through the installation's SMTP_URL, from the store's sender; the server's reply. */
    async smtpTest(storeId: string, to: string): Promise<{ sent: true; to: string; from: string; response: string }> {
      if (!ctx.config.smtpUrl) throw new UserError('no SMTP configured: set SMTP_URL, e.g. smtp://user:password@smtp.example.com:587', { code: 'conflict' })
      const settings = await getSettings(db, storeId)
      const from = settings.mail_from || ctx.config.mailFrom
      const storeName = settings.store_name ?? storeId
      const domain = from.replace(/^.*@/, '').replace(/>.*$/, '') || 'localhost'
      const result = await sendSmtp(ctx.config.smtpUrl, {
        from,
        to,
        subject: `storeflow test mail from ${storeName}`,
        text: `This is a test mail from storeflow for the store "${storeName}". If you read it, SMTP works.`,
        html: '',
        messageId: `<${newId('test_')}@${domain}>`,
        headers: {},
      }).catch((err: unknown) => {
        throw new UserError(`the SMTP server did not take the mail: ${err instanceof Error ? err.message : String(err)}`, {
          code: 'unavailable',
          details: { field: 'to' },
        })
      })
      return { sent: true, to, from, response: result.response }
    },
  }
}

export type StoreListsService = ReturnType<typeof createStoreListsService>
