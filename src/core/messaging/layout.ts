import { HEX_COLOR, isWebUrl } from '../../contracts/settings.ts'

/**
 * The responsive email layout every send_email body is wrapped in. Tables and inline CSS because
 * Outlook and Gmail ignore most <style> and all flexbox; max-width 600px is what every client
 * renders well; the preheader is the hidden line inbox lists show after the subject.
 */
export interface LayoutOptions {
  /** the rendered template body (a fragment, or a full document that is left as it is) */
  body: string
  storeName: string
  preheader?: string | null
  /** the unsubscribe link; given for marketing mail, which must show it visibly */
  unsubscribeUrl?: string | null
  /** for `<html lang>`; default `en` */
  lang?: string
  /** the store's logo, colours and footer (settings `brand`); default: the plain look */
  brand?: LayoutBrand | null
}

/**
 * The store's look (settings `brand` and `shop_url`). Settings are validated when saved; the
 * layout checks again and drops what does not pass, so no stored value can add markup or CSS.
 */
export interface LayoutBrand {
  /** http(s) image URL; the header shows it instead of the name, with the name as alt text */
  logoUrl?: string | null
  /** CSS pixels; default 160 × 48 */
  logoWidth?: number
  logoHeight?: number
  /** #rrggbb: header band, links and buttons; null: the plain look */
  primaryColor?: string | null
  /** #rrggbb around the message card; default #f4f4f5 */
  backgroundColor?: string | null
  /** text under every mail (a postal address); line breaks kept */
  footerText?: string | null
  /** http(s): where the logo (or name) in the header links */
  shopUrl?: string | null
}

const UNSUBSCRIBE_MARKER = 'data-sf-unsubscribe'
const INK = '#111827'
const MUTED = '#6b7280'
const FONT = 'font-family:Helvetica,Arial,sans-serif;'

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)
}

/** the brand with every value checked: colours #rrggbb, URLs http(s), sizes whole pixels in range */
interface Look {
  logo: { url: string; width: number; height: number } | null
  primary: string | null
  /** text on the primary colour: white or ink, whichever reads better */
  onPrimary: string
  background: string
  footer: string | null
  shopUrl: string | null
}

function lookOf(brand: LayoutBrand | null | undefined): Look {
  const color = (value: string | null | undefined) => (value && HEX_COLOR.test(value) ? value.toLowerCase() : null)
  const url = (value: string | null | undefined) => (value && value.length <= 2048 && isWebUrl(value) ? value : null)
  const px = (value: number | undefined, fallback: number, max: number) =>
    Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max ? (value as number) : fallback
  const logoUrl = url(brand?.logoUrl)
  const primary = color(brand?.primaryColor)
  return {
    logo: logoUrl ? { url: logoUrl, width: px(brand?.logoWidth, 160, 600), height: px(brand?.logoHeight, 48, 300) } : null,
    primary,
    onPrimary: primary && luminance(primary) > 0.4 ? INK : '#ffffff',
    background: color(brand?.backgroundColor) ?? '#f4f4f5',
    footer: brand?.footerText?.trim() ? brand.footerText.trim() : null,
    shopUrl: url(brand?.shopUrl),
  }
}

/** WCAG relative luminance of #rrggbb, 0 (black) to 1 (white) */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

function preheaderHtml(preheader: string): string {
  // the trailing &zwnj;&nbsp; run keeps clients from pulling body text into the preview
  return (
    `<div class="sf-preheader" style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;">` +
    `${escapeHtml(preheader)}${'&zwnj;&nbsp;'.repeat(40)}</div>`
  )
}

function unsubscribeHtml(url: string, storeName: string): string {
  return (
    `<p class="sf-unsubscribe" style="margin:8px 0 0 0;font-size:12px;line-height:18px;color:${MUTED};">` +
    `You receive this because you subscribed to news from ${escapeHtml(storeName)}. ` +
    `<a href="${escapeHtml(url)}" ${UNSUBSCRIBE_MARKER}="1" style="color:${MUTED};text-decoration:underline;">Unsubscribe</a></p>`
  )
}

/**
 * The header's content: the logo (alt text the store name, so a client that blocks images and
 * the plain-text part both show the name) or the name, linked to the shop when it has a URL.
 * `styled: false` is the same markup without the inline CSS, for the plain-text part.
 */
function headerHtml(storeName: string, look: Look, styled: boolean): string {
  const store = escapeHtml(storeName)
  const ink = look.primary ? look.onPrimary : INK
  const css = (style: string) => (styled ? ` style="${style}"` : '')
  const inner = look.logo
    ? `<img src="${escapeHtml(look.logo.url)}" alt="${store}" width="${look.logo.width}" height="${look.logo.height}"` +
      `${css(`display:block;border:0;outline:none;text-decoration:none;height:auto;max-width:100%;${FONT}font-size:20px;line-height:28px;font-weight:bold;color:${ink};`)}>`
    : store
  return look.shopUrl ? `<a href="${escapeHtml(look.shopUrl)}"${css(`color:${ink};text-decoration:none;`)}>${inner}</a>` : inner
}

