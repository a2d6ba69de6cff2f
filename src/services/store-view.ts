import { templateLintFindings } from '../actions/send-email/render.ts'
import { UserError } from '../lib/errors.ts'
import { customerByRef } from '../store/customers.repo.ts'
import { getStore } from '../store/storage.ts'
import { pageOfList, type PageRequest } from '../store/keyset.ts'
import { listMessages, type MessageFilter } from '../store/outbox.repo.ts'
import { getSettings, updateSettings } from '../store/stores.repo.ts'
import { listMessageTemplates, saveMessageTemplate } from '../store/templates.repo.ts'
import { customerView } from '../store/views.ts'
import { audited } from './audit-log.ts'
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
    async updateSettings(storeId: string, patch: unknown, actor?: string) {
      const settings = await audited(
        ctx,
        storeId,
        actor,
        (trx) => updateSettings(trx, storeId, patch),
        // the names of the settings sent (their values are the store's, shown by GET /settings)
        () => ({ action: 'settings.changed', target_id: '', details: { changed: changedFields(patch) } }),
      )
      ctx.engine.invalidateStore(storeId)
      return settings
    },

    /** The store's own message templates, by name. */
    async messageTemplates(storeId: string, page: PageRequest) {
      return pageOfList(await listMessageTemplates(db, storeId), (t) => t.name, page)
    },
    /**
     * Saves a template; a Liquid mistake is refused now, naming the field and line. `warnings`:
     * what the mail lint finds in it, rendered for a sample order in the store's layout (saved all the same).
     */
    async saveMessageTemplate(storeId: string, name: string, input: unknown) {
      const template = await saveMessageTemplate(db, storeId, name, input, ctx.clock.now())
      const store = await getStore(db, storeId)
      const warnings = store ? await templateLintFindings(template, store, sampleScope(store, ctx.clock.now())) : []
      return { ...template, warnings }
    },
  }
}

/** A customer and an order to render a template over when it is saved, for its warnings. */
function sampleScope(
  store: { id: string; name: string; currency: string; timezone: string; settings: Record<string, unknown> },
  now: Date,
): Record<string, unknown> {
  const lineItems = [{ sku: 'SAMPLE-1', title: 'Canvas tote bag', quantity: 2, price: 29 }]
  const order = { id: '1001', number: '#1001', name: '#1001', currency: store.currency, total_price: 58, line_items: lineItems }
  return {
    customer: { id: '1', email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', orders_count: 1, total_spent: 58, accepts_marketing: true },
    order,
    cart: { id: 'c1', currency: store.currency, total_price: 58, line_items: lineItems },
    trigger: { type: 'order.paid', data: order },
    event: { type: 'order.paid', data: order },
    steps: {},
    vars: {},
    recommendations: [],
    store: { id: store.id, name: store.name, currency: store.currency, timezone: store.timezone, settings: store.settings },
    now,
  }
}

export type StoreViewService = ReturnType<typeof createStoreViewService>

/** `{ name: true }` for each setting a patch sends: what changed, by name, without the values. */
function changedFields(patch: unknown): Record<string, true> {
  return patch && typeof patch === 'object' ? Object.fromEntries(Object.keys(patch).map((k) => [k, true] as const)) : {}
}
