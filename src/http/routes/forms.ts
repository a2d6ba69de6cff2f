import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { FORM_LIMITS } from '../../services/forms.ts'

type FormRequest = FastifyRequest<{ Params: { store: string; form: string } }>

/**
 * `POST /forms/:store/:form`: sign-up and contact forms posted by shoppers' browsers, form-encoded
 * or JSON, no key (services/forms.ts says what is checked). CORS answers only the store's own shop
 * origin (its connectors' shop domain): another origin gets no Access-Control-Allow-Origin, so
 * its page cannot read the answer, and its preflight fails.
 */
export function registerFormRoutes(server: FastifyInstance, app: App): void {
  const forms = app.services.forms

  void server.register(async (child) => {
    // the CORS headers go on every answer of the store's origin, errors included, so its page can read why
    const cors = async (request: FormRequest, reply: FastifyReply): Promise<Set<string>> => {
      void reply.header('vary', 'Origin')
      const origins = await forms.origins(request.params.store)
      if (!origins) throw new UserError(`store "${request.params.store}" not found`, { code: 'not_found' })
      const origin = request.headers.origin
      if (typeof origin === 'string' && origins.has(origin)) {
        void reply.header('access-control-allow-origin', origin)
        void reply.header('access-control-allow-methods', 'POST')
        void reply.header('access-control-allow-headers', 'content-type')
        void reply.header('access-control-max-age', '600')
      }
      return origins
    }

    child.options<{ Params: { store: string; form: string } }>('/forms/:store/:form', async (request, reply) => {
      await cors(request, reply)
      return reply.status(204).send()
    })

    child.post<{ Params: { store: string; form: string } }>('/forms/:store/:form', { bodyLimit: FORM_LIMITS.bodyBytes }, async (request, reply) => {
      const wait = forms.rateLimited(request.params.store, request.ip)
      if (wait !== null) {
        void reply.header('retry-after', String(wait))
        throw new UserError(`rate limited: a client may send ${forms.describeRate()} to a store (STOREFLOW_FORM_RATE_LIMIT); retry in ${wait}s`, {
          code: 'rate_limited',
          details: { retry_after: wait },
        })
      }
      const origins = await cors(request, reply)
      const outcome = await forms.submit(request.params.store, request.params.form, formBody(request), origins)
      if (outcome.redirect) return reply.status(303).header('location', outcome.redirect).send()
      return reply.status(202).send({ id: outcome.id, duplicate: false })
    })
  })
}

/** The body's fields: JSON as sent (an object), a form-encoded body decoded (a repeated name keeps its last value). */
function formBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body as unknown
  const type = String(request.headers['content-type'] ?? '').toLowerCase()
  if (typeof body === 'string') {
    if (type.startsWith('multipart/form-data')) {
      throw new UserError('body: send the form as application/x-www-form-urlencoded (the default of an HTML form) or JSON, not multipart/form-data', {
        code: 'validation_failed',
        details: { field: 'body' },
      })
    }
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      throw new UserError(`body: send application/x-www-form-urlencoded or application/json (got ${type || 'none'})`, {
        code: 'validation_failed',
        details: { field: 'body' },
      })
    }
    const fields: Record<string, unknown> = {}
    for (const [name, value] of new URLSearchParams(body)) fields[name] = value
    return fields
  }
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new UserError('body: must be an object of fields', { code: 'validation_failed', details: { field: 'body' } })
  }
  return body as Record<string, unknown>
}
