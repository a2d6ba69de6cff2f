import type { FastifyError, FastifyInstance } from 'fastify'
import { isDatabaseUnavailable } from '../lib/db-errors.ts'
import { StoreflowError } from '../lib/errors.ts'

/** Every error answers `{ "error": { "code", "message", "details" } }` (docs/http-api.md). */
export function registerErrorHandler(server: FastifyInstance): void {
  server.setErrorHandler((err: FastifyError | StoreflowError | Error, request, reply) => {
    if (err instanceof StoreflowError) {
      return reply.status(err.status).send({ error: { code: err.code, message: err.message, details: err.details ?? null } })
    }
    const fe = err as FastifyError
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({
        error: {
          code: 'payload_too_large',
          message: `request body is larger than the limit of ${request.routeOptions?.bodyLimit ?? server.initialConfig.bodyLimit} bytes`,
          details: null,
        },
      })
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send({ error: { code: 'bad_request', message: fe.message, details: null } })
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = fe.statusCode === 429 ? 'rate_limited' : 'bad_request'
      return reply
        .status(fe.statusCode)
        .send({ error: { code, message: fe.message.replace(/^Body is not valid JSON.*/, 'body is not valid JSON: $&'), details: null } })
    }
    if (isDatabaseUnavailable(err)) {
      // the database is away (restarting, failing over): a client should try again shortly
      request.log.warn({ err: err.message }, 'database unavailable')
      return reply
        .status(503)
        .header('retry-after', '2')
        .send({ error: { code: 'unavailable', message: 'the database is unavailable; try again shortly', details: null } })
    }
    request.log.error({ err }, 'request failed')
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error; see the server log', details: null } })
  })
  server.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: null } })
  })
}
