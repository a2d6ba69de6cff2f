import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { unobserved } from '../../src/services/backtest-sandbox.ts'

// what the backtest sandbox leaves out: only what the workflow cannot observe
const abandoned = readFileSync(new URL('../../templates/workflows/abandoned-checkout.yaml', import.meta.url), 'utf8')

describe('backtest sandbox: derivations left out', () => {
  it('abandoned-checkout observes no segment, stock, demand or attribution: all left out, with the counters and cohorts', () => {
    expect(unobserved(abandoned, [], 'checkout.started', new Set(['order.created']))).toEqual({
      segments: true,
      inventory: true,
      demand: true,
      attribution: true,
      analytics: true,
    })
  })

  it('a condition on customer.segments keeps segment membership', () => {
    const source = `${abandoned}\nwhen: "'vip' in customer.segments"\n`
    expect(unobserved(source, [], 'checkout.started', new Set()).segments).toBe(false)
  })

  it('a template mentioning rfm keeps segments; a stock goal keeps inventory and demand', () => {
    expect(unobserved(abandoned, [{ name: 'x', body: '{{ customer.rfm.score }}' }], 'checkout.started', new Set()).segments).toBe(false)
    const skips = unobserved(abandoned, [], 'checkout.started', new Set(['inventory.back_in_stock']))
    expect(skips.inventory).toBe(false)
    expect(skips.demand).toBe(false)
  })

  it('a workflow started by a segment event keeps segments', () => {
    expect(unobserved('id: x', [], 'segment.entered', new Set()).segments).toBe(false)
  })
})
