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
}

const UNSUBSCRIBE_MARKER = 'data-sf-unsubscribe'

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)
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
    `<p class="sf-unsubscribe" style="margin:8px 0 0 0;font-size:12px;line-height:18px;color:#6b7280;">` +
    `You receive this because you subscribed to news from ${escapeHtml(storeName)}. ` +
    `<a href="${escapeHtml(url)}" ${UNSUBSCRIBE_MARKER}="1" style="color:#6b7280;text-decoration:underline;">Unsubscribe</a></p>`
  )
}

export function renderLayout(options: LayoutOptions): string {
  const { body, storeName, preheader, unsubscribeUrl } = options
  if (/<html[\s>]/i.test(body)) return completeDocument(body, options)
  const store = escapeHtml(storeName)
  return `<!DOCTYPE html>
<html lang="${escapeHtml(options.lang ?? 'en')}" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>${store}</title>
</head>
<body style="margin:0;padding:0;width:100%;background-color:#f4f4f5;-webkit-text-size-adjust:100%;-ms-text-size-adjust:100%;">
${preheader ? preheaderHtml(preheader) : ''}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f5;">
<tr><td align="center" style="padding:24px 12px;">
<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;width:100%;background-color:#ffffff;border-radius:6px;">
<tr><td style="padding:24px 32px 8px 32px;font-family:Helvetica,Arial,sans-serif;font-size:20px;line-height:28px;font-weight:bold;color:#111827;">${store}</td></tr>
<tr><td class="sf-body" style="padding:8px 32px 24px 32px;font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;color:#111827;">
${body}
</td></tr>
</table>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;width:100%;">
<tr><td class="sf-footer" style="padding:16px 32px;font-family:Helvetica,Arial,sans-serif;font-size:12px;line-height:18px;color:#6b7280;text-align:center;">
<p style="margin:0;">${store}</p>
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
 * The same layout stripped to what the plain-text part is made of: the table structure, the store
 * name, the body and the footer, without the head, the preheader (skipped in text anyway) and the
 * inline styles. Converting it gives the same text as converting `renderLayout`'s output in about
 * half the time, since the layout's markup is larger than a typical body. A whole document is
 * returned as `renderLayout` makes it.
 */
export function renderLayoutForText(options: LayoutOptions): string {
  const { body, storeName, unsubscribeUrl } = options
  if (/<html[\s>]/i.test(body)) return completeDocument(body, options)
  const store = escapeHtml(storeName)
  return `<table><tr><td>
<table><tr><td>${store}</td></tr>
<tr><td>
${body}
</td></tr>
</table>
<table><tr><td>
<p>${store}</p>
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
