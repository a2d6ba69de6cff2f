import { Liquid } from 'liquidjs'
import { formatMoney } from './money-filter.ts'

/**
 * One Liquid engine for every message template. `strictFilters` makes a misspelt filter a
 * save-time error instead of silently empty output; variables stay lenient because PRODUCT.md
 * promises that a missing field is `null`, never an error. `outputEscape` is off: authors write
 * HTML and escape with `| escape` where they insert customer-typed text.
 */
export function createLiquidEngine(): Liquid {
  const engine = new Liquid({
    strictFilters: true,
    strictVariables: false,
    lenientIf: true,
    cache: false, // compiled templates are cached by compileTemplate, keyed by source
    ownPropertyOnly: true, // a template must not reach prototype members of scope objects
  })
  engine.registerFilter('money', function (this: { context: { getSync(path: string[]): unknown } }, value: unknown, currency?: unknown) {
    // the store's currency unless the template names one: `{{ total | money: "EUR" }}`
    const code = typeof currency === 'string' && currency !== '' ? currency : this.context.getSync(['store', 'currency'])
    return formatMoney(value, typeof code === 'string' ? code : undefined)
  })
  return engine
}
