import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

type PurchaseOrder = { number: string; supplier_id: string; status: string; lines: Array<{ sku: string; quantity: number }> }
type Forecast = { sku: string; available: number; daily_demand: number; reorder_point: number; suggested_quantity: number }

const DAY = 86_400_000

describe.each(DIALECTS)('template low-stock-purchase-order on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    process.env.STOREFLOW_TEAM_WEBHOOK_URL = `${s.hook.url}/team`
    await s.api('/api/v1/suppliers', {
      method: 'POST',
      payload: {
        id: 'harbor',
        name: 'Harbor Ceramics',
        email: 'orders@harbor-ceramics.example',
        lead_time_days: 7,
        min_order_quantity: 24,
        skus: ['MUG-SAGE', 'MUG-SAND'],
      },
    })
    await s.send('product.updated', {
      id: 'p-mug',
      title: 'Stoneware Mug',
      status: 'active',
      variants: [
        { id: 'v-sage', sku: 'MUG-SAGE', price: '18.00' },
        { id: 'v-sand', sku: 'MUG-SAND', price: '18.00' },
      ],
    })
    // eight weeks of history up to this morning: 4 sage mugs and 1 sand mug sold every day
    const now = s.env.clock.now().getTime()
    const events = Array.from({ length: 56 }, (_, i) => {
      const at = new Date(now - (55 - i) * DAY).toISOString()
      return {
        id: `hist-${i}`,
        type: 'order.created',
        store: 'default',
        occurred_at: at,
        data: {
          id: `h${i}`,
          number: `#${2000 + i}`,
          currency: 'USD',
          total_price: '90.00',
          created_at: at,
          line_items: [
            { sku: 'MUG-SAGE', title: 'Stoneware Mug', quantity: 4, price: '18.00' },
            { sku: 'MUG-SAND', title: 'Stoneware Mug', quantity: 1, price: '18.00' },
          ],
          customer: { id: `hc${i % 7}`, email: `buyer${i % 7}@example.com`, accepts_marketing: false },
        },
      }
    })
    await s.api('/api/v1/events?history=true', { method: 'POST', payload: { events } })
    // the first stock levels seen: plenty of both
    await s.send('inventory.updated', { sku: 'MUG-SAGE', available: 120 })
    await s.send('inventory.updated', { sku: 'MUG-SAND', available: 40 })
    await s.install('low-stock-purchase-order')
    s.newMail()
  })
  afterEach(async () => {
    delete process.env.STOREFLOW_TEAM_WEBHOOK_URL
    await s.close()
  })

  it('a SKU falling below its reorder point gets one purchase order for the forecast quantity, mailed to its supplier with the CSV', async () => {
    const before = await s.api<Forecast>('/api/v1/inventory/forecast?sku=MUG-SAGE')
    // a steady 4 a day over the 7-day lead time, no variation: no safety stock
    expect(before).toMatchObject({ daily_demand: 4, reorder_point: 28 })

    await s.send('inventory.updated', { sku: 'MUG-SAGE', available: 20 })

    const forecast = await s.api<Forecast>('/api/v1/inventory/forecast?sku=MUG-SAGE')
    // 4 a day over lead time (7 d) + review period (14 d), less the 20 on hand
    expect(forecast.suggested_quantity).toBe(64)
    const orders = await s.api<{ items: PurchaseOrder[] }>('/api/v1/purchase-orders')
    expect(orders.items).toHaveLength(1)
    expect(orders.items[0]).toMatchObject({
      number: 'PO-000001',
      supplier_id: 'harbor',
      status: 'sent',
      lines: [{ sku: 'MUG-SAGE', quantity: 64 }],
    })

    const mails = s.smtp.received
    expect(mails).toHaveLength(1)
    const mail = mails[0]!
    expect(mail.to).toMatchObject({ value: [{ address: 'orders@harbor-ceramics.example' }] })
    expect(mail.subject).toBe('Purchase order PO-000001 from My store')
    expect(mail.text).toContain('PO-000001')
    expect(mail.attachments).toHaveLength(1)
    expect(mail.attachments[0]!.filename).toBe('PO-000001.csv')
    expect(mail.attachments[0]!.content.toString('utf8').split(/\r\n/)).toEqual(['sku,quantity,unit_cost,description', 'MUG-SAGE,64,,Stoneware Mug', ''])

    const chat = s.hook.requests.filter((r) => r.path === '/team')
    expect(chat.map((r) => JSON.parse(r.body).text)).toEqual(['Stock of MUG-SAGE is low (20 left): purchase order PO-000001 sent.'])

    // still low, falling further: no second order until the stock was back above the point
    await s.send('inventory.updated', { sku: 'MUG-SAGE', available: 12 })
    expect((await s.api<{ items: PurchaseOrder[] }>('/api/v1/purchase-orders')).items).toHaveLength(1)
    expect(s.smtp.received).toHaveLength(1)
  })

  it('a SKU that stays above its reorder point orders nothing', async () => {
    // sand sells 1 a day: its reorder point is 7, and 10 is above it
    await s.send('inventory.updated', { sku: 'MUG-SAND', available: 10 })
    await s.advance('1d', { step: '6h' })
    expect((await s.api<{ items: PurchaseOrder[] }>('/api/v1/purchase-orders')).items).toEqual([])
    expect(s.smtp.received).toEqual([])
    expect(s.hook.requests).toEqual([])
  })
})
