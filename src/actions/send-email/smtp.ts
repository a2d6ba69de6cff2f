import { createTransport, type Transporter } from 'nodemailer'
import { errorMessage } from '../../lib/errors.ts'
import { PermanentError, RetryableError } from '../../plugin-api/index.ts'

/**
 * One pooled nodemailer transport per SMTP URL for the life of the process: opening an SMTP
 * session (and TLS) per message would cap throughput far below the 500 emails/s target.
 */
const transports = new Map<string, Transporter>()

/** The pool every SMTP URL gets; the benchmark's plain-nodemailer ceiling uses the same. */
export const SMTP_POOL_OPTIONS = { pool: true, maxConnections: 5, maxMessages: 500 } as const

export function smtpTransport(url: string): Transporter {
  let transport = transports.get(url)
  if (!transport) {
    transport = createTransport({ url, ...SMTP_POOL_OPTIONS } as Parameters<typeof createTransport>[0])
    transports.set(url, transport)
  }
  return transport
}

/** Closes every pooled connection (shutdown, tests). */
export function closeSmtpTransports(): void {
  for (const transport of transports.values()) transport.close()
  transports.clear()
}

export interface OutgoingMail {
  from: string | { name: string; address: string }
  to: string
  replyTo?: string
  subject: string
  html: string
  text: string
  messageId: string
  headers: Record<string, string>
}

export interface SmtpResult {
  /** the server's final reply, e.g. `250 OK: queued as 1234` */
  response: string
}

export async function sendSmtp(url: string, mail: OutgoingMail): Promise<SmtpResult> {
  try {
    const info = (await smtpTransport(url).sendMail({
      from: mail.from,
      to: mail.to,
      ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      messageId: mail.messageId,
      headers: mail.headers,
    })) as { response?: string; rejected?: unknown[] }
    if (Array.isArray(info.rejected) && info.rejected.length > 0) {
      throw new PermanentError(`SMTP server rejected the recipient ${mail.to}: ${info.response ?? ''}`.trim(), { reason: 'bounced' })
    }
    return { response: info.response ?? '' }
  } catch (err) {
    throw classifySmtpError(err)
  }
}

/**
 * 4xx replies and broken connections are transient (greylisting, rate limits, a restarting
 * relay): retry with backoff. 5xx replies are final; the error carries the server's own words so
 * the run timeline shows them.
 */
export function classifySmtpError(err: unknown): RetryableError | PermanentError {
  if (err instanceof RetryableError || err instanceof PermanentError) return err
  const e = err as { responseCode?: number; response?: string; code?: string; command?: string }
  const reply = (e.response ?? errorMessage(err)).trim()
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) {
    // refused at RCPT TO: the address itself is bad (a hard bounce), not the message
    const bounced = e.code === 'EENVELOPE' || /RCPT/i.test(e.command ?? '')
    return new PermanentError(`SMTP ${e.responseCode}: ${reply}`, {
      reason: bounced ? 'bounced' : 'smtp_rejected',
      cause: err,
      details: { responseCode: e.responseCode, response: reply },
    })
  }
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) {
    return new RetryableError(`SMTP ${e.responseCode}: ${reply}`, { cause: err, details: { responseCode: e.responseCode, response: reply } })
  }
  return new RetryableError(`SMTP unavailable: ${reply}`, { cause: err, details: { code: e.code ?? null } })
}

/** True when the server answered, so we know the message was not accepted. */
export function serverRefused(err: unknown): boolean {
  const details = (err as { details?: { responseCode?: unknown } }).details
  return typeof details?.responseCode === 'number'
}
