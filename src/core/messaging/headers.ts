import { sha256Hex } from './tokens.ts'

/**
 * A Message-ID that is the same on every attempt of one step: `<sha256(idempotencyKey)@host>`.
 * If a crash forces a resend, receiving servers and clients can see it is the same message, and
 * so can we when reconciling with the SMTP server's log.
 */
export function stableMessageId(idempotencyKey: string, publicUrl: string): string {
  let host = 'storeflow'
  try {
    host = new URL(publicUrl).hostname || host
  } catch {
    // a malformed public URL still gets a well-formed Message-ID
  }
  return `<${sha256Hex(idempotencyKey)}@${host}>`
}

/** RFC 2369 + RFC 8058 one-click unsubscribe headers; marketing mail only. */
export function listUnsubscribeHeaders(unsubscribeLink: string): Record<string, string> {
  return {
    'List-Unsubscribe': `<${unsubscribeLink}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  }
}
