import Fastify, { type FastifyInstance } from 'fastify'
import type { App } from '../main.ts'

/**
 * `storeflow worker --metrics-port`: a server of GET /metrics alone, so Prometheus can scrape a
 * worker process for what only it can tell (the steps it carried out, its Node.js figures)
 * besides the database's figures every process reports (docs/operating.md).
 */
export function buildMetricsServer(app: App): FastifyInstance {
  const server = Fastify({ logger: false })
  server.get('/metrics', async (_request, reply) => {
    const { contentType, text } = await app.services.health.metrics()
    return reply.type(contentType).send(text)
  })
  return server
}
