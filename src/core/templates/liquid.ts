import { Liquid, filters as builtinFilters } from 'liquidjs'
import { formatMoney } from './money-filter.ts'

/**
 * What a template's output becomes. `html`: an email body, where every `{{ }}` is HTML-escaped
 * unless its last filter is `raw` (customer-typed text must never become markup); `chat`: a
 * chat message (Slack-style incoming webhooks), where every `{{ }}` has `&`, `<` and `>` escaped
 * as those services document, so a customer named `<!channel>` cannot ping a channel or forge a
 * link, while links the store wrote around them still work; `text`: subjects, SMS and action
 * inputs, printed as they are.
 */
export type TemplateOutput = 'html' | 'chat' | 'text'

/** The escaping Slack (and Mattermost, Teams' Slack-compatible hooks) document for message text. */
export function escapeChat(value: unknown): string {
  return String(value ?? '').replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
}

/**
 * A Liquid engine for message templates. `strictFilters` makes a misspelt filter a save-time
 * error instead of silently empty output; variables stay lenient because docs/workflows.md promises
 * that a missing field is `null`, never an error.
 *
 * For `html` output, liquidjs's `outputEscape: 'escape'` appends its `escape` filter to every
 * `{{ }}` (and `echo`, `cycle`) at parse time, unless the last filter is flagged raw. We flag
 * `raw` (the store's explicit opt-out for HTML it wrote itself), and also `escape` and
 * `escape_once`, so a template that already escaped a value is not escaped twice.
 */
/** Tags that read other templates from files. */
const FILE_TAGS = ['render', 'include', 'layout'] as const

/**
 * What one template may cost. Far above what an order confirmation with hundreds of line items
 * needs, far below what would stall the process for the other stores: liquidjs counts `memoryUnits`
 * as characters of text and items of lists a render builds (append, ranges, joins …), and checks
 * `renderMs` between the nodes it renders.
 */
export const TEMPLATE_LIMITS = {
  sourceCharacters: 1_000_000,
  renderMs: 2_000,
  memoryUnits: 16_000_000,
} as const

export function createLiquidEngine(output: TemplateOutput = 'text'): Liquid {
  const engine = new Liquid({
    strictFilters: true,
    strictVariables: false,
    lenientIf: true,
    cache: false, // compiled templates are cached by compileTemplate, keyed by source
    ownPropertyOnly: true, // a template must not reach prototype members of scope objects
    ...(output === 'html' ? { outputEscape: 'escape' as const } : output === 'chat' ? { outputEscape: escapeChat } : {}),
    // Every store's templates run in the one process all stores share. No files: an empty
    // in-memory mapping replaces liquidjs's default of reading the working directory (where the
    // data directory and its secret key live), and the tags that load files are refused at parse
    // time, so a workflow or template using them is refused when it is saved.
    templates: {},
    // Bounded work: a template's source, its render time and the text and lists it builds.
    parseLimit: TEMPLATE_LIMITS.sourceCharacters,
    renderLimit: TEMPLATE_LIMITS.renderMs,
    memoryLimit: TEMPLATE_LIMITS.memoryUnits,
  })
  for (const tag of FILE_TAGS) {
    engine.registerTag(tag, {
      parse() {
        throw new Error(`the {% ${tag} %} tag is not available: storeflow templates cannot load other files; use a stored message template or vars`)
      },
      render() {},
    })
  }
  if (output === 'html') {
    const builtin = builtinFilters as unknown as Record<string, (this: unknown, value: unknown) => string>
    for (const name of ['escape', 'escape_once', 'xml_escape']) engine.registerFilter(name, { raw: true, handler: builtin[name]! })
  }
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
  const rewritten = format.replace(
    STRFTIME_TOKEN,
    (token, flags: string | undefined, width: string | undefined, modifier: string | undefined, conversion: string) => {
      if (!(conversion in NAME_PARTS)) return token
      if (flags || width || modifier) {
        plain = false
        return token
      }
      // 2000-01-02 was a Sunday (%w = 0)
      const at = conversion === 'a' || conversion === 'A' ? Date.UTC(2000, 0, 2 + weekday) : Date.UTC(2000, month, 15)
      return nameFormat(locale, conversion).format(at).replace(/%/g, '%%')
    },
  )
  return builtinDate.call(this, v, plain ? rewritten : format, timezoneOffset)
}
