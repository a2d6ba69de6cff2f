import { brandOf } from '../../contracts/settings.ts'
import { compileTemplate } from '../../core/templates/index.ts'
import {
  htmlToPlainText,
  lintMail,
  listUnsubscribeHeaders,
  renderLayout,
  renderLayoutForText,
  stableMessageId,
  unsubscribeUrl,
  type LayoutBrand,
  type MailLintFinding,
} from '../../core/messaging/index.ts'
import type { ActionContext } from '../../plugin-api/index.ts'
import { renderMaybe, renderVars, withStepVars } from '../messaging/index.ts'

export interface EmailSource {
  /** for error messages: the stored template's name, or `<workflow>:<step>` for inline Liquid */
  name: string
  subject: string
  html: string
  preheader?: string | null
}

export interface RenderedEmail {
  subject: string
  /** the laid-out HTML without tracking: what the outbox stores */
  html: string
  text: string
  messageId: string
  headers: Record<string, string>
  unsubscribeUrl: string | null
}

export async function renderEmail(
  ctx: ActionContext<unknown>,
  source: EmailSource,
  options: { category: 'transactional' | 'marketing'; vars: Record<string, unknown> | undefined },
): Promise<RenderedEmail> {
  const { config } = ctx.services
  // unsubscribe links go in marketing mail only; transactional mail has no list to leave
  const unsubscribe =
    options.category === 'marketing' && ctx.customer
      ? unsubscribeUrl(config.publicUrl, config.secretKey, ctx.store.id, ctx.customer.key, ctx.idempotencyKey)
      : null
  const vars = await renderVars(options.vars, source.name, ctx.scope)
  const recommendations = await recommendationsFor(ctx, source)
  const scope: Record<string, unknown> = { ...withStepVars({ ...ctx.scope, ...recommendations }, vars), unsubscribe_url: unsubscribe }
  // a subject is a header: text, not HTML, and one line, so a line break in a customer's name
  // cannot start a header of its own
  const subject = (await renderMaybe(source.subject, `${source.name} subject`, scope)).replace(/\s*[\r\n]+\s*/g, ' ').trim()
  // the body is HTML: every value is escaped unless the store's template says `| raw`, so a
  // customer's name or address can never become a link, an image or a form in their mail
  const body = await compileTemplate(source.html, source.name, { output: 'html' }).render(scope)
  // text, escaped once by the layout that puts it into the HTML
  const preheader = source.preheader ? (await renderMaybe(source.preheader, `${source.name} preheader`, scope)).trim() : null
  const { html, text } = layOutEmail(ctx.store, body, preheader, unsubscribe)
  return {
    subject,
    html,
    text,
    messageId: stableMessageId(ctx.idempotencyKey, config.publicUrl),
    headers: unsubscribe ? listUnsubscribeHeaders(unsubscribe) : {},
    unsubscribeUrl: unsubscribe,
  }
}

/** The body in the store's layout, and the plain-text part made from it. */
export function layOutEmail(
  store: { name: string; settings: Record<string, unknown> },
  body: string,
  preheader: string | null,
  unsubscribe: string | null,
): { html: string; text: string } {
  const layout = { body, storeName: store.name, preheader, unsubscribeUrl: unsubscribe, brand: layoutBrand(store.settings) }
  // the text is the same as htmlToPlainText(html), from the layout without its styles and head
  return { html: renderLayout(layout), text: htmlToPlainText(renderLayoutForText(layout)) }
}

/**
 * What the mail lint says about a template as the store would send it: rendered over `scope` (a
 * sample) in the store's layout, as transactional mail, since the layout adds the unsubscribe
 * link and headers to marketing mail itself. A template that fails to render has nothing to say
 * here: the send would name the error.
 */
export async function templateLintFindings(
  source: EmailSource,
  store: { name: string; settings: Record<string, unknown> },
  scope: Record<string, unknown>,
): Promise<MailLintFinding[]> {
  try {
    const subject = (await renderMaybe(source.subject, `${source.name} subject`, scope)).replace(/\s*[\r\n]+\s*/g, ' ').trim()
    const body = await compileTemplate(source.html, source.name, { output: 'html' }).render(scope)
    const preheader = source.preheader ? (await renderMaybe(source.preheader, `${source.name} preheader`, scope)).trim() : null
    const { html, text } = layOutEmail(store, body, preheader, null)
    return lintMail({ subject, html, text, category: 'transactional', headers: {} })
  } catch {
    return []
  }
}

/** The store's look from its settings (`brand`, `shop_url`); what is not set keeps the plain look. */
export function layoutBrand(settings: Record<string, unknown>): LayoutBrand {
  const brand = brandOf(settings)
  return {
    logoUrl: brand.logo_url,
    logoWidth: brand.logo_width,
    logoHeight: brand.logo_height,
    primaryColor: brand.primary_color,
    backgroundColor: brand.background_color,
    footerText: brand.footer_text,
    shopUrl: typeof settings.shop_url === 'string' ? settings.shop_url : null,
  }
}

/** how many "bought together" SKUs a template's `recommendations` holds */
export const EMAIL_RECOMMENDATIONS = 4

/**
 * `recommendations` for the template: the run's customer's "bought together" SKUs
 * ([{ sku, product_id, title, score }], best first), loaded only when the template mentions them.
 */
async function recommendationsFor(ctx: ActionContext<unknown>, source: EmailSource): Promise<Record<string, unknown>> {
  const text = `${source.subject}\n${source.html}\n${source.preheader ?? ''}`
  if (!/\brecommendations\b/.test(text)) return {}
  if (!ctx.customer) return { recommendations: [] }
  return { recommendations: await ctx.services.recommendations.forCustomer(ctx.customer.key, EMAIL_RECOMMENDATIONS) }
}
