import type { FastifyInstance } from 'fastify'
import type { App } from '../../main.ts'
import { unsubscribePages } from '../../services/unsubscribe-pages.ts'

/**
 * Links in customers' mail: click redirects, the open pixel and unsubscribe. No API key: the
 * signed token is the credential, so it cannot be forged or enumerated.
 */
export function registerTrackingRoutes(server: FastifyInstance, app: App): void {
  const { tracking } = app.services

  server.get<{ Params: { token: string } }>('/t/c/:token', async (request, reply) => {
    const location = await tracking.click(request.params.token)
    if (location === null) return reply.status(404).type('text/plain').send('This link is not valid.')
    return reply.redirect(location, 302)
  })

  server.get<{ Params: { token: string } }>('/t/o/:token', async (request, reply) => {
    const pixel = await tracking.open(request.params.token)
    return reply.header('cache-control', 'no-store').type('image/gif').send(pixel)
  })

  // GET shows a confirmation page: mail scanners prefetch links, and a GET must not unsubscribe
  server.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    if (!(await tracking.unsubscribeLinkKnown(request.params.token))) return reply.status(404).type('text/html').send(unsubscribePages.notFound())
    return reply.type('text/html').send(unsubscribePages.confirm(request.params.token))
  })

  // RFC 8058 one-click: the mail client POSTs List-Unsubscribe=One-Click; the page's button POSTs too
  server.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const outcome = await tracking.unsubscribe(request.params.token)
    if (outcome === 'unknown') return reply.status(404).type('text/html').send(unsubscribePages.notFound())
    if (outcome === 'unreachable') return reply.status(410).type('text/html').send(unsubscribePages.unreachable())
    if (outcome === 'failed') return reply.status(503).type('text/html').send(unsubscribePages.failed())
    return reply.type('text/html').send(unsubscribePages.done())
  })
}
