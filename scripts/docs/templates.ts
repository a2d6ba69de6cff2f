import { isMap, isScalar, parseDocument, type Node } from 'yaml'
import { createActionRegistry } from '../../src/actions/index.ts'
import { describeTrigger } from '../../src/cli/commands/workflows.ts'
import { DEFAULT_SETTINGS, settingsSchema, type Settings } from '../../src/contracts/settings.ts'
import { varReferences } from '../../src/core/cel.ts'
import { wholeVar } from '../../src/core/workflow/vars.ts'
import { loadTemplates, type Template } from '../../src/services/template-library.ts'
import type { ActionDefinition } from '../../src/plugin-api/define-action.ts'
import { anchor, code, document, generatedBanner, table } from './markdown.ts'

/**
 * What a template's actions need beyond storeflow itself, by action type: what a store sets up
 * before activating it. An action not listed needs nothing outside storeflow.
 */
const NEEDS: Record<string, string> = {
  send_email: 'an SMTP server (`SMTP_URL`) for its mail; without one, mail stays in the outbox (dashboard)',
  send_sms: 'an SMS provider (`STOREFLOW_SMS_URL`); without one, texts stay in the outbox',
  notify_team: "a chat incoming webhook for the team (`STOREFLOW_TEAM_WEBHOOK_URL`, or the step's `webhook_url`)",
  create_purchase_order: 'suppliers that list the SKU (`/api/v1/suppliers`) and, to email the order, an SMTP server (`SMTP_URL`)',
  create_shipping_label: 'the `shippo` integration ([integrations.md](integrations.md))',
  sync_audience: 'the `meta_ads` integration ([integrations.md](integrations.md))',
  post_social: 'the `buffer` integration ([integrations.md](integrations.md))',
  sync_channels: 'a Shopify or WooCommerce connector for each sales channel to update',
  hold_order: 'optionally a Shopify connector with an access token, to hold the order in the shop too (else the hold is in storeflow only)',
  tag_order: 'optionally a Shopify connector with an access token, to tag the order in the shop too',
  create_discount_code: 'optionally a Shopify connector with an access token, so the codes are created in the shop and can be redeemed there',
}

/** Store settings a derived trigger depends on (docs/events.md), by event type. */
const TRIGGER_SETTINGS: Record<string, Array<keyof Settings>> = {
  'cart.abandoned': ['cart_abandoned_after'],
  'customer.inactive': ['inactive_after'],
  'subscription.renewal_due': ['renewal_notice'],
}

/** Other things outside the file a trigger depends on, by event type. */
const TRIGGER_NOTES: Record<string, string> = {
  'inventory.low': "each SKU's reorder point (`PUT /api/v1/inventory/{sku}/reorder-point`, else the forecast's)",
  'customer.birthday': "customers' `birthday` (and `timezone`), sent by the shop",
  'invoice.overdue': "the invoice's due date (`due_in` of the `create_invoice` step that made it)",
}

type Raw = Record<string, unknown>

interface VarInfo {
  name: string
  value: unknown
  comment: string
}

/** A template's `vars:` with the comment written beside or above each. */
function varsOf(source: string): VarInfo[] {
  const doc = parseDocument(source)
  const vars = doc.get('vars', true)
  if (!isMap(vars)) return []
  return vars.items.map((pair, i) => {
    const key = pair.key as Node | null
    const value = pair.value as Node | null
    const comment = (value as { comment?: string } | null)?.comment ?? key?.commentBefore ?? (i === 0 ? vars.commentBefore : undefined) ?? ''
    return {
      name: isScalar(key) ? String(key.value) : String(key),
      value: isScalar(value) ? value.value : null,
      comment: comment.replace(/\s*\n\s*/g, ' ').trim(),
    }
  })
}

/** Words for a template's timeline and settings, with its vars and actions at hand. */
class Narrator {
  constructor(
    private readonly vars: Map<string, unknown>,
    private readonly actions: ReadonlyMap<string, ActionDefinition>,
  ) {}

  /** A value as written, then `unit`: a var reference shows the var's default, then its name. */
  value(v: unknown, unit = ''): string {
    const name = wholeVar(v)
    if (name !== null) return `${String(this.vars.get(name))}${unit} (${code(`vars.${name}`)})`
    return `${typeof v === 'string' ? v : JSON.stringify(v)}${unit}`
  }

