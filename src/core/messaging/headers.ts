import { sha256Hex } from './tokens.ts'

/**
 * A Message-ID that is the same on every attempt of one step: `<sha256(idempotencyKey)@host>`.
 * If a crash forces a resend, receiving servers and clients can see it is the same message, and
 * so can we when reconciling with the SMTP server's log.
 */
export function stableMessageId(idempotencyKey: string, publicUrl: string): string {
  return `<${sha256Hex(idempotencyKey)}@${hostOf(publicUrl)}>`
}

/** the last public URL and its host: it is one URL per process, so parse it once */
let lastHost: { publicUrl: string; host: string } | null = null

function hostOf(publicUrl: string): string {
  if (lastHost?.publicUrl === publicUrl) return lastHost.host
  let host = 'storeflow'
  try {
    host = new URL(publicUrl).hostname || host
  } catch {
    // a malformed public URL still gets a well-formed Message-ID
  }
  lastHost = { publicUrl, host }
  return host
}

/** RFC 2369 + RFC 8058 one-click unsubscribe headers; marketing mail only. */
export function listUnsubscribeHeaders(unsubscribeLink: string): Record<string, string> {
  return {
    'List-Unsubscribe': `<${unsubscribeLink}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  }
}
