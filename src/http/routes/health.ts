import type { FastifyInstance } from 'fastify'
import { Registry, collectDefaultMetrics, Gauge } from 'prom-client'
import type { App } from '../../main.ts'
import { ping } from '../../store/db.ts'

export function registerHealthRoutes(server: FastifyInstance, app: App): void {
  server.get('/healthz', async () => ({ status: 'ok' }))

  // ready when the database answers; a load balancer stops sending work otherwise. The route is
  // public, so the answer says only ready or not: why (a database error can name hosts, users,
  // schemas) goes to the log for the operator
  server.get('/readyz', async (_request, reply) => {
    try {
      await ping(app.handle)
      return { ready: true }
    } catch (err) {
      app.log.warn({ err }, 'not ready: the database does not answer')
      return reply.status(503).send({ ready: false })
    }
  })

  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'storeflow_' })
  const runs = new Gauge({ name: 'storeflow_runs', help: 'Runs by status', labelNames: ['status'], registers: [registry] })
  const due = new Gauge({ name: 'storeflow_runs_due', help: 'Runs due now and not yet taken by a worker', registers: [registry] })
  const events = new Gauge({ name: 'storeflow_events_total', help: 'Events stored', registers: [registry] })
  server.get('/metrics', async (_request, reply) => {
    const db = app.handle.db
    const byStatus = await db.selectFrom('runs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute()
    runs.reset()
    for (const row of byStatus) runs.set({ status: row.status }, Number(row.n))
    const now = app.clock.now().toISOString()
    due.set(Number((await db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('n')).where('due_at', '<=', now).executeTakeFirstOrThrow()).n))
    events.set(Number((await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n))
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
