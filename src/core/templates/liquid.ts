import { Liquid, filters as builtinFilters } from 'liquidjs'
import { formatMoney } from './money-filter.ts'

/**
 * One Liquid engine for every message template. `strictFilters` makes a misspelt filter a
 * save-time error instead of silently empty output; variables stay lenient because docs/workflows.md
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
  engine.registerFilter('date', dateFilter)
  return engine
}

type FilterThis = { context: { opts: { locale: string } } }
type DateFilter = (this: FilterThis, value: unknown, format?: unknown, timezoneOffset?: unknown) => unknown
const builtinDate = (builtinFilters as unknown as { date: DateFilter }).date

/** strftime conversions that liquidjs answers with a new `Intl.DateTimeFormat` on every call */
const NAME_PARTS: Record<string, Intl.DateTimeFormatOptions> = {
  a: { weekday: 'short' },
  A: { weekday: 'long' },
  b: { month: 'short' },
  h: { month: 'short' },
  B: { month: 'long' },
}
/** liquidjs's own strftime token pattern, scanned the same way (left to right, no overlap) */
const STRFTIME_TOKEN = /%([-_0^#:]+)?(\d+)?([EO])?(.)/g
const HAS_NAME = /%[-_0^#:]*\d*[EO]?[aAbBh]/

const nameFormats = new Map<string, Intl.DateTimeFormat>()
function nameFormat(locale: string, conversion: string): Intl.DateTimeFormat {
  const key = `${locale}\u0000${conversion}`
  let format = nameFormats.get(key)
  if (!format) {
    format = new Intl.DateTimeFormat(locale || undefined, { ...NAME_PARTS[conversion], timeZone: 'UTC' })
    nameFormats.set(key, format)
  }
  return format
}

/**
 * liquidjs's `date` filter, with month and weekday names (`%B %b %h %A %a`) from cached
 * `Intl.DateTimeFormat`s: liquidjs builds a new formatter for each name, which costs more than
 * rendering the rest of an order confirmation. The output is the same: the names are looked up
 * for the month and weekday liquidjs itself computes (`%m`, `%w`, in the same time zone) and
 * put into the format as literal text; everything else, and any name token with flags or a
 * width, is left to liquidjs.
 */
function dateFilter(this: FilterThis, value: unknown, format?: unknown, timezoneOffset?: unknown): unknown {
  if (typeof format !== 'string' || !HAS_NAME.test(format)) return builtinDate.call(this, value, format, timezoneOffset)
  // one instant for both calls below
  const v = value === 'now' || value === 'today' ? new Date() : value
  const parts = builtinDate.call(this, v, '%m %w', timezoneOffset)
  const m = typeof parts === 'string' ? /^(\d\d) (\d)$/.exec(parts) : null
  if (!m) return builtinDate.call(this, v, format, timezoneOffset)
  const month = Number(m[1]) - 1
  const weekday = Number(m[2])
  const locale = this.context.opts.locale
  let plain = true
  const rewritten = format.replace(STRFTIME_TOKEN, (token, flags: string | undefined, width: string | undefined, modifier: string | undefined, conversion: string) => {
    if (!(conversion in NAME_PARTS)) return token
    if (flags || width || modifier) {
      plain = false
      return token
    }
    // 2000-01-02 was a Sunday (%w = 0)
    const at = conversion === 'a' || conversion === 'A' ? Date.UTC(2000, 0, 2 + weekday) : Date.UTC(2000, month, 15)
    return nameFormat(locale, conversion).format(at).replace(/%/g, '%%')
  })
  return builtinDate.call(this, v, plain ? rewritten : format, timezoneOffset)
}
