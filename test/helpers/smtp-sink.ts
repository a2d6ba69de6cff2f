import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/** A real SMTP server on 127.0.0.1 (port 0) that keeps what it accepts, parsed by mailparser. */
export interface SmtpSink {
  url: string
  /** every message accepted, in order */
  received: ParsedMail[]
  /** refuse the next messages with these replies (e.g. 451, 550), one per DATA */
  refuse(...replies: Array<{ code: number; message: string }>): void
  /** DATA commands seen, accepted or refused */
  attempts(): number
  /** resolves when `n` messages have been accepted */
  waitForMessages(n: number, timeoutMs?: number): Promise<ParsedMail[]>
  close(): Promise<void>
}

export interface SmtpSinkOptions {
  /** delay before answering each DATA, ms; default 0 */
  delayMs?: number
  /** skip mailparser and keep only the Message-ID (fast, for large batches) */
  messageIdsOnly?: boolean
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink & { messageIds: string[] }> {
  const received: ParsedMail[] = []
  const messageIds: string[] = []
  const refusals: Array<{ code: number; message: string }> = []
  let dataCommands = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        dataCommands++
        const answer = () => {
          const refusal = refusals.shift()
          if (refusal) {
            callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }))
            return
          }
          const raw = Buffer.concat(chunks)
          if (options.messageIdsOnly) {
            const header = /^message-id:\s*(<[^>\r\n]+>)/im.exec(raw.toString('utf8'))
            messageIds.push(header?.[1] ?? '')
            callback()
            return
          }
          simpleParser(raw).then((mail) => {
            received.push(mail)
            messageIds.push(mail.messageId ?? '')
            callback()
          }, callback)
        }
        if (options.delayMs) setTimeout(answer, options.delayMs)
        else answer()
      })
    },
  })
  // a client killed mid-session (the crash tests do that on purpose) resets its connection
  server.on('error', () => undefined)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as AddressInfo).port
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    messageIds,
    refuse: (...replies) => void refusals.push(...replies),
    attempts: () => dataCommands,
    async waitForMessages(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`SMTP sink: expected ${n} messages, got ${received.length}`)
        await new Promise((r) => setTimeout(r, 10))
      }
      return received
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A header line as it arrived (mailparser folds List-* headers into a structured `list` field). */
export function rawHeader(mail: ParsedMail, key: string): string | undefined {
  return mail.headerLines.find((h) => h.key === key.toLowerCase())?.line.replace(/\r?\n\s+/g, ' ')
}
