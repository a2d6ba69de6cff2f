import { describe, expect, it } from 'vitest'
import { compileCel, evaluateCondition, evaluateValue, CelCompileError } from './cel.ts'

const scope = {
  customer: { tags: ['vip'], orders_count: 3, total_spent: 250.5, birthday: null, accepts_marketing: true },
  event: {
    data: {
      total_price: 120,
      note: null,
      line_items: [
        { sku: 'SHOE-1', quantity: 2 },
        { sku: 'HAT', quantity: 1 },
      ],
    },
  },
  now: new Date('2026-03-02T10:00:00Z'),
}
const cond = (source: string) => evaluateCondition(compileCel(source), scope)

describe('CEL conditions (docs/workflows.md)', () => {
  it.each([
    ['customer.orders_count > 2 && "vip" in customer.tags', true],
    ['event.data.total_price > 100', true],
    ['event.data.total_price > 100.0', true],
    ['customer.total_spent * 2 > 500', true],
    ['event.data.line_items.exists(i, i.sku.startsWith("SHOE"))', true],
    ['event.data.line_items.all(i, i.quantity >= 1)', true],
    // a missing field is null, never an error
    ['customer.no_such_field == null', true],
    ['!(event.data.missing == "vip")', true],
    ['event.data.missing != "vip"', true],
    ['customer.birthday == null', true],
    // comparisons with null are false, and so their negations are true
    ['customer.birthday > "2000-01-01"', false],
    ['!(customer.birthday > "2000-01-01")', true],
    ['event.data.note < 3', false],
    ['event.data.missing > 3', false],
    // has() asks about presence
    ['has(customer.no_such_field)', false],
    ['has(customer.tags)', true],
    // a field of a missing field: the condition is false, not an error
    ['customer.no_such_field.deeper == 1', false],
    // presence: `in` on a map and has() see what is really there, wherever `has(` appears as text
    ["'tags' in customer", true],
    ["'discount_code' in event.data", false],
    ["!('discount_code' in event.data)", true],
    ["event.data.note == 'has(x)' || event.data.missing == null", true],
  ])('%s → %s', (source, expected) => expect(cond(source)).toBe(expected))

  it('values: lists for for_each, null for a missing field', () => {
    expect(evaluateValue(compileCel('event.data.line_items.map(i, i.sku)'), scope)).toEqual(['SHOE-1', 'HAT'])
    // items handed to for_each are plain data, not the null-reading proxies
    const items = evaluateValue(compileCel('event.data.line_items'), scope) as Array<Record<string, unknown>>
    expect('zzz' in items[0]!).toBe(false)
    expect(items).toEqual(scope.event.data.line_items)
    expect(evaluateValue(compileCel('event.data.nothing_here'), scope)).toBeNull()
  })

  it('a condition that does not compile is rejected with the reason', () => {
    expect(() => compileCel('order.total_price >')).toThrow(CelCompileError)
    expect(() => compileCel('1 + "a"')).toThrow(/no such overload/)
  })
})

describe('what a condition may cost', () => {
  const ten = '[1,2,3,4,5,6,7,8,9,10]'
  it('a list of lists (two nested loops) compiles and evaluates', () => {
    expect(evaluateCondition(compileCel(`${ten}.exists(a, ${ten}.exists(b, a * b == 42))`), {})).toBe(true)
  })
  it('three nested loops are refused at save time, naming the rule (six took seconds per customer, one more level ten times that)', () => {
    const three = `${ten}.all(a, ${ten}.all(b, ${ten}.exists(c, a + b + c == 3)))`
    expect(() => compileCel(three)).toThrow(/nest 2 deep at most/)
    expect(() => compileCel(`${ten}.map(a, ${ten}.filter(b, ${ten}.exists_one(c, c == b)))`)).toThrow(CelCompileError)
  })
})
