import type { FastifyInstance } from 'fastify'
import { TRANSPARENT_GIF, escapeHtml, sha256Hex, verifyClickToken, verifyOpenToken, verifyUnsubscribeToken } from '../../core/messaging/index.ts'
import { newId } from '../../lib/ids.ts'
import type { App } from '../../main.ts'
import { resolveCustomerKey } from '../../store/customer-aliases.ts'

/**
 * Links in customers' mail: click redirects, the open pixel and unsubscribe. No API key: the
 * signed token is the credential, so it cannot be forged or enumerated.
 */
export function registerTrackingRoutes(server: FastifyInstance, app: App): void {
  const db = app.handle.db
  const secret = app.config.secretKey

  const customerRef = async (customerKey: string | null) => {
    if (!customerKey) return null
    const c = await db.selectFrom('customers').select(['external_id', 'email']).where('key', '=', customerKey).executeTakeFirst()
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
  const messageEvent = async (type: 'message.opened' | 'message.clicked', messageId: string, url?: string) => {
    const message = await db.selectFrom('messages').select(['id', 'store_id', 'customer_key', 'workflow_id']).where('id', '=', messageId).executeTakeFirst()
    if (!message) return false
    const column = type === 'message.clicked' ? 'clicks' : 'opens'
    await db.updateTable('messages').set((eb) => ({ [column]: eb(column, '+', 1) })).where('id', '=', messageId).execute()
    const customer = await customerRef(message.customer_key)
    await app.engine.ingest([{
      id: type === 'message.opened' ? `opn_${message.id}` : `clk_${message.id}_${sha256Hex(url ?? '').slice(0, 32)}`,
      type,
      store: message.store_id,
      occurred_at: app.clock.now().toISOString(),
      data: { message_id: message.id, customer_id: customer?.id ?? null, workflow_id: message.workflow_id, ...(url ? { url } : {}), ...(customer ? { customer } : {}) },
    }], { historical: false, source: 'tracking' })
    return true
  }

  server.get<{ Params: { token: string } }>('/t/c/:token', async (request, reply) => {
    const token = verifyClickToken(secret, request.params.token)
    if (!token) return reply.status(404).type('text/plain').send('This link is not valid.')
    // percent-encoded: a header carries ASCII only, and shop URLs carry any language
    const location = new URL(token.url).href
    await messageEvent('message.clicked', token.messageId, token.url)
    return reply.redirect(location, 302)
  })

  server.get<{ Params: { token: string } }>('/t/o/:token', async (request, reply) => {
    const token = verifyOpenToken(secret, request.params.token)
    if (token) await messageEvent('message.opened', token.messageId)
    return reply.header('cache-control', 'no-store').type('image/gif').send(TRANSPARENT_GIF)
  })

  /**
   * Unsubscribes the customer a link names, wherever a merge has put them since the mail was sent
   * (customer-aliases.ts), and says only what happened: `unknown` when the store has no such
   * customer, `unreachable` when erasure left nothing to mail them at, `failed` when the change
   * did not land.
   */
  const unsubscribe = async (storeId: string, key: string): Promise<'done' | 'unknown' | 'unreachable' | 'failed'> => {
    const customerKey = await resolveCustomerKey(db, storeId, key)
    if (!customerKey) return 'unknown'
    const row = await db.selectFrom('customers').select(['unsubscribed_at', 'external_id', 'email']).where('key', '=', customerKey).executeTakeFirstOrThrow()
    if (row.unsubscribed_at) return 'done' // already unsubscribed: repeating is harmless
    if (!row.external_id && !row.email) return 'unreachable'
    const customer = { ...(row.external_id ? { id: row.external_id } : {}), ...(row.email ? { email: row.email } : {}) }
    await app.engine.ingest([{ id: newId('unsub_'), type: 'newsletter.unsubscribed', store: storeId, occurred_at: app.clock.now().toISOString(), data: { customer, source: 'unsubscribe_link' } }], { historical: false, source: 'unsubscribe' })
    const after = await resolveCustomerKey(db, storeId, customerKey)
    const recorded = after ? await db.selectFrom('customers').select('unsubscribed_at').where('key', '=', after).executeTakeFirst() : undefined
    if (recorded?.unsubscribed_at) return 'done'
    app.log.error({ storeId, customerKey }, 'unsubscribe event stored but the customer is not unsubscribed')
    return 'failed'
  }

  const notFound = () => page('This link is not valid', '<p>This unsubscribe link does not name a subscription we know. If you still receive our marketing email, use the link in the most recent one.</p>')

  // GET shows a confirmation page: mail scanners prefetch links, and a GET must not unsubscribe
  server.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const token = verifyUnsubscribeToken(secret, request.params.token)
    if (!token || !(await resolveCustomerKey(db, token.storeId, token.customerKey))) return reply.status(404).type('text/html').send(notFound())
    const action = `/u/${escapeHtml(request.params.token)}`
    return reply.type('text/html').send(page('Unsubscribe', `<p>Stop receiving marketing email from us?</p><form method="post" action="${action}"><button type="submit">Unsubscribe</button></form>`))
  })

  // RFC 8058 one-click: the mail client POSTs List-Unsubscribe=One-Click; the page's button POSTs too
  server.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const token = verifyUnsubscribeToken(secret, request.params.token)
    const outcome = token ? await unsubscribe(token.storeId, token.customerKey) : 'unknown'
    if (outcome === 'unknown') return reply.status(404).type('text/html').send(notFound())
    if (outcome === 'unreachable') return reply.status(410).type('text/html').send(page('No address on file', '<p>We no longer hold an email address for you, so no marketing email from us can reach you.</p>'))
    if (outcome === 'failed') return reply.status(503).type('text/html').send(page('Please try again', '<p>Your unsubscribe could not be recorded just now. Please try the link again in a few minutes.</p>'))
    return reply.type('text/html').send(page('Unsubscribed', '<p>You have been unsubscribed and will receive no more marketing email from us.</p>'))
  })
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
}
