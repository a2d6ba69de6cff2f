import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../helpers/dialects.ts'
import { startScenario, type Scenario } from '../scenarios/harness.ts'

/** A store's values in one place: the delay, the threshold and the discount are vars. */
const workflow = (v: { delay: string; threshold: number; percent: number }) => `
id: cart-vars
name: Cart reminder with vars
vars:
  first_reminder: ${v.delay}   # how long after the checkout the reminder goes
  threshold: ${v.threshold}    # carts over this get a code
  percent: ${v.percent}        # the code's discount
  min_cart: 10                 # smaller carts start nothing
trigger: { event: checkout.started, filter: 'event.data.total_price >= vars.min_cart' }
when: 'customer.accepts_marketing'
steps:
  - wait: '{{ vars.first_reminder }}'
  - if: 'cart.total_price > vars.threshold'
    then:
      - id: code
        action: create_discount_code
        with: { percent: '{{ vars.percent }}', expires_in: 7d }
      - action: send_email
        with:
          subject: '{{ vars.percent }}% off your cart over {{ vars.threshold | money }}'
          html: '<p>Use {{ steps.code.code }}</p>'
    else:
      - action: send_email
        with: { subject: 'Your cart is waiting', html: '<p>Come back</p>' }
`

const checkout = (id: string, who: string, total: string) => ({
  id,
  total_price: total,
  customer: { id: who, email: `${who}@example.com`, first_name: who, accepts_marketing: true },
})

interface Code {
  code: string
  kind: string
  value: number | null
}

describe.each(DIALECTS)('workflow vars on %s', (dialect) => {
  let s: Scenario
  const save = async (source: string) => {
    const { summary } = await s.env.app.services.workflows.import('default', source, 'cart-vars.yaml', { active: true })
    return summary.version
  }
  beforeEach(async () => {
    s = await startScenario(dialect)
  })
  afterEach(async () => {
    await s.close()
  })

  it('a trigger filter, a wait, a condition, a discount percent and a subject read the vars; a run keeps the vars of its version', async () => {
    expect(await save(workflow({ delay: '2h', threshold: 100, percent: 15 }))).toBe(1)
    await s.send('checkout.started', checkout('k1', 'ada', '150.00'))
    await s.send('checkout.started', checkout('k2', 'bob', '60.00'))
    await s.send('checkout.started', checkout('k0', 'eve', '5.00'))

    await s.advance('1h')
    expect(s.newMail()).toEqual([])
    await s.advance('1h')
    const first = s.newMail().sort((a, b) => a.to.localeCompare(b.to))
    expect(first.map((m) => [m.to, m.subject])).toEqual([
      ['ada@example.com', '15% off your cart over $100.00'],
      ['bob@example.com', 'Your cart is waiting'],
    ])
    const codes = (await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items
    expect(codes.map((c) => [c.kind, c.value])).toEqual([['percent', 15]])
    expect(first[0]!.text).toContain(codes[0]!.code)

    // a run started on version 1 keeps its vars after the store changes them
    await s.send('checkout.started', checkout('k3', 'cy', '150.00'))
    expect(await save(workflow({ delay: '2h', threshold: 100, percent: 15 }))).toBe(1)
    expect(await save(workflow({ delay: '30m', threshold: 40, percent: 20 }))).toBe(2)
    await s.send('checkout.started', checkout('k4', 'dee', '60.00'))
    await s.advance('30m')
    expect(s.newMail().map((m) => [m.to, m.subject])).toEqual([['dee@example.com', '20% off your cart over $40.00']])
    await s.advance('90m')
    expect(s.newMail().map((m) => [m.to, m.subject])).toEqual([['cy@example.com', '15% off your cart over $100.00']])
    const percents = (await s.api<{ items: Code[] }>('/api/v1/discount-codes')).items.map((c) => c.value).sort()
    expect(percents).toEqual([15, 15, 20])
  })

  it('a var that is no duration where a wait needs one is refused at save, naming the var and its line', async () => {
    await expect(save(workflow({ delay: 'soon', threshold: 100, percent: 15 }))).rejects.toThrow(
      /line 12 \(steps\[0\]\.wait\): must be a duration.*vars\.first_reminder = "soon", line 5/,
    )
  })
})
