import { clickUrl, openPixelUrl } from './tokens.ts'

/**
 * Click and open tracking, applied when a message leaves (not when it is stored), so the outbox
 * keeps the clean HTML and reading it in the dashboard never counts as an open or a click.
 */
export interface TrackingOptions {
  publicUrl: string
  secretKey: string
  /** the outbox row id the tokens point at */
  messageId: string
}

const ANCHOR_HREF = /(<a\b[^>]*?\shref\s*=\s*)("([^"]*)"|'([^']*)')([^>]*>)/gi

/**
 * Rewrites every `http(s)` link in an `<a href>` through a signed click URL. Every `<a>` here is
 * the store's: the body's Liquid output is HTML-escaped (actions/send-email/render.ts), so a
 * customer's text cannot add a link; only the template's markup and values it prints with
 * `| raw` can, and we sign those, never a customer's. Left alone:
 * mailto:/tel:, `#` anchors, our own unsubscribe link (marked `data-sf-unsubscribe`, or any link
 * to `/u/` on the public URL) and links marked `data-sf-no-track`.
 */
export function rewriteLinks(html: string, options: TrackingOptions): string {
  const publicBase = options.publicUrl.replace(/\/+$/, '')
  return html.replace(ANCHOR_HREF, (whole, before: string, _quoted: string, dq: string | undefined, sq: string | undefined, after: string) => {
    const raw = dq ?? sq ?? ''
    const tag = before + after
    if (/\bdata-sf-(unsubscribe|no-track)\b/i.test(tag)) return whole
    const url = decodeEntities(raw).trim()
    if (!/^https?:\/\//i.test(url)) return whole
    if (url.startsWith(`${publicBase}/u/`) || url.startsWith(`${publicBase}/t/`)) return whole
    return `${before}"${clickUrl(options.publicUrl, options.secretKey, options.messageId, url)}"${after}`
  })
}

/** Adds the 1×1 open pixel just before `</body>` (or at the end of a fragment). */
export function appendOpenPixel(html: string, options: TrackingOptions): string {
  const pixel = `<img src="${openPixelUrl(options.publicUrl, options.secretKey, options.messageId)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px;" />`
  const close = html.search(/<\/body>/i)
  return close === -1 ? html + pixel : html.slice(0, close) + pixel + html.slice(close)
}

export function applyTracking(html: string, options: TrackingOptions): string {
  return appendOpenPixel(rewriteLinks(html, options), options)
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt|#39);/gi, (m, code: string) => {
    const c = code.toLowerCase()
    if (c === 'amp') return '&'
    if (c === 'quot') return '"'
    if (c === 'apos' || c === '#39') return "'"
    if (c === 'lt') return '<'
    if (c === 'gt') return '>'
    const n = c.startsWith('#x') ? parseInt(c.slice(2), 16) : parseInt(c.slice(1), 10)
    return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m
  })
}
