import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startShopifyStandIn, type ShopifyStandIn } from '../../helpers/shopify-admin-stand-in.ts'
import { startScenario, type Scenario } from '../harness.ts'

interface Run {
  id: string
  status: string
  steps: Array<{ id: string; status: string; output: Record<string, unknown> | null }>
}

const order = (id: string, customer: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  id,
  number: `#${id}`,
  currency: 'USD',
  total_price: '80.00',
  line_items: [{ sku: 'MUG-BLUE', title: 'Blue Mug', quantity: 4, price: '20.00' }],
  customer,
  billing_address: { country_code: 'US', city: 'Portland' },
  shipping_address: { country_code: 'US', city: 'Portland' },
  ...over,
})
const mallory = { id: 'c9', email: 'mallory@mailinator.com', first_name: 'Mal', accepts_marketing: false }
const ada = { id: 'c1', email: 'ada@example.com', first_name: 'Ada', accepts_marketing: false }
const fulfillmentOrders = (id: string) => [{ id: `gid://shopify/FulfillmentOrder/${id}`, status: 'OPEN' as const, holds: [] }]

describe.each(DIALECTS)('template suspicious-order-hold on %s', (dialect) => {
  let s: Scenario
  let shop: ShopifyStandIn
  const chat = () => s.hook.requests.map((r) => (JSON.parse(r.body) as { text: string }).text)
  const runs = async () => (await s.api<{ items: Run[] }>('/api/v1/runs?workflow=suspicious-order-hold')).items
  const holdStep = async (runId: string) => (await s.api<Run>(`/api/v1/runs/${runId}`)).steps.find((st) => st.id === 'hold')
  beforeEach(async () => {
    s = await startScenario(dialect)
    shop = await startShopifyStandIn('shpat_store')
    // the store's team chat, where notify_team posts
    await s.api('/api/v1/integrations/team_chat', { method: 'PUT', payload: { credentials: { webhook_url: `${s.hook.url}/hooks/team` } } })
    await s.install('suspicious-order-hold')
  })
  afterEach(async () => {
    await s.close()
    await shop.close()
  })

  it('with a Shopify shop: a risky order is held in the shop and the team is told why; a normal order is neither', async () => {
    await s.api('/api/v1/connectors', {
      method: 'POST',
      payload: { platform: 'shopify', secrets: ['whsec'], shop_domain: 'store.myshopify.com', api_url: shop.apiUrl, access_token: 'shpat_store' },
    })
    shop.orders.set('gid://shopify/Order/5001', fulfillmentOrders('71'))
    shop.orders.set('gid://shopify/Order/5002', fulfillmentOrders('72'))

    // a throwaway mailbox, billed in the US and shipped to Germany, $1,200 on a first order
    await s.send('order.created', order('5001', mallory, { total_price: '1200.00', shipping_address: { country_code: 'DE' } }))
    await s.send('order.created', order('5002', ada))

    const [held] = shop.orders.get('gid://shopify/Order/5001')!
    expect(held!.status).toBe('ON_HOLD')
    expect(held!.holds).toHaveLength(1)
    expect(held!.holds[0]!.reason).toBe('HIGH_RISK_OF_FRAUD')
    const reasons =
      'billing country US differs from shipping country DE; first order of this customer above 500 (1200.00 USD); disposable email domain mailinator.com'
    expect(held!.holds[0]!.reasonNotes).toBe(reasons)
    expect(shop.orders.get('gid://shopify/Order/5002')![0]).toMatchObject({ status: 'OPEN', holds: [] })
    expect(shop.requests.filter((r) => r.operation === 'fulfillmentOrderHold')).toHaveLength(1)

    expect(s.hook.requests.map((r) => [r.method, r.path])).toEqual([['POST', '/hooks/team']])
    expect(chat()).toEqual([
      `Order #5001 ($1,200.00) from mallory@mailinator.com is on hold for review: ${reasons}. Risk score 90 (high). Release the hold in the shop once it is checked.`,
    ])
    // the customer is told nothing
    expect(s.newMail()).toEqual([])
    const [run, ...more] = await runs()
    expect(more).toEqual([])
    expect((await holdStep(run!.id))?.output).toMatchObject({ held: true, shop: 'held', level: 'high', score: 90 })
  })

  it('without a shop connector: held in storeflow (on the timeline) with the team told; a big order from a returning customer is not held', async () => {
    // billing and shipping countries differ: medium risk
    await s.send('order.created', order('6001', mallory, { billing_address: { country_code: 'GB' } }))
    // a first order over $1,000, nothing else unusual
    await s.send('order.created', order('6002', ada, { total_price: '1500.00' }))
    const texts = chat()
    expect(texts).toHaveLength(2)
    expect(texts[0]).toBe(
      'Order #6001 ($80.00) from mallory@mailinator.com is on hold for review: billing country GB differs from shipping country US; disposable email domain mailinator.com. Risk score 65 (high). Release the hold in the shop once it is checked.',
    )
    expect(texts[1]).toBe(
      'Order #6002 ($1,500.00) from ada@example.com is on hold for review: first order of this customer above 500 (1500.00 USD). Risk score 25 (low). Release the hold in the shop once it is checked.',
    )
    for (const run of await runs()) expect((await holdStep(run.id))?.output).toMatchObject({ held: true, shop: 'not_connected' })

    // Ada comes back: a second order of $1,500 from the same addresses is her normal
    await s.send('order.created', order('6003', ada, { total_price: '1500.00' }))
    await s.advance('1d', { step: '1d' })
    expect(chat()).toHaveLength(2)
    expect(await runs()).toHaveLength(2)
    expect(s.newMail()).toEqual([])
  })
})
