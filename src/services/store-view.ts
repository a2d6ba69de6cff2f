import { UserError } from '../lib/errors.ts'
import { customerByRef } from '../store/customers.repo.ts'
import { pageOfList, type PageRequest } from '../store/keyset.ts'
import { listMessages, type MessageFilter } from '../store/outbox.repo.ts'
import { getSettings, updateSettings } from '../store/stores.repo.ts'
import { listMessageTemplates, saveMessageTemplate } from '../store/templates.repo.ts'
import { customerView } from '../store/views.ts'
import type { ServiceContext } from './context.ts'

/** What a store holds and shows: its customers, its outbox, its settings and its message templates. */
export function createStoreViewService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** The store's view of a customer named by the shop's id, storeflow's key (cus_…) or the email. */
    async customer(storeId: string, ref: string) {
      const row = await customerByRef(db, storeId, ref)
      if (!row) throw new UserError(`customer "${ref}" not found`, { code: 'not_found' })
      // segments, rfm and loyalty_points are columns kept with the view (store/segments.repo.ts, store/loyalty.repo.ts)
      return customerView(row)
    },

    /** The outbox, newest first. */
    async messages(storeId: string, filter: MessageFilter, page: PageRequest) {
      const { items, next_cursor } = await listMessages(db, storeId, filter, page)
      return {
        items: items.map((m) => ({
          id: m.id,
          channel: m.channel,
          category: m.category,
          status: m.status,
          to: m.to_addr,
          from: m.from_addr,
          subject: m.subject,
          html: m.html,
          text: m.text,
          error: m.error,
          message_id: m.message_id,
          run_id: m.run_id,
          step: m.step_key,
          workflow_id: m.workflow_id,
          opens: m.opens,
          clicks: m.clicks,
          created_at: m.created_at,
          sent_at: m.sent_at,
        })),
        next_cursor,
      }
    },

    settings: (storeId: string) => getSettings(db, storeId),
    /** Changes the named settings; the engine sees them on the next event. */
    async updateSettings(storeId: string, patch: unknown) {
      const settings = await updateSettings(db, storeId, patch)
      ctx.engine.invalidateStore(storeId)
      return settings
    },

    /** The store's own message templates, by name. */
    async messageTemplates(storeId: string, page: PageRequest) {
      return pageOfList(await listMessageTemplates(db, storeId), (t) => t.name, page)
    },
    /** Saves a template; a Liquid mistake is refused now, naming the field and line. */
    saveMessageTemplate: (storeId: string, name: string, input: unknown) => saveMessageTemplate(db, storeId, name, input, ctx.clock.now()),
  }
}

export type StoreViewService = ReturnType<typeof createStoreViewService>
