import type { FastifyInstance } from 'fastify'
import { UserError } from '../../lib/errors.ts'
import type { App } from '../../main.ts'
import { getSettings, updateSettings } from '../../store/stores.repo.ts'
import { listMessageTemplates, saveMessageTemplate } from '../../store/templates.repo.ts'
import { customerView } from '../../store/views.ts'
import { decodeCursor, encodeCursor } from '../../store/runs.repo.ts'
import { requireScope } from '../auth.ts'
import { parseLimit, pageOf } from '../pagination.ts'

export function registerStoreViewRoutes(server: FastifyInstance, app: App): void {
  const db = app.handle.db
  const read = requireScope(app.services.keys, 'read')
  const admin = requireScope(app.services.keys, 'admin')

  // :id is the shop's customer id; storeflow's key (cus_…) and the email work too
  server.get<{ Params: { id: string } }>('/api/v1/customers/:id', { preHandler: read }, async (request) => {
    const id = request.params.id
    const row = await db.selectFrom('customers').selectAll().where('store_id', '=', request.storeId)
      .where((eb) => eb.or([eb('external_id', '=', id), eb('key', '=', id), eb('email', '=', id.toLowerCase())]))
      .orderBy('created_at').executeTakeFirst()
    if (!row) throw new UserError(`customer "${id}" not found`, { code: 'not_found' })
    const view = customerView(row)
    return { ...view, segments: [], rfm: null, loyalty_points: 0 }
  })

  server.get<{ Querystring: { status?: string; channel?: string; customer?: string; limit?: string; cursor?: string } }>('/api/v1/messages', { preHandler: read }, async (request) => {
    const limit = parseLimit(request.query.limit)
    let q = db.selectFrom('messages').selectAll().where('store_id', '=', request.storeId)
    if (request.query.status) q = q.where('status', '=', request.query.status)
    if (request.query.channel) q = q.where('channel', '=', request.query.channel)
    if (request.query.customer) q = q.where('customer_key', '=', request.query.customer)
    if (request.query.cursor) {
      const [createdAt, id] = decodeCursor(request.query.cursor)
      q = q.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]))
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute()
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    return {
      items: page.map((m) => ({
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
      next_cursor: rows.length > limit && last ? encodeCursor([last.created_at, last.id]) : null,
    }
  })

  server.get('/api/v1/settings', { preHandler: read }, async (request) => getSettings(db, request.storeId))
  server.put('/api/v1/settings', { preHandler: admin }, async (request) => {
    const settings = await updateSettings(db, request.storeId, request.body ?? {})
    app.engine.invalidateStore(request.storeId)
    return settings
  })
}

export function registerMessageTemplateRoutes(server: FastifyInstance, app: App): void {
  const db = app.handle.db
  server.get<{ Querystring: { limit?: string; cursor?: string } }>('/api/v1/message-templates', { preHandler: requireScope(app.services.keys, 'read') }, async (request) => pageOf(await listMessageTemplates(db, request.storeId), (t) => t.name, request.query))
  server.put<{ Params: { name: string } }>('/api/v1/message-templates/:name', { preHandler: requireScope(app.services.keys, 'admin') }, async (request) => saveMessageTemplate(db, request.storeId, request.params.name, request.body, app.clock.now()))
}
