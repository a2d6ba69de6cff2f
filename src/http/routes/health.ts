import type { FastifyInstance } from 'fastify'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { requireScope } from '../auth.ts'

export function registerHealthRoutes(server: FastifyInstance, app: App): void {
  const { health } = app.services
  server.get('/healthz', async () => ({ status: 'ok' }))

  // ready when the database answers; a load balancer stops sending work otherwise. The route is
  // public, so the answer says only ready or not: why goes to the log for the operator
  server.get('/readyz', async (_request, reply) => {
    if (await health.ready()) return { ready: true }
    return reply.status(503).send({ ready: false })
  })

  server.get('/metrics', async (_request, reply) => {
    const { contentType, text } = await health.metrics()
    return reply.type(contentType).send(text)
  })
  registerWorkerRoutes(server, app)
}

/**
 * The installation's workers (admin). Like its users, they belong to the installation, not to a
 * store: an API key is bound to one store, so only a signed-in dashboard user may list them.
 */
export function registerWorkerRoutes(server: FastifyInstance, app: App): void {
  const { keys, workers } = app.services
  server.get('/api/v1/workers', { preHandler: requireScope(keys, 'admin') }, async (request) => {
    if (!request.sessionUser)
      throw new UserError('workers belong to the installation: sign in to the dashboard to see them (an API key is bound to one store)', { code: 'forbidden' })
    return { items: await workers.list(), next_cursor: null }
  })
}
