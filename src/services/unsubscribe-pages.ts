import { escapeHtml } from '../core/messaging/index.ts'

/**
 * The pages a customer sees after following an unsubscribe link: plain, one message each, and
 * saying only what happened. The HTTP edge picks the page and its status.
 */
export const unsubscribePages = {
  /** GET shows this: mail scanners prefetch links, and a GET must not unsubscribe */
  confirm: (token: string) =>
    page(
      'Unsubscribe',
      `<p>Stop receiving marketing email from us?</p><form method="post" action="/u/${escapeHtml(token)}"><button type="submit">Unsubscribe</button></form>`,
    ),
  notFound: () =>
    page(
      'This link is not valid',
      '<p>This unsubscribe link does not name a subscription we know. If you still receive our marketing email, use the link in the most recent one.</p>',
    ),
  unreachable: () => page('No address on file', '<p>We no longer hold an email address for you, so no marketing email from us can reach you.</p>'),
  failed: () => page('Please try again', '<p>Your unsubscribe could not be recorded just now. Please try the link again in a few minutes.</p>'),
  done: () => page('Unsubscribed', '<p>You have been unsubscribed and will receive no more marketing email from us.</p>'),
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
}
