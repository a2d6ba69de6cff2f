import type { FastifyInstance } from 'fastify'
import { Registry, collectDefaultMetrics, Gauge } from 'prom-client'
import type { App } from '../../main.ts'

export function registerHealthRoutes(server: FastifyInstance, app: App): void {
  const { health } = app.services
  server.get('/healthz', async () => ({ status: 'ok' }))

  // ready when the database answers; a load balancer stops sending work otherwise. The route is
  // public, so the answer says only ready or not: why goes to the log for the operator
  server.get('/readyz', async (_request, reply) => {
    if (await health.ready()) return { ready: true }
    return reply.status(503).send({ ready: false })
  })

  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'storeflow_' })
  const runs = new Gauge({ name: 'storeflow_runs', help: 'Runs by status', labelNames: ['status'], registers: [registry] })
  const due = new Gauge({ name: 'storeflow_runs_due', help: 'Runs due now and not yet taken by a worker', registers: [registry] })
  const events = new Gauge({ name: 'storeflow_events_total', help: 'Events stored', registers: [registry] })
  const unrouted = new Gauge({
    name: 'storeflow_events_unrouted',
    help: 'Events accepted and not yet routed (what they cause is still to come): the routers lag',
    registers: [registry],
  })
  server.get('/metrics', async (_request, reply) => {
    const counts = await health.counts()
    runs.reset()
    for (const row of counts.runsByStatus) runs.set({ status: row.status }, row.count)
    due.set(counts.runsDue)
    events.set(counts.events)
    unrouted.set(counts.eventsUnrouted)
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
