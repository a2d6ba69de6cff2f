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
  /**
   * From now on, keep each message's answer back: the sender waits with the whole message in the
   * sink's hands. If the sender goes away meanwhile (kill -9), `fate` says what the sink does with
   * it: `delivered` (it had every byte, as a server that queues before answering would) or
   * `dropped` (it never said yes, so it never took it). The crash tests use this to land a kill
   * at a known point of a send. `after`: answer that many more messages first. `to`: hold only
   * messages to this address (the others are answered as usual).
   */
  hold(fate: HeldFate, options?: { after?: number; to?: string }): void
  /** Message-IDs held now, waiting for their answer */
  held(): string[]
  /** Message-IDs of held messages whose sender went away before the answer (kept or dropped by their fate) */
  cutOff(): string[]
  /** answer every held message with 250 (they count as received) and stop holding */
  release(): void
  /**
   * The next `n` messages are taken (they count as received) but the connection is closed
   * instead of answered: the sender cannot know the message arrived.
   */
  dropConnectionAfterData(n: number): void
  /** Message-ID → how many times it was received */
  deliveries(): Map<string, number>
  /**
   * While set, the server is down for mail (with `outages: true`): new connections are answered with this reply and
   * closed, and on connections already open MAIL FROM and DATA are refused with it (no message
   * is taken). `null` takes mail again.
   */
  outage(reply: { code: number; message: string } | null): void
  /** connections, MAIL FROMs and DATAs refused because of outage() */
  outageRefusals(): number
  /** messages whose DATA has arrived and whose answer is not sent yet (delayMs at work) */
  answering(): number
  close(): Promise<void>
}

export type HeldFate = 'delivered' | 'dropped'

/**
 * How the sender learnt that a message it handed over was taken: `answered` (250 on a live
 * connection), `cut` (the sink closed the connection instead: dropConnectionAfterData) or
 * `sender gone` (the sender's connection closed before the answer). Only an `answered` copy is
 * one the sender may know about.
 */
export type CopyFate = 'answered' | 'cut' | 'sender gone'

export interface SmtpSinkOptions {
  /** delay before answering each DATA, ms; default 0 */
  delayMs?: number
  /** skip mailparser and keep only the Message-ID (fast, for large batches) */
  messageIdsOnly?: boolean
  /**
   * refuse new connections and MAIL FROM too while outage() is set (hooks on every connection
   * and envelope, so off unless asked for: without it an outage refuses DATA only)
   */
  outages?: boolean
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink & { messageIds: string[]; subjects: string[]; fates: CopyFate[] }> {
  const received: ParsedMail[] = []
  const messageIds: string[] = []
  /** each accepted message's Subject, beside its Message-ID in `messageIds` */
  const subjects: string[] = []
  /** how each accepted message's sender learnt of it, beside its Message-ID in `messageIds` */
  const fates: CopyFate[] = []
  /** sessions whose connection has closed */
  const closed = new Set<string>()
  let down: { code: number; message: string } | null = null
  let downRefusals = 0
  let answering = 0
  const refusal = (reply: { code: number; message: string }) => {
    downRefusals++
    return Object.assign(new Error(reply.message), { responseCode: reply.code })
  }
  const refusals: Array<{ code: number; message: string }> = []
  let dataCommands = 0
  let holding: HeldFate | null = null
  /** DATA commands after which holding starts */
  let holdFrom = 0
  /** with hold(): only messages to this address are held */
  let holdTo: string | null = null
  const heldNow: Array<{ session: string; messageId: string; raw: Buffer; fate: HeldFate; callback: (err?: Error | null) => void }> = []
  let connectionDrops = 0
  const cutOffIds: string[] = []

  /** keeps a message as received; mailparser runs unless only Message-IDs are wanted */
  const keep = async (raw: Buffer, fate: CopyFate = 'answered'): Promise<void> => {
    if (options.messageIdsOnly) {
      messageIds.push(messageIdOf(raw))
      subjects.push(subjectOf(raw))
      fates.push(fate)
      return
    }
    const mail = await simpleParser(raw)
    received.push(mail)
    messageIds.push(mail.messageId ?? '')
    subjects.push(mail.subject ?? '')
    fates.push(fate)
  }

  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    ...(options.outages
      ? {
          onConnect(_session: unknown, callback: (err?: Error | null) => void) {
            callback(down ? refusal(down) : null)
          },
          onMailFrom(_address: unknown, _session: unknown, callback: (err?: Error | null) => void) {
            callback(down ? refusal(down) : null)
          },
        }
      : {}),
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        dataCommands++
        const raw = Buffer.concat(chunks)
        if (down) {
          callback(refusal(down))
          return
        }
        if (holding && dataCommands > holdFrom && (holdTo === null || session.envelope.rcptTo.some((r) => r.address === holdTo))) {
          heldNow.push({ session: session.id, messageId: messageIdOf(raw), raw, fate: holding, callback })
          return
        }
        if (connectionDrops > 0) {
          connectionDrops--
          void keep(raw, 'cut').then(() => {
            for (const connection of server.connections) if (connection.session.id === session.id) connection.close()
          })
          return
        }
        const answer = () => {
          const refusal = refusals.shift()
          if (refusal) {
            callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }))
            return
          }
          keep(raw, closed.has(session.id) ? 'sender gone' : 'answered').then(() => callback(), callback)
        }
        if (options.delayMs) {
          answering++
          setTimeout(() => {
            answering--
            answer()
          }, options.delayMs)
        } else answer()
      })
    },
    onClose(session) {
      closed.add(session.id)
      // a sender that went away while its message was held: the sink decides what it had
      for (let i = heldNow.length - 1; i >= 0; i--) {
        const entry = heldNow[i]!
        if (entry.session !== session.id) continue
        heldNow.splice(i, 1)
        cutOffIds.push(entry.messageId)
        if (entry.fate === 'delivered') void keep(entry.raw, 'sender gone')
      }
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
    subjects,
    fates,
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
    hold(fate, holdOptions = {}) {
      holding = fate
      holdFrom = dataCommands + (holdOptions.after ?? 0)
      holdTo = holdOptions.to ?? null
    },
    held: () => heldNow.map((h) => h.messageId),
    cutOff: () => [...cutOffIds],
    release() {
      holding = null
      holdTo = null
      for (const entry of heldNow.splice(0)) keep(entry.raw).then(() => entry.callback(), entry.callback)
    },
    dropConnectionAfterData(n) {
      connectionDrops += n
    },
    deliveries() {
      const counts = new Map<string, number>()
      for (const id of messageIds) counts.set(id, (counts.get(id) ?? 0) + 1)
      return counts
    },
    outage(reply) {
      down = reply
    },
    outageRefusals: () => downRefusals,
    answering: () => answering,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function messageIdOf(raw: Buffer): string {
  return /^message-id:\s*(<[^>\r\n]+>)/im.exec(raw.toString('utf8'))?.[1] ?? ''
}

/** the Subject header, unfolded (as sent: an encoded-word stays encoded) */
function subjectOf(raw: Buffer): string {
  const head = raw.toString('utf8').split(/\r?\n\r?\n/, 1)[0] ?? ''
  return (
    /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im
      .exec(head)?.[1]
      ?.replace(/\r?\n[ \t]+/g, ' ')
      .trim() ?? ''
  )
}

/** A header line as it arrived (mailparser folds List-* headers into a structured `list` field). */
export function rawHeader(mail: ParsedMail, key: string): string | undefined {
  return mail.headerLines.find((h) => h.key === key.toLowerCase())?.line.replace(/\r?\n\s+/g, ' ')
}
