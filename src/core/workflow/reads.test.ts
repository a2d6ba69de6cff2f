import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createActionRegistry } from '../../actions/index.ts'
import { parseWorkflow } from './parse.ts'
import { viewPartsRead } from './reads.ts'

const registry = createActionRegistry()
const reads = (source: string, templates: string[] = []) => {
  const parsed = parseWorkflow(source, (t) => registry.get(t), 'wf.yaml')
  const parts = viewPartsRead({ file: parsed.file, program: parsed.program, templates })
  return parts === 'all' ? 'all' : [...parts].sort()
}
const wf = (trigger: string, steps: string, extra = '') => `id: w\nname: W\ntrigger: { event: ${trigger} }\n${extra}steps:\n${steps}`
const mail = (html: string) => `  - id: m\n    action: send_email\n    with: { subject: 'Hi', html: '${html}' }\n`

describe('which parts of the view a workflow reads (what backtest keeps current)', () => {
  it('abandoned-checkout reads the profile and the cart: not orders, not the cart being converted (its words "cart" and "order" are prose)', () => {
    const source = readFileSync(new URL('../../../templates/workflows/abandoned-checkout.yaml', import.meta.url), 'utf8')
    expect(reads(source)).toEqual(['carts', 'customer_profile'])
  })

  it("customer.orders_count and total_spent read the customer's order aggregates; loyalty_points the loyalty part", () => {
    expect(reads(wf('checkout.started', mail('{{ customer.first_name }}'), "when: 'customer.orders_count > 1 && customer.total_spent > 9.0'\n"))).toEqual([
      'customer_orders',
      'customer_profile',
    ])
    expect(reads(wf('checkout.started', mail('{{ customer.loyalty_points }}')))).toEqual(['customer_profile', 'loyalty'])
  })

  it('a whole customer handed on reads every customer part; segments or RFM read everything', () => {
    expect(reads(wf('checkout.started', mail('{{ customer | json }}')))).toEqual(['customer_orders', 'customer_profile', 'loyalty'])
    expect(reads(wf('checkout.started', mail('x'), `when: '"vip" in customer.segments'\n`))).toBe('all')
  })

  it("the scope's order, cart and product are the trigger's: another subject reads null, not a part", () => {
    expect(reads(wf('order.paid', mail('{{ order.fulfillment_status }} {{ cart.total_price }}')))).toEqual(['customer_profile', 'loyalty', 'orders'])
    expect(reads(wf('checkout.started', mail('{{ cart.converted }}')))).toEqual(['cart_conversion', 'customer_profile'])
    // event.data.customer and vars.order are not the view
    expect(reads(wf('checkout.started', mail('{{ event.data.customer.orders_count }} {{ vars.order }}'), 'vars: { order: 1 }\n'))).toEqual(['customer_profile'])
  })

  it('the templates a step names are read inside their tags; recommendations read orders and the catalogue', () => {
    expect(reads(wf('checkout.started', mail('x')), ['Your order: {{ customer.total_spent }}'])).toEqual(['customer_orders', 'customer_profile'])
    expect(reads(wf('checkout.started', mail('{% for r in recommendations %}{{ r.title }}{% endfor %}')))).toEqual(['catalog', 'customer_profile', 'orders'])
  })

  it('an action whose reads are not declared may read anything', () => {
    expect(reads(wf('order.paid', "  - action: notify_team\n    with: { text: 'hi' }\n"))).toBe('all')
  })
})
