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

describe('HTML output', () => {
  const html = (source: string, scope: Record<string, unknown>) => compileTemplate(source, 'body', { output: 'html' }).render(scope)
  const evil = '<a href="https://evil.example/">Claim</a> & \'more\''

  it('escapes every value by default, in text and in attributes', async () => {
    expect(await html('<p>Hi {{ name }}</p>', { name: evil })).toBe(
      '<p>Hi &lt;a href=&#34;https://evil.example/&#34;&gt;Claim&lt;/a&gt; &amp; &#39;more&#39;</p>',
    )
    expect(await html('<a href="https://shop.test/o/{{ id }}">x</a>', { id: '1" onclick="x' })).toBe(
      '<a href="https://shop.test/o/1&#34; onclick=&#34;x">x</a>',
    )
    expect(await html('{% for n in names %}{{ n | upcase }}{% endfor %}{% echo names[0] %}', { names: ['<b>', '&'] })).toBe('&lt;B&gt;&amp;&lt;b&gt;')
  })

  it('prints store-authored HTML as it is when it opts out with raw', async () => {
    expect(await html('{{ banner | raw }}', { banner: '<p><a href="https://shop.test/sale">Sale</a></p>' })).toBe(
      '<p><a href="https://shop.test/sale">Sale</a></p>',
    )
  })

  it('escapes inside a capture, so the captured block is printed with raw', async () => {
    expect(await html('{% capture hi %}<b>{{ name }}</b>{% endcapture %}{{ hi | raw }}', { name: '<i>x</i>' })).toBe('<b>&lt;i&gt;x&lt;/i&gt;</b>')
  })

  it('does not escape twice what a template escapes itself', async () => {
    expect(await html('{{ name | escape }}|{{ name | escape_once }}', { name: 'Tom & <Jerry>' })).toBe('Tom &amp; &lt;Jerry&gt;|Tom &amp; &lt;Jerry&gt;')
  })

  it('keeps money and dates as they were', async () => {
    expect(await html('{{ total | money }} {{ total | money: "EUR" }}', { total: '1234.5', store: { currency: 'USD' } })).toBe('$1,234.50 €1,234.50')
    expect(await html('{{ at | date: "%B %-d, %Y" }}', { at: '2026-11-22T10:00:00Z' })).toBe('November 22, 2026')
  })

  it('leaves text output (subjects, SMS, chat) unescaped, and caches each kind apart', async () => {
    const source = 'Hi {{ name }}'
    expect(await compileTemplate(source, 'subject').render({ name: evil })).toBe(`Hi ${evil}`)
    expect(await html(source, { name: evil })).not.toContain('<a')
    expect(await compileTemplate(source, 'subject').render({ name: evil })).toBe(`Hi ${evil}`)
  })
})

describe('date filter', () => {
  it('gives what the stock liquidjs date filter gives, names included', async () => {
    const { Liquid } = await import('liquidjs')
    const { createLiquidEngine } = await import('./liquid.ts')
    const ours = createLiquidEngine()
    const stock = new Liquid()
    const formats = ['%B %d, %Y', '%b %e', '%A, %a %h', '%^B %-d', '%%B %B', '100%% %A%', '%10B|%a', '%EB', '%Y-%m-%d %H:%M']
    const values = ['2026-11-22T18:27:36Z', '2026-03-01T00:30:00+02:00', '2025-12-31T23:59:59Z', 1700000000, 'not a date', null]
    for (const f of formats) {
      for (const v of values) {
        for (const tz of [undefined, -540, 'America/New_York']) {
          const tpl = tz === undefined ? '{{ v | date: f }}' : '{{ v | date: f, tz }}'
          expect(ours.parseAndRenderSync(tpl, { v, f, tz }), `${f} ${String(v)} ${String(tz)}`).toBe(stock.parseAndRenderSync(tpl, { v, f, tz }))
        }
      }
    }
  })
})