  /** Text with `{{ vars.NAME }}` shown as its default, for a subject line. */
  text(v: unknown): string {
    return String(v).replace(/\{\{\s*vars\.([A-Za-z_]\w*)\s*\}\}/g, (whole, name: string) => (this.vars.has(name) ? String(this.vars.get(name)) : whole))
  }

  /** A CEL condition, with the defaults of the vars it reads. */
  condition(expr: string): string {
    const used = varReferences(expr).filter((n) => this.vars.has(n))
    return `${code(expr)}${used.length > 0 ? ` (${used.map((n) => `${n} = ${String(this.vars.get(n))}`).join(', ')})` : ''}`
  }

  action(step: Raw): string {
    const type = String(step.action)
    const w = (step.with ?? {}) as Raw
    switch (type) {
      case 'send_email': {
        const what = typeof w.template === 'string' ? `email (message template ${code(w.template)})` : `email "${this.text(w.subject ?? '')}"`
        return `${what}${w.category === 'transactional' ? ', transactional' : ''}`
      }
      case 'send_sms':
        return `text message${w.category === 'transactional' ? ', transactional' : ''}`
      case 'create_discount_code': {
        const parts = [
          w.percent !== undefined ? this.value(w.percent, '% off') : null,
          w.amount !== undefined ? this.value(w.amount, ' off') : null,
          w.free_shipping !== undefined && w.free_shipping !== false
            ? `free shipping${wholeVar(w.free_shipping) ? ` (${code(`vars.${wholeVar(w.free_shipping)}`)})` : ''}`
            : null,
          w.min_spend !== undefined ? `over ${this.value(w.min_spend)}` : null,
          w.expires_in !== undefined ? `valid ${this.value(w.expires_in)}` : null,
        ].filter((p) => p !== null)
        return `discount code${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`
      }
      case 'tag_customer':
      case 'untag_customer':
      case 'tag_order': {
        const tags = Array.isArray(w.tags) ? w.tags.map((t) => code(String(t))).join(', ') : ''
        const verb = type === 'untag_customer' ? 'remove the tag' : 'tag'
        const who = type === 'tag_order' ? 'the order' : 'the customer'
        return type === 'untag_customer' ? `${verb} ${tags} from ${who}` : `${verb} ${who} ${tags}`
      }
      case 'notify_team':
        return 'team chat message'
      case 'hold_order':
        return 'hold the order for review'
      case 'cancel_runs': {
        const list = Array.isArray(w.workflows) ? w.workflows.map((x) => code(String(x))).join(', ') : 'named workflows'
        return `end the customer's runs of ${list}`
      }
      case 'create_purchase_order':
        return `purchase order${w.send === true ? ' emailed to the supplier' : ''}`
      default: {
        const title = this.actions.get(type)?.title ?? type
        return `${title.charAt(0).toLowerCase()}${title.slice(1)}`
      }
    }
  }

  /** Steps as one line: for branches and loops inside the timeline. */
  inline(steps: unknown): string {
    if (!Array.isArray(steps) || steps.length === 0) return 'nothing'
    const parts: string[] = []
    let after = ''
    for (const s of steps as Raw[]) {
      if ('wait' in s) {
        after = `${this.wait(s.wait)}, `
        continue
      }
      parts.push(`${after}${this.step(s)}`)
      after = ''
    }
    if (after) parts.push(`${after}nothing more`)
    return parts.join(', then ')
  }

  /** A wait: `after 4h`, or `4h later` when `later`; a wait until a time says so. */
  wait(spec: unknown, later = false): string {
    if (spec && typeof spec === 'object') {
      const { until, timezone } = spec as { until?: string; timezone?: string }
      return `${later ? 'then ' : ''}at ${code(String(until))}${timezone ? ` (${timezone} time)` : ''}`
    }
    return later ? this.value(spec, ' later') : `after ${this.value(spec)}`
  }

