import { TRANSPARENT_GIF, sha256Hex, verifyClickToken, verifyOpenToken, verifyUnsubscribeToken } from '../core/messaging/index.ts'
import { newId } from '../lib/ids.ts'
import { resolveCustomerKey } from '../store/customer-aliases.ts'
import { customerContact } from '../store/customers.repo.ts'
import { countInteraction, messageIdByKey, messageOrigin } from '../store/outbox.repo.ts'
import type { ServiceContext } from './context.ts'

/** What became of an unsubscribe request, said to the customer and nothing more. */
export type UnsubscribeOutcome = 'done' | 'unknown' | 'unreachable' | 'failed'

/**
 * Links in customers' mail: click redirects, the open pixel and unsubscribe. No API key: the
 * signed token is the credential, so it cannot be forged or enumerated.
 */
export function createTrackingService(ctx: ServiceContext) {
  const db = ctx.handle.db
  const secret = ctx.config.secretKey

  const customerRef = async (customerKey: string | null) => {
    if (!customerKey) return null
    const c = await customerContact(db, customerKey)
    return c ? { ...(c.external_id ? { id: c.external_id } : {}), ...(c.email ? { email: c.email } : {}) } : null
  }

  /**
   * Every open and click is counted on the message, but a workflow hears of each once: mail
   * clients prefetch the pixel, link scanners fetch every link, people double-click. The event id
   * is derived from what happened, so the ingest's (store, id) idempotency drops the repeats,
   * across concurrent requests, API nodes and restarts. Clicks are one event per (message, URL),
   * not per message: which link a customer chose is what a workflow branches on, and a second,
   * different link is a second thing they did.
   */
  const messageEvent = async (type: 'message.opened' | 'message.clicked', messageId: string, url?: string, options: { counted?: boolean } = {}) => {
    const message = await messageOrigin(db, messageId)
    if (!message) return false
    if (options.counted !== false) await countInteraction(db, messageId, type === 'message.clicked' ? 'clicks' : 'opens')
    const customer = await customerRef(message.customer_key)
    await ctx.engine.ingest(
      [
        {
          id: type === 'message.opened' ? `opn_${message.id}` : `clk_${message.id}_${sha256Hex(url ?? '').slice(0, 32)}`,
          type,
          store: message.store_id,
          occurred_at: ctx.clock.now().toISOString(),
          data: {
            message_id: message.id,
            customer_id: customer?.id ?? null,
            workflow_id: message.workflow_id,
            ...(url ? { url } : {}),
            ...(customer ? { customer } : {}),
          },
        },
      ],
      { historical: false, source: 'tracking' },
    )
    return true
  }

  /** The message whose unsubscribe link it was, for insight's counters (store/outbox.repo.ts recordMessageTouch). */
  const messageOfLink = async (storeId: string, messageKey: string | undefined) => {
    const id = messageKey ? await messageIdByKey(db, storeId, messageKey) : undefined
    return id ? { message_id: id } : {}
  }

  /**
   * Unsubscribes the customer a link names, wherever a merge has put them since the mail was sent
   * (customer-aliases.ts), and says only what happened: `unknown` when the store has no such
   * customer, `unreachable` when erasure left nothing to mail them at, `failed` when the change
   * did not land.
   */
  /** How long an unsubscribe waits for its event to reach the customer's profile; real ms. */
  const UNSUBSCRIBE_WAIT_MS = 10_000

  const unsubscribe = async (storeId: string, key: string, messageKey?: string): Promise<UnsubscribeOutcome> => {
    const customerKey = await resolveCustomerKey(db, storeId, key)
    if (!customerKey) return 'unknown'
    const row = await customerContact(db, customerKey)
    if (!row) throw new Error(`customer ${customerKey} vanished while unsubscribing`)
    if (row.unsubscribed_at) return 'done' // already unsubscribed: repeating is harmless
    if (!row.external_id && !row.email) return 'unreachable'
    const customer = { ...(row.external_id ? { id: row.external_id } : {}), ...(row.email ? { email: row.email } : {}) }
    const [accepted] = await ctx.engine.ingest(
      [
        {
          id: newId('unsub_'),
          type: 'newsletter.unsubscribed',
          store: storeId,
          occurred_at: ctx.clock.now().toISOString(),
          data: { customer, source: 'unsubscribe_link', ...(await messageOfLink(storeId, messageKey)) },
        },
      ],
      { historical: false, source: 'unsubscribe' },
    )
    // the page says "unsubscribed" only once the customer's profile says so: after the router
    if (!(await ctx.engine.awaitRouted(storeId, accepted!.seq, UNSUBSCRIBE_WAIT_MS))) {
      ctx.log.error({ storeId, customerKey }, 'unsubscribe event stored but not routed in time')
      return 'failed'
    }
    const after = await resolveCustomerKey(db, storeId, customerKey)
    const recorded = after ? await customerContact(db, after) : undefined
    if (recorded?.unsubscribed_at) return 'done'
    ctx.log.error({ storeId, customerKey }, 'unsubscribe event stored but the customer is not unsubscribed')
    return 'failed'
  }

  return {
    /** Where a click link leads, percent-encoded for a Location header (shop URLs carry any language), after counting the click; null when the link is not ours. */
    async click(token: string): Promise<string | null> {
      const verified = verifyClickToken(secret, token)
      if (!verified) return null
      const location = new URL(verified.url).href
      // a click proves the mail was opened, even when the client blocked its images (the pixel):
      // workflows hear of the open first (once, as ever), while the counter keeps pixel loads
      await messageEvent('message.opened', verified.messageId, undefined, { counted: false })
      await messageEvent('message.clicked', verified.messageId, verified.url)
      return location
    },
    /** Counts the open when the pixel is ours; the pixel itself either way. */
    async open(token: string): Promise<Buffer> {
      const verified = verifyOpenToken(secret, token)
      if (verified) await messageEvent('message.opened', verified.messageId)
      return TRANSPARENT_GIF
    },
    /** Whether an unsubscribe link names a customer the store still knows. */
    async unsubscribeLinkKnown(token: string): Promise<boolean> {
      const verified = verifyUnsubscribeToken(secret, token)
      return verified !== null && (await resolveCustomerKey(db, verified.storeId, verified.customerKey)) !== null
    },
    async unsubscribe(token: string): Promise<UnsubscribeOutcome> {
      const verified = verifyUnsubscribeToken(secret, token)
      return verified ? unsubscribe(verified.storeId, verified.customerKey, verified.messageKey) : 'unknown'
    },
  }
}

export type TrackingService = ReturnType<typeof createTrackingService>