function footerTextHtml(look: Look): string {
  return look.footer ? `<p style="margin:4px 0 0 0;">${escapeHtml(look.footer).replace(/\r?\n/g, '<br>')}</p>` : ''
}

/**
 * The primary colour on the body's links, and buttons: `<a class="sf-button">` becomes a button
 * (a padded block in the primary colour, dark in the plain look). Only tags without a style of
 * their own change: an author's inline style wins. Every `<a>` in a body is the store's (Liquid
 * escapes what customers wrote), so this styles nothing a customer typed.
 */
function styleLinks(body: string, look: Look): string {
  const fill = look.primary ?? INK
  const text = look.primary ? look.onPrimary : '#ffffff'
  return body.replace(/<a\b(?![^>]*\sstyle\s*=)([^>]*)>/gi, (whole, attrs: string) => {
    if (/\sclass\s*=\s*(["'])(?:[^"']*\s)?sf-button(?:\s[^"']*)?\1/i.test(attrs)) {
      return `<a${attrs} style="display:inline-block;padding:12px 24px;border-radius:4px;background-color:${fill};color:${text};${FONT}font-size:16px;line-height:20px;font-weight:bold;text-decoration:none;">`
    }
    return look.primary ? `<a${attrs} style="color:${look.primary};">` : whole
  })
}

export function renderLayout(options: LayoutOptions): string {
  const { body, storeName, preheader, unsubscribeUrl } = options
  if (/<html[\s>]/i.test(body)) return completeDocument(body, options)
  const store = escapeHtml(storeName)
  const look = lookOf(options.brand)
  const band = look.primary ? `background-color:${look.primary};border-radius:6px 6px 0 0;padding:20px 32px;` : 'padding:24px 32px 8px 32px;'
  const ink = look.primary ? look.onPrimary : INK
  return `<!DOCTYPE html>
<html lang="${escapeHtml(options.lang ?? 'en')}" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>${store}</title>
</head>
<body style="margin:0;padding:0;width:100%;background-color:${look.background};-webkit-text-size-adjust:100%;-ms-text-size-adjust:100%;">
${preheader ? preheaderHtml(preheader) : ''}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:${look.background};">
<tr><td align="center" style="padding:24px 12px;">
<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;width:100%;background-color:#ffffff;border-radius:6px;">
<tr><td class="sf-header" style="${band}${FONT}font-size:20px;line-height:28px;font-weight:bold;color:${ink};">${headerHtml(storeName, look, true)}</td></tr>
<tr><td class="sf-body" style="padding:${look.primary ? '24px' : '8px'} 32px 24px 32px;${FONT}font-size:16px;line-height:24px;color:${INK};">
${styleLinks(body, look)}
</td></tr>
</table>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;width:100%;">
<tr><td class="sf-footer" style="padding:16px 32px;${FONT}font-size:12px;line-height:18px;color:${MUTED};text-align:center;">
<p style="margin:0;">${store}</p>
${footerTextHtml(look)}
${unsubscribeUrl ? unsubscribeHtml(unsubscribeUrl, storeName) : ''}
</td></tr>
</table>
<!--[if mso]></td></tr></table><![endif]-->
</td></tr>
</table>
</body>
</html>`
}

/**
 * The same layout stripped to what the plain-text part is made of: the table structure, the
 * header (the logo, whose alt text is the store name, or the name), the body and the footer,
 * without the head, the preheader (skipped in text anyway) and the inline styles. Converting it
 * gives the same text as converting `renderLayout`'s output in about half the time, since the
 * layout's markup is larger than a typical body. A whole document is returned as `renderLayout`
 * makes it.
 */
export function renderLayoutForText(options: LayoutOptions): string {
  const { body, storeName, unsubscribeUrl } = options
  if (/<html[\s>]/i.test(body)) return completeDocument(body, options)
  const store = escapeHtml(storeName)
  const look = lookOf(options.brand)
  return `<table><tr><td>
<table><tr><td>${headerHtml(storeName, look, false)}</td></tr>
<tr><td>
${body}
</td></tr>
</table>
<table><tr><td>
<p>${store}</p>
${footerTextHtml(look)}
${unsubscribeUrl ? unsubscribeHtml(unsubscribeUrl, storeName) : ''}
</td></tr>
</table>
</td></tr>
</table>`
}

/** A template that is already a whole document keeps its design; it still gets the preheader and unsubscribe link. */
function completeDocument(doc: string, { storeName, preheader, unsubscribeUrl }: LayoutOptions): string {
  let html = doc
  if (preheader) html = html.replace(/<body([^>]*)>/i, (m) => `${m}${preheaderHtml(preheader)}`)
  if (unsubscribeUrl && !html.includes(unsubscribeUrl)) {
    const footer = `<div style="text-align:center;padding:16px;">${unsubscribeHtml(unsubscribeUrl, storeName)}</div>`
    html = /<\/body>/i.test(html) ? html.replace(/<\/body>/i, `${footer}</body>`) : html + footer
  }
  return html
}