  step(step: Raw): string {
    if ('action' in step) return this.action(step)
    if ('if' in step) {
      const otherwise = Array.isArray(step.else) && step.else.length > 0 ? `; otherwise: ${this.inline(step.else)}` : ''
      return `if ${this.condition(String(step.if))}: ${this.inline(step.then)}${otherwise}`
    }
    if ('wait' in step) return this.wait(step.wait)
    if ('wait_for' in step) {
      const spec = step.wait_for as Raw
      const match = typeof spec.match === 'string' ? ` where ${this.condition(spec.match)}` : ''
      const parts = [
        `wait up to ${this.value(spec.timeout)} for ${code(String(spec.event))}${match}`,
        Array.isArray(step.received) && step.received.length > 0 ? `if it comes: ${this.inline(step.received)}` : null,
        Array.isArray(step.timed_out) && step.timed_out.length > 0 ? `if not: ${this.inline(step.timed_out)}` : null,
      ]
      return parts.filter((p) => p !== null).join('; ')
    }
    if ('split' in step) {
      const variants = ((step.split as Raw).variants ?? []) as Raw[]
      return `A/B split: ${variants.map((v) => `${code(String(v.id))} (weight ${this.value(v.weight)}): ${this.inline(v.steps)}`).join('; ')}`
    }
    if ('for_each' in step) return `for each of ${this.condition(String(step.for_each))}: ${this.inline(step.steps)}`
    if ('exit' in step) return `stop${typeof step.exit === 'string' ? ` (${step.exit})` : ''}`
    return 'a step'
  }

  /**
   * The top-level steps as moments: each `wait` starts a new one ("after 4h", "1d later"), and the
   * steps after it are what happens then. Waits inside branches stay inside their line.
   */
  timeline(steps: unknown): string[] {
    if (!Array.isArray(steps)) return []
    const moments: Array<{ at: string; what: string[] }> = []
    let current: { at: string; what: string[] } = { at: 'at once', what: [] }
    let waited = false
    for (const s of steps as Raw[]) {
      if ('wait' in s) {
        if (current.what.length > 0) moments.push(current)
        else if (current.at !== 'at once') current.what.push('nothing')
        current = { at: this.wait(s.wait, waited), what: [] }
        waited = true
        continue
      }
      current.what.push(this.step(s))
      if ('wait_for' in s) {
        moments.push(current)
        current = { at: 'then', what: [] }
        waited = true
      }
    }
    if (current.what.length > 0) moments.push(current)
    return moments.map((m, i) => `${i + 1}. **${m.at}**: ${m.what.join(', then ')}`)
  }
}

/** Every action a template's steps use, in the order they first appear. */
function actionsIn(steps: unknown, out: string[] = []): string[] {
  if (Array.isArray(steps)) for (const s of steps) actionsIn(s, out)
  else if (steps && typeof steps === 'object') {
    for (const [key, value] of Object.entries(steps)) {
      if (key === 'action' && typeof value === 'string') {
        if (!out.includes(value)) out.push(value)
      } else if (key !== 'with' && typeof value === 'object') actionsIn(value, out)
    }
  }
  return out
}

/** Whether any send_email or send_sms step of the template is marketing mail (the default category). */
function sendsMarketing(steps: unknown): boolean {
  if (Array.isArray(steps)) return steps.some(sendsMarketing)
  if (!steps || typeof steps !== 'object') return false
  const s = steps as Raw
  if ((s.action === 'send_email' || s.action === 'send_sms') && ((s.with ?? {}) as Raw).category !== 'transactional') return true
  return Object.entries(s).some(([k, v]) => k !== 'with' && typeof v === 'object' && sendsMarketing(v))
}

function reentryText(reentry: unknown): string | null {
  if (!reentry || typeof reentry !== 'object') return null
  const r = reentry as Raw
  const per = r.per_customer ?? 'always'
  const base = per === 'once' ? 'once per customer, ever' : per === 'once_per' ? `once per customer per ${String(r.window)}` : 'every time it is triggered'
  return `${base}${r.concurrent === true ? ', runs may overlap' : ', one run per customer at a time'}`
}

function status(t: Template): string {
  return t.missingActions.length > 0 ? `needs ${t.missingActions.map(code).join(', ')}` : t.problem ? 'does not parse' : 'ready'
}

