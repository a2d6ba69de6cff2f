import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startMeta, type MetaStandIn } from '../../helpers/meta-custom-audiences.ts'
import { startScenario, type Scenario } from '../harness.ts'

const DAY = 86_400_000
/** Meta's normalisation: trimmed, lower-cased, then SHA-256 as hex (the shop sent Ada@Example.com) */
const ADA_HASH = createHash('sha256').update('ada@example.com').digest('hex')

describe.each(DIALECTS)('template retargeting-audience-sync on %s', (dialect) => {
  let s: Scenario
  let meta: MetaStandIn
  beforeEach(async () => {
    s = await startScenario(dialect)
    meta = await startMeta(['EAAB-store-token'])
    await s.api('/api/v1/integrations/meta_ads', { method: 'PUT', payload: { api_url: meta.url, credentials: { access_token: 'EAAB-store-token' } } })
    await s.install('retargeting-audience-sync')
    // order history: Ada last ordered 89 days ago, Bob 88, Cy 10 (the clock is at 10:00)
    const now = s.env.clock.now().getTime()
    const order = (n: number, customer: Record<string, unknown>, daysAgo: number) => {
      const at = new Date(now - daysAgo * DAY).toISOString()
      return {
        id: `hist-${n}`,
        type: 'order.paid',
        store: 'default',
        occurred_at: at,
        data: { id: `o${n}`, number: `#${n}`, currency: 'USD', total_price: '40.00', created_at: at, line_items: [], customer },
      }
    }
    await s.api('/api/v1/events?history=true', {
      method: 'POST',
      payload: {
        events: [
          order(1, { id: 'ada', email: 'Ada@Example.com', accepts_marketing: true }, 89),
          order(2, { id: 'bob', email: 'bob@example.com', accepts_marketing: false }, 88),
          order(3, { id: 'cy', email: 'cy@example.com', accepts_marketing: true }, 10),
        ],
      },
    })
  })
  afterEach(async () => {
    await meta.close()
    await s.close()
  })

  const calls = (method: string) => meta.requests.filter((r) => r.method === method)

  it('a customer entering the segment is added to the audience (hashed email), and removed when they leave it', async () => {
    // 89½ days: nobody has lapsed yet
    await s.advance('12h', { step: '6h' })
    expect(meta.requests).toEqual([])
    // 90 days without an order: Ada lapses and is added
    await s.advance('1d', { step: '6h' })
    expect(calls('POST')).toEqual([{ method: 'POST', path: '/0/users', token: 'EAAB-store-token', schema: ['EMAIL'], rows: [[ADA_HASH]] }])
    expect(calls('DELETE')).toEqual([])
    // a day later Bob lapses too, but he does not accept marketing: nothing is sent for him
    await s.advance('1d', { step: '6h' })
    expect(meta.requests).toHaveLength(1)
    // no email leaves storeflow in the clear
    expect(JSON.stringify(meta.requests)).not.toContain('example.com')

    // Ada orders again: she leaves the segment and the audience
    await s.send('order.paid', {
      id: 'o4',
      number: '#4',
      currency: 'USD',
      total_price: '55.00',
      line_items: [],
      customer: { id: 'ada', email: 'ada@example.com', accepts_marketing: true },
    })
    expect(calls('DELETE')).toEqual([{ method: 'DELETE', path: '/0/users', token: 'EAAB-store-token', schema: ['EMAIL'], rows: [[ADA_HASH]] }])
    expect(calls('POST')).toHaveLength(1)

    // nothing more: Cy never lapsed, Bob never consented, Ada is already removed
    await s.advance('3d', { step: '12h' })
    expect(meta.requests).toHaveLength(2)
    const runs = await s.api<{ items: Array<{ customer_id: string; status: string }> }>('/api/v1/runs?workflow=retargeting-audience-sync')
    expect(runs.items.map((r) => `${r.customer_id} ${r.status}`).sort()).toEqual(['ada completed', 'bob waiting'])
  })
})
