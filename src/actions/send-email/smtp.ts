import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { SendMailOptions } from 'nodemailer'
import { errorMessage } from '../../lib/errors.ts'
import { PermanentError, RetryableError } from '../../plugin-api/index.ts'

/**
 * One pooled nodemailer transport per SMTP URL for the life of the process: opening an SMTP
 * session (and TLS) per message would cap throughput far below the 500 emails/s target.
 */
export const SMTP_POOL_OPTIONS = { pool: true, maxConnections: 5, maxMessages: 500 } as const

/**
 * The pools live in a thread of their own: building the MIME message, encoding it and streaming
 * it to the server costs about as much CPU as everything else a send does, and on the main thread
 * it would hold up advancing other runs. The thread is plain CommonJS evaluated from this string,
 * so it needs no TypeScript loader (and runs the same from compiled JavaScript). It only moves
 * bytes: what a reply means is decided here, from the fields it sends back.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createTransport } = require(workerData.nodemailer)
const transports = new Map()
let replies = []
const flush = () => {
  parentPort.postMessage(replies)
  replies = []
}
const reply = (answer) => {
  if (replies.push(answer) === 1) setImmediate(flush)
}
const send = (msg) => {
  let transport = transports.get(msg.url)
  if (!transport) {
    transport = createTransport({ url: msg.url, ...workerData.pool })
    transports.set(msg.url, transport)
  }
  transport.sendMail(msg.mail).then(
    (info) => reply({ id: msg.id, response: info.response, rejected: Array.isArray(info.rejected) ? info.rejected.length : 0 }),
    (err) =>
      reply({
        id: msg.id,
        error: { message: String((err && err.message) || err), responseCode: err && err.responseCode, response: err && err.response, code: err && err.code, command: err && err.command },
      }),
  )
}
parentPort.on('message', (msgs) => {
  for (const msg of msgs) {
    if (!msg.close) {
      send(msg)
      continue
    }
    for (const transport of transports.values()) transport.close()
    transports.clear()
    parentPort.close()
    return
  }
})
`

interface ThreadReply {
  id: number
  response?: string
  rejected?: number
  error?: { message: string; responseCode?: number; response?: string; code?: string; command?: string }
}

interface SmtpThread {
  worker: Worker
  waiting: Map<number, { resolve: (reply: ThreadReply) => void; reject: (err: unknown) => void }>
  /**
   * Messages for the thread, posted together once this turn of the event loop is done: one
   * wake-up of the thread for many sends (and one for many replies, the other way).
   */
  outgoing: unknown[]
}

let current: SmtpThread | null = null
let nextId = 0

function smtpThread(): SmtpThread {
  if (current) return current
  const nodemailer = createRequire(import.meta.url).resolve('nodemailer')
  const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { nodemailer, pool: SMTP_POOL_OPTIONS } })
  const started: SmtpThread = { worker, waiting: new Map(), outgoing: [] }
  worker.on('message', (replies: ThreadReply[]) => {
    for (const reply of replies) {
      const waiting = started.waiting.get(reply.id)
      if (!waiting) continue
      started.waiting.delete(reply.id)
      waiting.resolve(reply)
    }
    if (started.waiting.size === 0) worker.unref()
  })
  // a thread that died took its connections with it: its sends' outcome is unknown, as after a
  // broken connection, and the next send starts a new thread
  const fail = (err: unknown) => {
    if (current === started) current = null
    for (const waiting of started.waiting.values()) waiting.reject(err)
    started.waiting.clear()
  }
  worker.on('error', fail)
  worker.on('exit', (code) => fail(Object.assign(new Error(`SMTP thread exited (${code})`), { code: 'ETHREAD' })))
  worker.unref()
  current = started
  return started
}

/** Closes every pooled connection (shutdown, tests); the thread ends with them. */
export function closeSmtpTransports(): void {
  if (!current) return
  post(current, { close: true })
  current = null
}

function post(thread: SmtpThread, msg: unknown): void {
  if (thread.outgoing.push(msg) > 1) return
  setImmediate(() => {
    thread.worker.postMessage(thread.outgoing)
    thread.outgoing = []
  })
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
  /** files sent with the message (a purchase order's CSV); text content, built again the same on every attempt */
  attachments?: Array<{ filename: string; content: string; contentType: string }>
}

export interface SmtpResult {
  /** the server's final reply, e.g. `250 OK: queued as 1234` */
  response: string
}

export async function sendSmtp(url: string, mail: OutgoingMail): Promise<SmtpResult> {
  const reply = await handOver(url, {
    from: mail.from,
    to: mail.to,
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    messageId: mail.messageId,
    headers: mail.headers,
    ...(mail.attachments ? { attachments: mail.attachments } : {}),
  }).catch((err: unknown) => {
    throw classifySmtpError(err)
  })
  if (reply.error) throw classifySmtpError(Object.assign(new Error(reply.error.message), reply.error))
  if (reply.rejected) throw new PermanentError(`SMTP server rejected the recipient ${mail.to}: ${reply.response ?? ''}`.trim(), { reason: 'bounced' })
  return { response: reply.response ?? '' }
}

function handOver(url: string, mail: SendMailOptions): Promise<ThreadReply> {
  const thread = smtpThread()
  const id = nextId++
  return new Promise<ThreadReply>((resolve, reject) => {
    thread.waiting.set(id, { resolve, reject })
    // a send under way keeps the process alive, as its socket would on the main thread
    thread.worker.ref()
    post(thread, { id, url, mail })
  })
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
  // no connection at all (refused, unreachable, no such host): the server never saw this copy
  const unreached = (e.code === 'ESOCKET' && /^connect /.test(errorMessage(err))) || e.code === 'EDNS'
  return new RetryableError(`SMTP unavailable: ${reply}`, { cause: err, details: { code: e.code ?? null, ...(unreached ? { unreached: true } : {}) } })
}

/**
 * True when we know the server did not take the message: it answered (with an error), or it could
 * not be reached at all. A connection cut later (even one nodemailer reports under CONN, as it
 * does for a close after the data) may have delivered it.
 */
export function serverRefused(err: unknown): boolean {
  const details = (err as { details?: { responseCode?: unknown; unreached?: unknown } }).details
  return typeof details?.responseCode === 'number' || details?.unreached === true
}

/**
 * Opens a session with the SMTP server at `url` and ends it without sending (storeflow doctor):
 * connection, greeting, STARTTLS and login as a send would do them, each step within `timeoutMs`.
 * Rejects with nodemailer's error when the server does not take us.
 */
export async function verifySmtp(url: string, timeoutMs: number): Promise<void> {
  const { createTransport } = createRequire(import.meta.url)('nodemailer') as typeof import('nodemailer')
  const transport = createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs })
  try {
    await transport.verify()
  } finally {
    transport.close()
  }
}
