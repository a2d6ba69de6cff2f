import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Mail, type Scenario } from '../harness.ts'

const SAGE_URL = 'https://shop.example.com/products/stoneware-mug-sage'

/** the plain-text part with its line wrapping undone */
const flat = (text: string) => text.replace(/\s+/g, ' ')

describe.each(DIALECTS)('template back-in-stock on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    await s.send('product.updated', {
      id: 'p-sage',
      title: 'Stoneware Mug – Sage',
      url: SAGE_URL,
      status: 'active',
      variants: [{ id: 'v-sage', sku: 'MUG-SAGE', price: '18.00' }],
    })
    await s.send('product.updated', {
      id: 'p-sand',
      title: 'Stoneware Mug – Sand',
      status: 'active',
      variants: [{ id: 'v-sand', sku: 'MUG-SAND', price: '18.00' }],
    })
    // both sold out
    await s.send('inventory.updated', { sku: 'MUG-SAGE', available: 0 })
    await s.send('inventory.updated', { sku: 'MUG-SAND', available: 0 })
    await s.install('back-in-stock')
  })
  afterEach(async () => {
    await s.close()
  })

  /** a shopper posts the product page's "notify me" form, as a browser does */
  const ask = async (fields: Record<string, string>, form = 'back-in-stock') => {
    const res = await s.server.inject({ method: 'POST', url: `/forms/default/${form}`, payload: fields })
    expect(res.statusCode, res.body).toBeLessThan(300)
    await s.advance('1m', { step: null })
  }
  const restock = async (sku: string, available: number) => {
    await s.send('inventory.updated', { sku, available })
  }
  const byRecipient = (mails: Mail[]) => [...mails].sort((a, b) => a.to.localeCompare(b.to))

  it('each customer waiting for the SKU gets one notice with the product and its link when it is back; one waiting for another SKU gets nothing until theirs is', async () => {
    await ask({ email: 'ada@example.com', first_name: 'Ada', sku: 'MUG-SAGE' })
    await ask({ email: 'eve@example.com', first_name: '<b>Eve</b>', sku: 'MUG-SAGE' })
    await ask({ email: 'sam@example.com', first_name: 'Sam', sku: 'MUG-SAND' })
    await s.advance('3d', { step: '12h' })
    expect(s.newMail()).toEqual([])

    await restock('MUG-SAGE', 12)
    const [ada, eve, ...more] = byRecipient(s.newMail())
    expect(more).toEqual([])
    expect(ada!.to).toBe('ada@example.com')
    expect(ada!.subject).toBe('Stoneware Mug – Sage is back in stock')
    expect(flat(ada!.text)).toContain('Hi Ada, Good news: Stoneware Mug – Sage is back in stock, as you asked us to let you know.')
    expect(ada!.html).toContain('See Stoneware Mug – Sage in our shop</a>')
    // the link leads to the product's page (through the click tracker)
    const href = /href="([^"]+)"[^>]*>See Stoneware Mug/.exec(ada!.html)![1]!
    const click = await s.server.inject({ method: 'GET', url: href.replace(/^https?:\/\/[^/]+/, '') })
    expect([click.statusCode, click.headers.location]).toEqual([302, SAGE_URL])
    expect(eve!.to).toBe('eve@example.com')
    // what the shopper typed is shown as text, never as markup
    expect(eve!.html).toContain('Hi &lt;b&gt;Eve&lt;/b&gt;,')
    expect(eve!.html).not.toContain('<b>Eve</b>')

    // sold out and back again: those told are not told twice
    await restock('MUG-SAGE', 0)
    await restock('MUG-SAGE', 6)
    expect(s.newMail()).toEqual([])

    await restock('MUG-SAND', 4)
    const sam = s.newMail()
    expect(sam.map((m) => [m.to, m.subject])).toEqual([['sam@example.com', 'Stoneware Mug – Sand is back in stock']])
    // no page was given for this product: no link
    expect(sam[0]!.html).not.toContain('in our shop</a>')
  })

  it('asking twice for the same SKU gets one notice; another form, or a request that timed out, gets none', async () => {
    // Kim's request waits 60 days; Sand comes back after 61
    await ask({ email: 'kim@example.com', first_name: 'Kim', sku: 'MUG-SAND' })
    await s.advance('58d', { step: '5d' })
    await ask({ email: 'ada@example.com', first_name: 'Ada', sku: 'MUG-SAGE' })
    await ask({ email: 'ada@example.com', first_name: 'Ada', sku: 'MUG-SAGE' })
    await ask({ email: 'max@example.com', first_name: 'Max', sku: 'MUG-SAGE' }, 'newsletter')
    await s.advance('3d', { step: '1d' })
    await restock('MUG-SAGE', 12)
    await restock('MUG-SAND', 12)
    expect(s.newMail().map((m) => [m.to, m.subject])).toEqual([['ada@example.com', 'Stoneware Mug – Sage is back in stock']])
    // Ada's second request replaced her first; Kim's ended when its 60 days were up
    const runs = await s.api<{ items: Array<{ customer_email: string; status: string }> }>('/api/v1/runs?workflow=back-in-stock')
    expect(runs.items.map((r) => `${r.customer_email} ${r.status}`).sort()).toEqual([
      'ada@example.com completed',
      'ada@example.com exited',
      'kim@example.com completed',
    ])
  })
})