function templateSection(t: Template, actions: ReadonlyMap<string, ActionDefinition>): string {
  const raw = (parseDocument(t.source).toJS() ?? {}) as Raw
  const vars = varsOf(t.source)
  const say = new Narrator(new Map(vars.map((v) => [v.name, v.value])), actions)
  const trigger = (raw.trigger ?? {}) as Raw
  const eventType = typeof trigger.event === 'string' ? trigger.event : trigger.cron ? 'schedule.tick' : ''

  const conditions = [
    typeof trigger.filter === 'string' ? `the event matches ${say.condition(trigger.filter)}` : null,
    typeof raw.when === 'string' ? `starts only when ${say.condition(raw.when)}` : null,
    ...(Array.isArray(raw.exit_when) ? (raw.exit_when as Raw[]) : []).map(
      (g) => `ends early on ${code(String(g.event))}${typeof g.match === 'string' ? ` where ${say.condition(g.match)}` : ''}`,
    ),
    reentryText(raw.reentry),
    raw.holdout !== undefined ? `holdout ${say.value(raw.holdout)}${typeof raw.holdout === 'number' ? '%' : ''} of customers (no actions)` : null,
  ].filter((c): c is string => c !== null)

  const used = actionsIn(raw.steps)
  // in the table's order: what it cannot do without first, the optional connectors last
  const needs = Object.entries(NEEDS)
    .filter(([action]) => used.includes(action))
    .map(([, need]) => need)
    .filter((need, i, all) => all.indexOf(need) === i)
  if (TRIGGER_NOTES[eventType]) needs.push(TRIGGER_NOTES[eventType]!)

  const descriptions = settingsSchema.shape
  const storeSettings: Array<keyof Settings> = [...(TRIGGER_SETTINGS[eventType] ?? [])]
  if (sendsMarketing(raw.steps)) storeSettings.push('frequency_cap', 'quiet_hours')
  const settingRows = [
    ...vars.map((v) => [code(`vars.${v.name}`), code(String(v.value)), v.comment]),
    ...storeSettings.map((key) => [
      `${code(key)} (store setting)`,
      code(typeof DEFAULT_SETTINGS[key] === 'object' && DEFAULT_SETTINGS[key] !== null ? JSON.stringify(DEFAULT_SETTINGS[key]) : String(DEFAULT_SETTINGS[key])),
      descriptions[key].description ?? '',
    ]),
  ]

  const notes = [
    vars.length > 0
      ? `A \`vars.\` value is changed in the workflow: \`storeflow workflows export ${t.name}\`, edit its \`vars:\` block, \`storeflow workflows import\` the file (a new version; runs already going keep theirs).`
      : null,
    storeSettings.length > 0 ? 'A store setting is changed with `PUT /api/v1/settings` and holds for every workflow of the store.' : null,
  ].filter((n): n is string => n !== null)

  return [
    `## ${t.name}`,
    `**${t.title}.** ${t.description}`,
    table(
      ['', ''],
      [
        ['trigger', code(describeTrigger(t.trigger))],
        ['conditions', conditions.length > 0 ? conditions.join('; ') : 'none'],
        ['actions', used.map(code).join(', ')],
        ['needs', needs.length > 0 ? needs.join('; ') : 'nothing outside storeflow'],
        ['status', status(t)],
      ],
    ),
    `### Timeline\n\n${say.timeline(raw.steps).join('\n')}`,
    `### Settings to change\n\n${settingRows.length > 0 ? [table(['setting', 'default', 'what it is'], settingRows), ...notes].join('\n\n') : 'None: it has no vars, and no store setting changes what it does.'}`,
  ].join('\n\n')
}

/** docs/templates.md: the built-in template library (templates/workflows/*.yaml), as `storeflow templates list` sees it. */
export function templatesDoc(): string {
  const actions = createActionRegistry()
  const templates = loadTemplates(actions)
  return document([
    generatedBanner(['templates/workflows/*.yaml']),
    '# Workflow templates',
    'Ready-made workflows in `templates/workflows/`. `storeflow templates install NAME` saves one as an inactive workflow of the store; read it with `storeflow workflows export NAME`, change what you like ([workflows.md](workflows.md)), then `storeflow workflows activate NAME`. The delays, thresholds and discount values of each are [vars](workflows.md#vars) at the top of its file, listed below under "Settings to change" with their defaults. A template that needs an action this version does not have cannot be installed.',
    table(
      ['template', 'trigger', 'what it does', 'status'],
      templates.map((t) => [`[${code(t.name)}](#${anchor(t.name)})<br>${t.title}`, code(describeTrigger(t.trigger)), t.description, status(t)]),
    ),
    ...templates.map((t) => templateSection(t, actions)),
  ])
}
