import { fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { createTransport } from 'nodemailer'
import { closeSmtpTransports } from '../src/actions/send-email/index.ts'
import { SMTP_POOL_OPTIONS } from '../src/actions/send-email/smtp.ts'
import { applyTracking } from '../src/core/messaging/index.ts'
import { Worker } from '../src/engine/worker.ts'
import { silentLogger } from '../src/lib/logger.ts'
import type { App } from '../src/main.ts'
import { createBenchEnv, round, sleep, type Dialect } from './lib/env.ts'
import { ingestOrders } from './lib/seed.ts'
import { installWorkflow } from './lib/workflows.ts'

const RUN_TS = fileURLToPath(new URL('../bin/run-ts.mjs', import.meta.url))
const SINK = fileURLToPath(new URL('./smtp-sink.ts', import.meta.url))

/** An order confirmation: Liquid over customer and order, a loop over line items, money filters. */
const ORDER_CONFIRMATION = `id: order-confirmation
name: Order confirmation
trigger: { event: order.paid }
steps:
  - action: send_email
    with:
      category: transactional
      subject: 'Order {{ trigger.data.number }} confirmed, thank you {{ customer.first_name }}'
      preheader: 'Your order of {{ trigger.data.total_price }} {{ trigger.data.currency }} is on its way soon'
      html: |
        <h1>Thanks for your order, {{ customer.first_name | default: "there" }}!</h1>
        <p>Order <strong>{{ trigger.data.number }}</strong> was paid on {{ trigger.occurred_at | date: "%B %d, %Y" }}.</p>
        <table>
        {% for item in trigger.data.line_items %}
          <tr><td>{{ item.title }}</td><td>{{ item.quantity }} ×</td><td>{{ item.price }} {{ trigger.data.currency }}</td></tr>
        {% endfor %}
          <tr><td colspan="2">Shipping</td><td>{{ trigger.data.shipping_price }}</td></tr>
          <tr><td colspan="2"><strong>Total</strong></td><td><strong>{{ trigger.data.total_price }} {{ trigger.data.currency }}</strong></td></tr>
        </table>
        <p>Ship to: {{ trigger.data.shipping_address.address1 }}, {{ trigger.data.shipping_address.city }} {{ trigger.data.shipping_address.zip }}</p>
        <p><a href="https://shop.example.test/account/orders/{{ trigger.data.id }}">View your order</a> ·
           <a href="https://shop.example.test/collections/new-arrivals">New arrivals</a></p>`

export interface EmailResult {
  emails: number
  emails_per_s: number
  seconds: number
  /** engine process CPU (user+system, every thread) per delivered message */
  cpu_ms_per_email: number
  /** the engine's main thread alone (Linux; null elsewhere): the run path's share */
  main_thread_cpu_ms_per_email: number | null
  sink_cpu_ms_per_email: number
  avg_message_bytes: number
  /** the ceiling: plain nodemailer, the same pool options, the same message, the same sink */
  nodemailer: { emails: number; emails_per_s: number; seconds: number; cpu_ms_per_email: number }
  /** storeflow's rate over plain nodemailer's */
  ratio: number
}

/** CPU time of this process's main thread, ms, from /proc (clock ticks of 10 ms); null off Linux. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return null
  }
}

function ask<T>(child: ChildProcess, msg: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m: T) => resolve(m))
    child.send(msg)
  })
}

/** order.paid → send_email (transactional, inline Liquid) delivered over pooled SMTP to a local sink by a Worker. */
export async function benchEmails(dialect: Dialect, count: number, timeoutMs: number): Promise<EmailResult> {
  const sink = fork(RUN_TS, [SINK], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { port } = await new Promise<{ port: number }>((resolve) => sink.once('message', resolve))
  const env = await createBenchEnv(dialect, { env: { SMTP_URL: `smtp://127.0.0.1:${port}`, STOREFLOW_PUBLIC_URL: 'https://shop.example.test' } })
  try {
    await installWorkflow(env.app, ORDER_CONFIRMATION)
    await ingestOrders(env.app, count, { tag: 'mail' })
    const sinkBefore = await ask<{ received: number; cpuMs: number }>(sink, 'count')
    const worker = new Worker(env.app.engine, silentLogger)
    const cpu0 = process.cpuUsage()
    const main0 = mainThreadCpuMs()
    const t0 = performance.now()
    worker.start()
    let state = { received: 0, bytes: 0, cpuMs: 0 }
    while (performance.now() - t0 < timeoutMs) {
      await sleep(100)
      state = await ask(sink, 'count')
      if (state.received >= count) break
    }
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const main1 = mainThreadCpuMs()
    await worker.stop()
    closeSmtpTransports()
    const n = state.received
    const emailsPerS = Math.round(n / seconds)
    const nodemailer = await plainNodemailer(env.app, sink, port, count, timeoutMs)
    return {
      emails: n,
      emails_per_s: emailsPerS,
      seconds: round(seconds, 2),
      cpu_ms_per_email: round((cpu.user + cpu.system) / 1000 / Math.max(1, n), 2),
      main_thread_cpu_ms_per_email: main0 === null || main1 === null ? null : round((main1 - main0) / Math.max(1, n), 2),
      sink_cpu_ms_per_email: round((state.cpuMs - sinkBefore.cpuMs) / Math.max(1, n), 2),
      avg_message_bytes: Math.round(state.bytes / Math.max(1, n)),
      nodemailer,
      ratio: round(emailsPerS / Math.max(1, nodemailer.emails_per_s), 3),
    }
  } finally {
    closeSmtpTransports()
    await env.cleanup()
    sink.send('stop')
  }
}

/**
 * The ceiling: one message storeflow sent (as it left, tracking applied), handed to a plain
 * nodemailer transport with storeflow's pool options `count` times at once, to the same sink.
 * Only the Message-ID differs per copy, as it does between storeflow's messages.
 */
async function plainNodemailer(app: App, sink: ChildProcess, port: number, count: number, timeoutMs: number): Promise<EmailResult['nodemailer']> {
  const { rows } = await sql<{ id: string; to_addr: string; from_addr: string; subject: string; html: string; text: string; headers: string | object }>`
    select id, to_addr, from_addr, subject, html, text, headers from messages where status = 'sent' limit 1`.execute(app.handle.db)
  const row = rows[0]
  if (!row) throw new Error('email bench: storeflow sent nothing, so there is no message for the nodemailer ceiling')
  const headers = (typeof row.headers === 'string' ? JSON.parse(row.headers) : row.headers) as Record<string, string>
  const html = applyTracking(row.html, { publicUrl: app.config.publicUrl, secretKey: app.config.secretKey, messageId: row.id })
  const transport = createTransport({ url: `smtp://127.0.0.1:${port}`, ...SMTP_POOL_OPTIONS } as Parameters<typeof createTransport>[0])
  try {
    const before = await ask<{ received: number }>(sink, 'count')
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const sends = Array.from({ length: count }, () =>
      transport.sendMail({
        from: row.from_addr,
        to: row.to_addr,
        subject: row.subject,
        html,
        text: row.text,
        headers,
        messageId: `<${randomUUID()}@bench.test>`,
      }),
    )
    let received = 0
    while (performance.now() - t0 < timeoutMs) {
      await sleep(100)
      received = (await ask<{ received: number }>(sink, 'count')).received - before.received
      if (received >= count) break
    }
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    await Promise.allSettled(sends)
    return {
      emails: received,
      emails_per_s: Math.round(received / seconds),
      seconds: round(seconds, 2),
      cpu_ms_per_email: round((cpu.user + cpu.system) / 1000 / Math.max(1, received), 2),
    }
  } finally {
    transport.close()
  }
}
