import { describe, expect, it } from 'vitest'
import { UserError } from '../../lib/errors.ts'
import { compileTemplate, formatMoney, renderTemplate } from './index.ts'

describe('compileTemplate', () => {
  it('renders over a scope, with missing fields empty', async () => {
    const out = await renderTemplate('Hi {{ customer.first_name }}{{ customer.nothing }}!', 'hello', { customer: { first_name: 'Ada' } })
    expect(out).toBe('Hi Ada!')
  })

  it('names the template and the line of a syntax error', () => {
    let caught: unknown
    try {
      compileTemplate('line one\nline two\n{% iff customer %}x{% endif %}', 'welcome')
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(UserError)
    const err = caught as UserError
    expect(err.code).toBe('validation_failed')
    expect(err.message).toMatch(/^template "welcome" line 3: /)
    expect(err.message).toContain('iff')
    expect(err.details).toMatchObject({ template: 'welcome', line: 3 })
  })

  it('rejects unknown filters when compiled (strict filters)', () => {
    expect(() => compileTemplate('a\n{{ x | shout }}', 'promo')).toThrow(/template "promo" line 2: .*shout/)
  })

  it('reports an unclosed output tag with its line', () => {
    expect(() => compileTemplate('a\n\n{{ customer.first_name', 'reminder')).toThrow(/template "reminder" line 3/)
  })

  it('caches compiled templates by source', () => {
    const a = compileTemplate('{{ x }}', 'a')
    const b = compileTemplate('{{ x }}', 'b')
    expect(a.name).toBe('a')
    expect(b.name).toBe('b')
  })

  it('formats money in the store currency, or a named one', async () => {
    expect(await renderTemplate('{{ total | money }}', 't', { total: '450.5', store: { currency: 'USD' } })).toBe('$450.50')
    expect(await renderTemplate('{{ total | money: "EUR" }}', 't', { total: 12, store: { currency: 'USD' } })).toBe('€12.00')
    expect(await renderTemplate('{{ total | money }}', 't', { total: 'n/a' })).toBe('')
    expect(formatMoney(3, 'XYZ1')).toBe('3.00 XYZ1')
  })
})
