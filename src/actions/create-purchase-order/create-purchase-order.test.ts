import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { actionContext } from '../../../test/helpers/action-context.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../../../test/helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../../../test/helpers/smtp-sink.ts'
import { event, installWorkflow } from '../../../test/helpers/workflows.ts'
import { parseEvent } from '../../contracts/events.ts'
import { purchaseOrderCsv } from '../../core/purchasing/purchasing.ts'
import { buildServer } from '../../http/server.ts'
import { createOutboundClient } from '../../lib/guarded-request.ts'
import { createStorage } from '../../store/storage.ts'
import { createKey, createStore } from '../../store/stores.repo.ts'
import { closeSmtpTransports } from '../send-email/index.ts'
import { createPurchaseOrder } from './create-purchase-order.action.ts'

/**
 * create_purchase_order end to end: suppliers through the API, orders grouped by supplier and
 * numbered per store, emailed once with the order as CSV (read back from a real SMTP server and
 * parsed), received into stock through the log, and each store walled off from the other.
 */

/** RFC 4180, as a spreadsheet reads it: quoted cells, doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += c
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell])
  return rows
}

// a product title a shop's staff could type: a comma, quotes, and a formula a spreadsheet would run
const HOSTILE_TITLE = '=HYPERLINK("http://evil.example","Mug, red")'

const LOW_STOCK = `
id: low-stock-po
name: Low-stock purchase order
trigger: { event: inventory.low }
steps:
  - id: po
    action: create_purchase_order
    with: { sku: '{{ trigger.data.sku }}', send: true }
  - action: log
    with: { message: 'purchase order {{ steps.po.number }} sent' }
`

const RESTOCK = `
id: restock
name: Restock by hand
trigger: { event: raw.restock }
steps:
  - id: po
    action: create_purchase_order
    with:
      send: false
      lines:
        - { sku: MUG-RED, quantity: 5, unit_cost: '3.10' }
        - { sku: TEE-1, quantity: 7, unit_cost: 9, description: '+44 "quoted", with comma' }
        - { sku: MUG-BLUE, quantity: 30 }
`

describe.each(DIALECTS)('purchasing on %s', (dialect) => {
  let smtp: SmtpSink
  let env: TestEnv
  let server: FastifyInstance
  const keys: Record<string, string> = {}
  beforeAll(async () => {
    smtp = await startSmtpSink()
  })
  afterAll(async () => {
    closeSmtpTransports()
    await smtp.close()
  })
  beforeEach(async () => {
    smtp.received.length = 0
    env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url } })
    await createStore(env.app.handle.db, { id: 'b', name: 'Store B' }, env.clock.now())
    for (const store of ['default', 'b']) {
      keys[`${store}:admin`] = (await createKey(env.app.handle.db, store, 'admin', env.clock.now())).key
      keys[`${store}:read`] = (await createKey(env.app.handle.db, store, 'read', env.clock.now())).key
    }
    server = await buildServer(env.app)
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  const api = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
    options: { store?: string; scope?: string; headers?: Record<string, string> } = {},
  ) =>
    server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${keys[`${options.store ?? 'default'}:${options.scope ?? 'admin'}`]}`, ...options.headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    })
  const send = async (raw: ReturnType<typeof event>, store = 'default') => {
    const parsed = parseEvent({ ...raw, store }, { store, now: env.clock.now() })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    await env.app.engine.drain()
  }
  const suppliers = async (store = 'default') => {
    const acme = await api(
      'POST',
      '/api/v1/suppliers',
      { id: 'acme', name: 'Acme Mugs', email: 'orders@acme.test', lead_time_days: 7, min_order_quantity: 24, skus: ['MUG-RED', 'MUG-BLUE'] },
      { store },
    )
    expect(acme.statusCode, acme.body).toBe(201)
    const bolt = await api(
      'POST',
      '/api/v1/suppliers',
      { id: 'bolt', name: 'Bolt Textiles', email: 'po@bolt.test', lead_time_days: 14, min_order_quantity: 1, skus: ['TEE-1'] },
      { store },
    )
    expect(bolt.statusCode, bolt.body).toBe(201)
  }
  const catalogue = (store = 'default') =>
    send(
      event('product.updated', 'prod-1', {
        id: 'p1',
        title: HOSTILE_TITLE,
        status: 'active',
        variants: [
          { id: 'v1', sku: 'MUG-RED', price: '12.00' },
          { id: 'v2', sku: 'MUG-BLUE', price: '12.00' },
        ],
      }),
      store,
    )
  const runOf = async (workflowId: string, store = 'default') => {
    const runs = (await api('GET', `/api/v1/runs?workflow=${workflowId}`, undefined, { store })).json().items as Array<{ id: string }>
    expect(runs).toHaveLength(1)
    return (await api('GET', `/api/v1/runs/${runs[0]!.id}`, undefined, { store })).json() as {
      status: string
      steps: Array<{ id: string; status: string; output?: Record<string, unknown>; error?: unknown }>
    }
  }

  it("an inventory.low event orders the suggested quantity from its supplier, mailed once with the order as CSV, in the store's mail layout", async () => {
    await suppliers()
    await catalogue()
    const branded = await api('PUT', '/api/v1/settings', { brand: { logo_url: 'https://example.com/logo.png', primary_color: '#0f766e' } })
    expect(branded.statusCode, branded.body).toBe(200)
    await send(event('inventory.updated', 'inv-1', { sku: 'MUG-RED', available: 3 }))
    await installWorkflow(env.app, LOW_STOCK)
    // 2 × 20 − 3 = 37 (above Acme's minimum of 24)
    await send(event('inventory.low', 'low-1', { sku: 'MUG-RED', available: 3, reorder_point: 20 }))
    const [mail] = await smtp.waitForMessages(1)
    expect(mail!.to).toMatchObject({ value: [{ address: 'orders@acme.test' }] })
    expect(mail!.subject).toBe('Purchase order PO-000001 from My store')
    expect(String(mail!.html)).toContain('=HYPERLINK(&quot;http://evil.example&quot;,&quot;Mug, red&quot;)')
    // the store's logo and colour, as in its customers' mail
    expect(String(mail!.html)).toContain('src="https://example.com/logo.png"')
    expect(String(mail!.html).toLowerCase()).toContain('#0f766e')
    expect(mail!.attachments).toHaveLength(1)
    const attachment = mail!.attachments[0]!
    expect(attachment.filename).toBe('PO-000001.csv')
    expect(attachment.contentType).toBe('text/csv')
    const csv = attachment.content.toString('utf8')
    expect(parseCsv(csv)).toEqual([
      ['sku', 'quantity', 'unit_cost', 'description'],
      // the formula is neutralised with a leading ', the comma and quotes survive RFC 4180 quoting
      ['MUG-RED', '37', '', `'${HOSTILE_TITLE}`],
    ])

    const run = await runOf('low-stock-po')
    expect(run.status).toBe('completed')
    const output = run.steps.find((s) => s.id === 'po')!.output as { purchase_orders: Array<Record<string, unknown>> }
    expect(output).toMatchObject({ number: 'PO-000001', already_created: false })
    expect(output.purchase_orders).toEqual([
      expect.objectContaining({
        number: 'PO-000001',
        supplier_id: 'acme',
        status: 'sent',
        email: expect.objectContaining({ delivery: 'smtp', already_sent: false }),
      }),
    ])
    const listed = (await api('GET', '/api/v1/purchase-orders', undefined, { scope: 'read' })).json()
    expect(listed.items).toEqual([
      expect.objectContaining({
        number: 'PO-000001',
        supplier_id: 'acme',
        status: 'sent',
        lines: [expect.objectContaining({ sku: 'MUG-RED', quantity: 37, unit_cost: null })],
        created_at: '2026-03-02T10:00:00.000Z',
      }),
    ])
    expect(listed.next_cursor).toBeNull()
  })

  it('with sales to forecast from, it orders what the forecast suggests for the supplier (the same figure GET /inventory/forecast shows)', async () => {
    await suppliers()
    await catalogue()
    await send(event('inventory.updated', 'inv-1', { sku: 'MUG-RED', available: 3 }))
    // eight weeks of sales as history: 1 to 7 mugs a day, Monday to Sunday
    const history = Array.from({ length: 56 }, (_, d) => {
      const day = new Date(Date.parse('2026-01-04T12:00:00Z') + d * 86_400_000).toISOString()
      const quantity = 1 + (d % 7)
      return event(
        'order.paid',
        `h-${d}`,
        { id: `h${d}`, currency: 'USD', total_price: '12.00', created_at: day, line_items: [{ sku: 'MUG-RED', quantity, price: '12.00' }] },
        day,
      )
    }).map((raw) => {
      const parsed = parseEvent(raw, { store: 'default', now: env.clock.now() })
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
      return parsed.event
    })
    await env.app.engine.ingest(history, { historical: true, source: 'test' })
    await env.app.engine.drain()
    const forecast = (await api('GET', '/api/v1/inventory/forecast?sku=MUG-RED&lead_time_days=7', undefined, { scope: 'read' })).json()
    expect(forecast.daily_demand).toBeGreaterThan(0)
    await installWorkflow(env.app, LOW_STOCK)
    await send(event('inventory.low', 'low-1', { sku: 'MUG-RED', available: 3, reorder_point: 20 }))
    await smtp.waitForMessages(1)
    const listed = (await api('GET', '/api/v1/purchase-orders', undefined, { scope: 'read' })).json()
    const quantity = listed.items[0].lines[0].quantity as number
    expect(quantity).toBe(Math.max(forecast.suggested_quantity, 24))
    expect(quantity).not.toBe(37)
  })

  it('groups given lines by supplier, raises each to the minimum, numbers per store, and sends a draft once on request', async () => {
    await suppliers()
    await suppliers('b')
    await catalogue()
    await installWorkflow(env.app, RESTOCK)
    await installWorkflow(env.app, RESTOCK, { store: 'b' })
    await send(event('raw.restock', 'r-1', {}))
    await send(event('raw.restock', 'r-1', {}), 'b')
    await send(event('raw.restock', 'r-2', {}))
    expect(smtp.received).toHaveLength(0)

    const a = (await api('GET', '/api/v1/purchase-orders?limit=10')).json().items as Array<{
      id: string
      number: string
      supplier_id: string
      status: string
      lines: unknown[]
    }>
    const b = (await api('GET', '/api/v1/purchase-orders', undefined, { store: 'b' })).json().items as Array<{ id: string; number: string }>
    // newest first; one order per supplier per run, numbered in sequence per store
    expect(a.map((o) => [o.number, o.supplier_id, o.status]).sort()).toEqual([
      ['PO-000001', 'acme', 'draft'],
      ['PO-000002', 'bolt', 'draft'],
      ['PO-000003', 'acme', 'draft'],
      ['PO-000004', 'bolt', 'draft'],
    ])
    expect(b.map((o) => o.number).sort()).toEqual(['PO-000001', 'PO-000002'])
    const first = (await api('GET', '/api/v1/purchase-orders/PO-000001')).json()
    expect(first).toMatchObject({
      supplier_id: 'acme',
      lines: [
        // 5 raised to Acme's minimum of 24
        { sku: 'MUG-RED', quantity: 24, unit_cost: 3.1, description: HOSTILE_TITLE, received: 0 },
        { sku: 'MUG-BLUE', quantity: 30, unit_cost: null, description: HOSTILE_TITLE, received: 0 },
      ],
    })
    // store B cannot read, send or receive A's orders, not even by the number both have
    expect((await api('GET', `/api/v1/purchase-orders/${first.id}`, undefined, { store: 'b' })).statusCode).toBe(404)
    expect((await api('POST', `/api/v1/purchase-orders/${first.id}/send`, undefined, { store: 'b' })).statusCode).toBe(404)
    expect((await api('POST', `/api/v1/purchase-orders/${first.id}/receive`, { lines: [{ sku: 'MUG-RED', quantity: 1 }] }, { store: 'b' })).statusCode).toBe(
      404,
    )
    expect((await api('GET', '/api/v1/purchase-orders/PO-000001', undefined, { store: 'b' })).json().id).not.toBe(first.id)

    // a read key may not send
    expect((await api('POST', '/api/v1/purchase-orders/PO-000002/send', undefined, { scope: 'read' })).statusCode).toBe(403)
    const sent = await api('POST', '/api/v1/purchase-orders/PO-000002/send')
    expect(sent.statusCode, sent.body).toBe(200)
    expect(sent.json()).toMatchObject({ number: 'PO-000002', status: 'sent', email: { delivery: 'smtp', already_sent: false } })
    const again = await api('POST', '/api/v1/purchase-orders/PO-000002/send')
    expect(again.json()).toMatchObject({ status: 'sent', email: { already_sent: true } })
    const [mail] = await smtp.waitForMessages(1)
    expect(smtp.received).toHaveLength(1)
    expect(mail!.to).toMatchObject({ value: [{ address: 'po@bolt.test' }] })
    expect(parseCsv(mail!.attachments[0]!.content.toString('utf8'))).toEqual([
      ['sku', 'quantity', 'unit_cost', 'description'],
      ['TEE-1', '7', '9', `'+44 "quoted", with comma`],
    ])
    expect((await api('GET', '/api/v1/purchase-orders?status=sent')).json().items.map((o: { number: string }) => o.number)).toEqual(['PO-000002'])
    expect((await api('GET', '/api/v1/purchase-orders?status=shipped')).json()).toMatchObject({ error: { details: { field: 'status' } } })
  })

  it('a retried step makes and sends nothing twice', async () => {
    await suppliers()
    const storage = createStorage(
      env.app.handle,
      { smtpUrl: smtp.url, allowPrivateHttp: true, publicUrl: 'https://shop.example.test', secretKey: 'k', mailFrom: 'shop@example.test' },
      env.clock,
      createOutboundClient({ allowPrivate: true }),
    )
    const services = storage.services('default', async () => ({ id: 'x', duplicate: false }))
    const input = createPurchaseOrder.input.parse({
      lines: [
        { sku: 'MUG-RED', quantity: 40 },
        { sku: 'TEE-1', quantity: 2 },
      ],
      send: true,
    })
    const first = await createPurchaseOrder.run(actionContext(input, { services, clock: env.clock, runId: 'run_retry', stepKey: 'po', customer: null }))
    await smtp.waitForMessages(2)
    // the engine tries the step again (a crash after the sends, before the outcome was recorded)
    const second = await createPurchaseOrder.run(
      actionContext(input, { services, clock: env.clock, runId: 'run_retry', stepKey: 'po', customer: null, attempt: 2 }),
    )
    expect(first.already_created).toBe(false)
    expect(second.already_created).toBe(true)
    expect(second.purchase_orders.map((o) => [o.id, o.number, o.status])).toEqual(first.purchase_orders.map((o) => [o.id, o.number, 'sent']))
    expect(second.purchase_orders.map((o) => o.email?.already_sent)).toEqual([true, true])
    expect(smtp.received).toHaveLength(2)
    expect((await api('GET', '/api/v1/purchase-orders')).json().items).toHaveLength(2)
    // a simulation plans and makes nothing
    const planned = await createPurchaseOrder.run(
      actionContext(input, { services, clock: env.clock, runId: 'run_sim', stepKey: 'po', customer: null, dryRun: true }),
    )
    expect(planned.purchase_orders.map((o) => [o.supplier_id, o.lines.map((l) => l.quantity)])).toEqual([
      ['acme', [40]],
      ['bolt', [2]],
    ])
    expect((await api('GET', '/api/v1/purchase-orders')).json().items).toHaveLength(2)
    expect(smtp.received).toHaveLength(2)
  })

  it('a hand-over cut off mid-way is sent again with the same Message-ID, said to be a possible duplicate, and the order stays one', async () => {
    await suppliers()
    const storage = createStorage(
      env.app.handle,
      { smtpUrl: smtp.url, allowPrivateHttp: true, publicUrl: 'https://shop.example.test', secretKey: 'k', mailFrom: 'shop@example.test' },
      env.clock,
      createOutboundClient({ allowPrivate: true }),
    )
    const services = storage.services('default', async () => ({ id: 'x', duplicate: false }))
    const input = createPurchaseOrder.input.parse({ lines: [{ sku: 'TEE-1', quantity: 3 }], send: true })
    const ctx = (attempt: number) => actionContext(input, { services, clock: env.clock, runId: 'run_cut', stepKey: 'po', customer: null, attempt })
    // the server takes the message but the connection closes before its answer
    smtp.dropConnectionAfterData(1)
    const cut = await createPurchaseOrder.run(ctx(1)).catch((e: unknown) => e)
    expect(cut).toBeInstanceOf(Error)
    expect((await api('GET', '/api/v1/purchase-orders/PO-000001')).json().status).toBe('draft')
    const retried = await createPurchaseOrder.run(ctx(2))
    expect(retried.already_created).toBe(true)
    expect(retried.purchase_orders[0]).toMatchObject({ number: 'PO-000001', status: 'sent', email: { possible_duplicate: true, already_sent: false } })
    const mails = await smtp.waitForMessages(2)
    expect(mails[0]!.messageId).toBe(mails[1]!.messageId)
    expect(smtp.deliveries().get(mails[0]!.messageId!)).toBe(2)
    expect((await api('GET', '/api/v1/purchase-orders')).json().items).toHaveLength(1)
    // and the order's email never leaves a third time, whoever asks
    expect((await api('POST', '/api/v1/purchase-orders/PO-000001/send')).json()).toMatchObject({ email: { already_sent: true } })
    expect(smtp.received).toHaveLength(2)
  })

  it('a suggestion over the 10000000 units a line may hold (an inventory.low with an absurd reorder point) fails the step naming the SKU: nothing ordered, nothing mailed', async () => {
    await suppliers()
    await catalogue()
    await installWorkflow(env.app, LOW_STOCK)
    await send(event('inventory.low', 'low-huge', { sku: 'MUG-RED', available: 0, reorder_point: 4_000_000_000_000_000 }))
    const run = await runOf('low-stock-po')
    expect(run.status).toBe('failed')
    const error = JSON.stringify(run.steps.find((s) => s.id === 'po')!.error)
    expect(error).toContain('MUG-RED')
    expect(error).toContain('10000000')
    expect((await api('GET', '/api/v1/purchase-orders')).json().items).toEqual([])
    expect(smtp.received).toHaveLength(0)
  })

  it('a SKU no supplier lists fails the step naming it, and nothing is ordered', async () => {
    await suppliers()
    await installWorkflow(env.app, LOW_STOCK)
    await send(event('inventory.low', 'low-x', { sku: 'NO-SUCH-SKU', available: 0, reorder_point: 5 }))
    const run = await runOf('low-stock-po')
    expect(run.status).toBe('failed')
    expect(JSON.stringify(run.steps.find((s) => s.id === 'po')!.error)).toContain('no supplier lists SKU \\"NO-SUCH-SKU\\"')
    expect((await api('GET', '/api/v1/purchase-orders')).json().items).toEqual([])
  })

  it('receipts add to stock through the log, partial then full; a repeated receipt adds nothing; over-receipt is a 400', async () => {
    await suppliers()
    await catalogue()
    await send(event('inventory.updated', 'inv-1', { sku: 'MUG-RED', available: 3 }))
    await installWorkflow(env.app, RESTOCK)
    await installWorkflow(
      env.app,
      `
id: po-received
name: Tell the team
trigger: { event: purchase_order.received }
when: 'event.data.purchase_order.status == "received"'
steps:
  - action: log
    with: { message: 'received {{ trigger.data.purchase_order.number }}' }
`,
    )
    await send(event('raw.restock', 'r-1', {}))
    const receive = (lines: unknown, key?: string) =>
      api('POST', '/api/v1/purchase-orders/PO-000001/receive', { lines }, key ? { headers: { 'idempotency-key': key } } : {})

    const partial = await receive([{ sku: 'MUG-RED', quantity: 10 }], 'delivery-1')
    expect(partial.statusCode, partial.body).toBe(200)
    expect(partial.json()).toMatchObject({ status: 'draft', duplicate: false, stock: [{ sku: 'MUG-RED', available: 13 }] })
    expect(partial.json().lines[0]).toMatchObject({ sku: 'MUG-RED', quantity: 24, received: 10 })
    // the same request again (a client retrying after a lost answer): nothing added twice
    const repeated = await receive([{ sku: 'MUG-RED', quantity: 10 }], 'delivery-1')
    expect(repeated.json()).toMatchObject({ duplicate: true, stock: [{ sku: 'MUG-RED', available: 13 }] })

    const over = await receive([{ sku: 'MUG-RED', quantity: 15 }])
    expect(over.statusCode).toBe(400)
    expect(over.json().error).toMatchObject({ code: 'validation_failed', details: { field: 'lines[0].quantity' } })
    expect(over.json().error.message).toContain('only 14 of the 24 ordered are outstanding')
    const stranger = await receive([
      { sku: 'MUG-RED', quantity: 1 },
      { sku: 'TEE-1', quantity: 1 },
    ])
    expect(stranger.json().error).toMatchObject({ details: { field: 'lines[1].sku' } })
    expect((await receive([{ sku: 'MUG-RED', quantity: 0 }])).json().error).toMatchObject({ details: { field: 'lines[0].quantity' } })
    expect((await api('POST', '/api/v1/purchase-orders/PO-000001/receive', { lines: 'all' })).json().error).toMatchObject({ details: { field: 'lines' } })
    expect((await api('POST', '/api/v1/purchase-orders/PO-000001/receive', { lines: [{ sku: 'MUG-RED', quantity: 1 }] }, { scope: 'read' })).statusCode).toBe(
      403,
    )
    expect((await api('POST', '/api/v1/purchase-orders/PO-999999/receive', { lines: [{ sku: 'MUG-RED', quantity: 1 }] })).statusCode).toBe(404)

    const full = await receive(
      [
        { sku: 'MUG-RED', quantity: 14 },
        { sku: 'MUG-BLUE', quantity: 30 },
      ],
      'delivery-2',
    )
    expect(full.statusCode, full.body).toBe(200)
    expect(full.json()).toMatchObject({
      status: 'received',
      stock: [
        { sku: 'MUG-RED', available: 27 },
        // a SKU the view had no stock of: what arrived
        { sku: 'MUG-BLUE', available: 30 },
      ],
    })
    expect((await api('GET', '/api/v1/purchase-orders/PO-000001')).json()).toMatchObject({ status: 'received', received_at: '2026-03-02T10:00:00.000Z' })
    expect((await receive([{ sku: 'MUG-RED', quantity: 1 }])).json().error).toMatchObject({ details: { field: 'lines[0].quantity' } })

    // the receipts are events in the log: a workflow heard the one that completed the order
    await env.app.engine.drain()
    const runs = (await api('GET', '/api/v1/runs?workflow=po-received')).json().items as Array<{ status: string }>
    expect(runs.map((r) => r.status)).toEqual(['completed'])
    const events = (await api('GET', '/api/v1/events?type=purchase_order.received')).json().items as Array<{ data: { lines: unknown } }>
    expect(events.map((e) => e.data.lines)).toEqual([
      [
        { sku: 'MUG-RED', quantity: 14 },
        { sku: 'MUG-BLUE', quantity: 30 },
      ],
      [{ sku: 'MUG-RED', quantity: 10 }],
    ])
    // an event sent to the API under this type names no receipt: it moves no stock
    await send(
      event('purchase_order.received', 'forged', {
        purchase_order: { id: 'po_x', number: 'PO-1', supplier_id: 'acme', status: 'received' },
        receipt_id: 'r',
        lines: [{ sku: 'MUG-RED', quantity: 1000 }],
      }),
    )
    const stock = await env.app.handle.db
      .selectFrom('variants')
      .select(['sku', 'inventory_quantity'])
      .where('store_id', '=', 'default')
      .orderBy('sku')
      .execute()
    expect(stock.map((v) => [v.sku, v.inventory_quantity])).toEqual([
      ['MUG-BLUE', null],
      ['MUG-RED', 27],
    ])
  })

  it('a receipt that would put stock past the range storage holds is a 400 naming the line, and nothing of it is booked', async () => {
    await suppliers()
    await catalogue()
    // stock near the top of the range (an inventory count storeflow keeps as a 32-bit integer on PostgreSQL)
    await send(event('inventory.updated', 'inv-1', { sku: 'MUG-RED', available: 1_999_999_990 }))
    await installWorkflow(env.app, RESTOCK)
    await send(event('raw.restock', 'r-1', {}))
    const receive = (lines: unknown, key: string) =>
      api('POST', '/api/v1/purchase-orders/PO-000001/receive', { lines }, { headers: { 'idempotency-key': key } })
    // two lines of one SKU: together 12 units, 2 too many
    const over = await receive(
      [
        { sku: 'MUG-RED', quantity: 6 },
        { sku: 'MUG-RED', quantity: 6 },
      ],
      'over',
    )
    expect(over.statusCode, over.body).toBe(400)
    expect(over.json().error).toMatchObject({ code: 'validation_failed', details: { field: 'lines[1].quantity' } })
    expect(over.json().error.message).toContain('MUG-RED')
    // nothing booked: the order counts nothing received, no receipt event, the stock is as it was
    expect((await api('GET', '/api/v1/purchase-orders/PO-000001')).json().lines[0]).toMatchObject({ sku: 'MUG-RED', received: 0 })
    expect((await api('GET', '/api/v1/events?type=purchase_order.received')).json().items).toEqual([])
    // what fits is booked and reaches the stock
    const fits = await receive([{ sku: 'MUG-RED', quantity: 10 }], 'fits')
    expect(fits.statusCode, fits.body).toBe(200)
    expect(fits.json()).toMatchObject({ duplicate: false, stock: [{ sku: 'MUG-RED', available: 2_000_000_000 }] })
    await env.app.engine.drain()
    const level = await env.app.handle.db
      .selectFrom('inventory_levels')
      .select('available')
      .where('store_id', '=', 'default')
      .where('sku', '=', 'MUG-RED')
      .execute()
    expect(level.map((l) => Number(l.available))).toEqual([2_000_000_000])
  })

  it('an Idempotency-Key used again for other lines is a 409 naming the header; the same request again stays a duplicate', async () => {
    await suppliers()
    await catalogue()
    await send(event('inventory.updated', 'inv-1', { sku: 'MUG-RED', available: 3 }))
    await installWorkflow(env.app, RESTOCK)
    await send(event('raw.restock', 'r-1', {}))
    const receive = (lines: unknown, key: string) =>
      api('POST', '/api/v1/purchase-orders/PO-000001/receive', { lines }, { headers: { 'idempotency-key': key } })
    expect((await receive([{ sku: 'MUG-RED', quantity: 10 }], 'delivery-1')).statusCode).toBe(200)
    // a client reusing its key for the next delivery would otherwise be told "duplicate" and lose 5 units
    const reused = await receive([{ sku: 'MUG-RED', quantity: 5 }], 'delivery-1')
    expect(reused.statusCode, reused.body).toBe(409)
    expect(reused.json().error).toMatchObject({ code: 'conflict', details: { field: 'Idempotency-Key' } })
    expect(reused.json().error.message).toContain('delivery-1')
    const again = await receive([{ sku: 'MUG-RED', quantity: 10 }], 'delivery-1')
    expect(again.statusCode).toBe(200)
    expect(again.json()).toMatchObject({ duplicate: true, stock: [{ sku: 'MUG-RED', available: 13 }] })
    // the lines as a client may space them (a SKU with blanks around it) are the same receipt
    expect((await receive([{ sku: ' MUG-RED ', quantity: 10 }], 'delivery-1')).json()).toMatchObject({ duplicate: true })
  })

  it('two receipts at once that together exceed what is outstanding: one is booked, the other is a 400, stock counts one', async () => {
    await suppliers()
    await catalogue()
    await send(event('inventory.updated', 'inv-1', { sku: 'MUG-RED', available: 3 }))
    await installWorkflow(env.app, RESTOCK)
    await send(event('raw.restock', 'r-1', {}))
    const receive = (key: string) =>
      api('POST', '/api/v1/purchase-orders/PO-000001/receive', { lines: [{ sku: 'MUG-RED', quantity: 20 }] }, { headers: { 'idempotency-key': key } })
    const answers = await Promise.all([receive('a'), receive('b'), receive('a')])
    const codes = answers.map((a) => a.statusCode)
    expect(codes.filter((c) => c === 200)).toHaveLength(2)
    expect(codes.filter((c) => c === 400)).toHaveLength(1)
    await env.app.engine.drain()
    expect((await api('GET', '/api/v1/purchase-orders/PO-000001')).json().lines[0]).toMatchObject({ received: 20 })
    const stock = await env.app.handle.db
      .selectFrom('variants')
      .select('inventory_quantity')
      .where('store_id', '=', 'default')
      .where('sku', '=', 'MUG-RED')
      .execute()
    expect(stock.map((v) => v.inventory_quantity)).toEqual([23])
  })

  it('suppliers: 400 naming the field, upsert by id, delete, walled off per store', async () => {
    const base = { id: 'acme', name: 'Acme', email: 'orders@acme.test', lead_time_days: 7, min_order_quantity: 24, skus: ['MUG-RED'] }
    for (const [patch, field] of [
      [{ id: '' }, 'id'],
      [{ name: ' ' }, 'name'],
      [{ email: 'Acme <orders@acme.test>, eve@evil.test' }, 'email'],
      [{ email: undefined }, 'email'],
      [{ lead_time_days: -1 }, 'lead_time_days'],
      [{ lead_time_days: '7' }, 'lead_time_days'],
      [{ min_order_quantity: 0 }, 'min_order_quantity'],
      [{ skus: 'MUG-RED' }, 'skus'],
      [{ skus: ['MUG-RED', ''] }, 'skus[1]'],
    ] as Array<[Record<string, unknown>, string]>) {
      const res = await api('POST', '/api/v1/suppliers', { ...base, ...patch })
      expect(res.statusCode, `${field}: ${res.body}`).toBe(400)
      expect(res.json().error.details.field).toBe(field)
    }
    expect((await api('POST', '/api/v1/suppliers', base, { scope: 'read' })).statusCode).toBe(403)
    expect((await api('POST', '/api/v1/suppliers', base)).statusCode).toBe(201)
    const updated = await api('POST', '/api/v1/suppliers', { ...base, name: 'Acme Mugs Ltd', skus: ['MUG-RED', 'MUG-BLUE'] })
    expect(updated.statusCode).toBe(200)
    expect((await api('GET', '/api/v1/suppliers/acme', undefined, { scope: 'read' })).json()).toMatchObject({
      id: 'acme',
      name: 'Acme Mugs Ltd',
      email: 'orders@acme.test',
      lead_time_days: 7,
      min_order_quantity: 24,
      skus: ['MUG-RED', 'MUG-BLUE'],
    })
    // store B has none, and cannot see or delete A's
    expect((await api('GET', '/api/v1/suppliers', undefined, { store: 'b' })).json().items).toEqual([])
    expect((await api('GET', '/api/v1/suppliers/acme', undefined, { store: 'b' })).statusCode).toBe(404)
    expect((await api('DELETE', '/api/v1/suppliers/acme', undefined, { store: 'b' })).statusCode).toBe(404)
    expect((await api('GET', '/api/v1/suppliers')).json().items.map((s: { id: string }) => s.id)).toEqual(['acme'])
    expect((await api('DELETE', '/api/v1/suppliers/acme')).statusCode).toBe(204)
    expect((await api('GET', '/api/v1/suppliers/acme')).statusCode).toBe(404)
  })
})

describe('purchase order CSV', () => {
  it('quotes per RFC 4180 and neutralises formulas', () => {
    const csv = purchaseOrderCsv([
      { sku: '@SUM(A1)', quantity: 3, unit_cost: '1.50', description: 'line\nbreak, "and" quotes' },
      { sku: 'B', quantity: 1, unit_cost: null, description: '-2+3' },
    ])
    expect(csv).toBe('sku,quantity,unit_cost,description\r\n\'@SUM(A1),3,1.50,"line\nbreak, ""and"" quotes"\r\nB,1,,\'-2+3\r\n')
    expect(parseCsv(csv)[1]).toEqual(["'@SUM(A1)", '3', '1.50', 'line\nbreak, "and" quotes'])
  })
})
