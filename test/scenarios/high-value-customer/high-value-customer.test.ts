import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Scenario } from '../harness.ts'

interface CustomerView {
  id: string
  tags: string[]
  total_spent: number
  orders_count: number
}

const ada = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: false }
const bo = { id: 'c2', email: 'bo@example.com', first_name: 'Bo', accepts_marketing: false }
let n = 0
const paid = (customer: Record<string, unknown>, total: string) => {
  const id = String(1000 + ++n)
  return { id, number: `#${id}`, currency: 'USD', total_price: total, line_items: [{ sku: 'LAMP', title: 'Desk Lamp', quantity: 1, price: total }], customer }
}

describe.each(DIALECTS)('template high-value-customer on %s', (dialect) => {
  let s: Scenario
  const chat = () => s.hook.requests.map((r) => (JSON.parse(r.body) as { text: string }).text)
  const tagsOf = async (id: string) => (await s.api<CustomerView>(`/api/v1/customers/${id}`)).tags
  beforeEach(async () => {
    s = await startScenario(dialect)
    // the store's team chat, where notify_team posts
    await s.api('/api/v1/integrations/team_chat', { method: 'PUT', payload: { credentials: { webhook_url: `${s.hook.url}/hooks/team` } } })
    await s.install('high-value-customer')
  })
  afterEach(async () => {
    await s.close()
  })

  it('the order that takes lifetime spend to $1,000 tags the customer vip and tells the team once; later orders tell no one again', async () => {
    await s.send('order.paid', paid(ada, '400.00'))
    await s.send('order.paid', paid(ada, '350.00'))
    expect(await tagsOf('c1')).toEqual([])
    expect(chat()).toEqual([])

    await s.send('order.paid', paid(ada, '300.00'))
    expect(await tagsOf('c1')).toEqual(['vip'])
    expect(s.hook.requests.map((r) => [r.method, r.path])).toEqual([['POST', '/hooks/team']])
    expect(chat()).toEqual(['New VIP: ada@example.com has spent $1,050.00 over 3 orders.'])

    await s.send('order.paid', paid(ada, '500.00'))
    await s.advance('1d', { step: '1d' })
    expect(await tagsOf('c1')).toEqual(['vip'])
    expect(chat()).toHaveLength(1)
    // the team is told, the customer is not
    expect(s.newMail()).toEqual([])
  })

  it('five orders make a vip whatever they add up to', async () => {
    for (let i = 0; i < 4; i++) await s.send('order.paid', paid(bo, '20.00'))
    expect(await tagsOf('c2')).toEqual([])
    await s.send('order.paid', paid(bo, '20.00'))
    expect(await tagsOf('c2')).toEqual(['vip'])
    expect(chat()).toEqual(['New VIP: bo@example.com has spent $100.00 over 5 orders.'])
  })

  it('below the threshold: no tag, no message; a cancelled order does not count', async () => {
    await s.send('order.paid', paid(ada, '999.99'))
    const big = paid(bo, '1200.00')
    await s.send('order.created', big)
    await s.send('order.cancelled', big)
    await s.send('order.paid', paid(bo, '30.00'))
    await s.advance('1d', { step: '1d' })
    expect(await tagsOf('c1')).toEqual([])
    expect(await tagsOf('c2')).toEqual([])
    expect(chat()).toEqual([])
  })
})
